//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// The environment of a hook: roleEnv=hook (set by the revision's script),
// the lifecycle variables the agent sets, and these, from the fleet's
// localtarget.Options.Env.
const (
	envProgram  = "FLEETDEPLOY_HA_PROGRAM"  // this program's executable: the hook script execs it
	envLog      = "FLEETDEPLOY_HA_LOG"      // the shared hook log
	envExecutor = "FLEETDEPLOY_HA_EXECUTOR" // PID of the executor process whose agent runs the hook
	envHookTime = "FLEETDEPLOY_HA_HOOK"     // how long a hook works, a time.Duration
)

// hookEnv returns the localtarget.Options.Env of a fleet whose hooks log to
// logPath, on behalf of executor process pid, each working for d.
func hookEnv(program, logPath string, pid int, d time.Duration) []string {
	return []string{envProgram + "=" + program, envLog + "=" + logPath,
		envExecutor + "=" + strconv.Itoa(pid), envHookTime + "=" + d.String()}
}

// hookMain is the program as a hook script of the deployed revision (the
// script execs it): it appends its start to the hook log, works (sleeps)
// for its hook time, and appends its end. Each line is one write to a file
// opened with O_APPEND, so lines of concurrent hooks in several processes
// never mix. The lines are
//
//	<executor-pid> <instance> <event> <start-unixnano> - <hook-pid>
//	<executor-pid> <instance> <event> <start-unixnano> <end-unixnano> <hook-pid>
//
// A run that has a start line and no end line was cut short. It returns the
// exit code.
func hookMain(stderr io.Writer) int {
	start := time.Now()
	if err := hook(start); err != nil {
		fmt.Fprintln(stderr, "ha hook:", err)
		return 1
	}
	return 0
}

// hook does hookMain's work.
func hook(start time.Time) error {
	get := func(name string) (string, error) {
		v := os.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("%s is not set; this program runs as a hook only from the revision's script", name)
		}
		return v, nil
	}
	var vals [5]string
	for i, name := range []string{envLog, envExecutor, envHookTime, "FLEETDEPLOY_INSTANCE_ID", "LIFECYCLE_EVENT"} {
		v, err := get(name)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	logPath, executor, instance, event := vals[0], vals[1], vals[3], vals[4]
	work, err := time.ParseDuration(vals[2])
	if err != nil {
		return fmt.Errorf("%s: %w", envHookTime, err)
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("%s %s %s %d", executor, instance, event, start.UnixNano())
	_, err = fmt.Fprintf(f, "%s - %d\n", prefix, os.Getpid())
	if err == nil {
		time.Sleep(work) // the deployed application's work, not a wait for anything
		_, err = fmt.Fprintf(f, "%s %d %d\n", prefix, time.Now().UnixNano(), os.Getpid())
	}
	return errors.Join(err, f.Close())
}
