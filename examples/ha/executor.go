//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/fleetdeploy/fleetdeploy/deploy"
	"github.com/fleetdeploy/fleetdeploy/deploy/dynamostore"
	"github.com/fleetdeploy/fleetdeploy/examples/internal/story"
	"github.com/fleetdeploy/fleetdeploy/target"
	"github.com/fleetdeploy/fleetdeploy/target/localtarget"
)

// roleEnv says which part the program plays: unset, the example itself;
// "executor", one of its executor processes (executorMain); "hook", a hook
// script of the deployed revision (hookMain).
const roleEnv = "FLEETDEPLOY_HA_ROLE"

// executorConfig is what an executor process is told on its command line.
type executorConfig struct {
	id       string        // its ExecutorID
	endpoint string        // DynamoDB (moto, through the example's proxy)
	table    string        // the store's table
	dir      string        // the work directory: fleet/, revisions/, the hook log
	leaseTTL time.Duration // Options.LeaseTTL
	interval time.Duration // SuperviseOptions.Interval
	hookTime time.Duration // how long each hook works
	verbose  bool
}

// args returns the command line that makes an executor process of c.
func (c executorConfig) args() []string {
	a := []string{"-id", c.id, "-endpoint", c.endpoint, "-table", c.table, "-dir", c.dir,
		"-lease-ttl", c.leaseTTL.String(), "-interval", c.interval.String(), "-hook", c.hookTime.String()}
	if c.verbose {
		a = append(a, "-v")
	}
	return a
}

// Paths under the work directory.
func fleetDir(dir string) string    { return filepath.Join(dir, "fleet") }
func revisionDir(dir string) string { return filepath.Join(dir, "revisions") }
func hookLog(dir string) string     { return filepath.Join(dir, "hooks.log") }

// executorMain is the program as one of the example's executor processes:
// an Executor on the shared table and the shared fleet directory, under
// its own ExecutorID, that runs Supervise until ctx ends (SIGTERM or
// SIGINT) or its standard input closes (the example is gone).
//
// It speaks a line protocol: on standard input, "run <deployment-id>" makes
// it Run that deployment; on standard output it says "ready" once it
// supervises, "ran <id> <status>" when a Run returns and "resumed <id>
// <status>" when a Resume the supervisor made returns (<status> is
// "error: …" for an error). Logs go to standard error.
func executorMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c executorConfig
	fs := story.NewFlagSet("ha-executor", stderr, "usage: FLEETDEPLOY_HA_ROLE=executor ha -id ID -endpoint URL -table NAME -dir DIR [flags]",
		"One executor process of the ha example; the example starts three.")
	fs.StringVar(&c.id, "id", "", "the executor's `ID` (Options.ExecutorID)")
	fs.StringVar(&c.endpoint, "endpoint", "", "DynamoDB endpoint `URL`")
	fs.StringVar(&c.table, "table", "", "the store's DynamoDB `table`")
	fs.StringVar(&c.dir, "dir", "", "the example's work `directory`")
	fs.DurationVar(&c.leaseTTL, "lease-ttl", 2*time.Second, "Options.LeaseTTL")
	fs.DurationVar(&c.interval, "interval", 500*time.Millisecond, "SuperviseOptions.Interval")
	fs.DurationVar(&c.hookTime, "hook", 100*time.Millisecond, "how long each hook works")
	fs.BoolVar(&c.verbose, "v", false, "debug logging")
	if code, ok := story.ParseFlags(fs, args); !ok {
		return code
	}
	if c.id == "" || c.endpoint == "" || c.table == "" || c.dir == "" {
		fmt.Fprintln(stderr, "ha-executor: -id, -endpoint, -table and -dir are required")
		return story.ExitUsage
	}
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("executor", c.id)
	if err := runExecutor(ctx, c, stdin, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "ha-executor %s: %v\n", c.id, err)
		return story.ExitFailure
	}
	return story.ExitOK
}

// runExecutor does executorMain's work; it returns nil once ctx ended and
// everything it started has returned.
func runExecutor(ctx context.Context, c executorConfig, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	program, err := os.Executable()
	if err != nil {
		return err
	}
	store, err := dynamostore.New(dynamodb.NewFromConfig(awsConfig(c.endpoint, nil)), c.table)
	if err != nil {
		return err
	}
	src, err := newSource(revisionDir(c.dir))
	if err != nil {
		return err
	}
	fleet, err := localtarget.New(fleetDir(c.dir), src, func(o *localtarget.Options) {
		o.Logger = logger
		o.Env = hookEnv(program, hookLog(c.dir), os.Getpid(), c.hookTime)
	})
	if err != nil {
		return err
	}
	exec, err := deploy.New(store, target.Platform{Lister: fleet, Installer: fleet}, func(o *deploy.Options) {
		o.ExecutorID = c.id
		o.LeaseTTL = c.leaseTTL
		o.Logger = logger
		// Every transition is written when it happens, so that only the
		// events in flight at a crash run again (see deploy.Options).
		o.RecordInterval = -1
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, format+"\n", args...)
	}
	outcome := func(d *deploy.Deployment, err error) string {
		if err != nil {
			return "error: " + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		return string(d.Status)
	}

	var wg sync.WaitGroup
	var superviseErr error
	wg.Go(func() {
		superviseErr = exec.Supervise(ctx, func(o *deploy.SuperviseOptions) {
			o.Interval = c.interval
			o.Resumed = func(id string, d *deploy.Deployment, err error) { say("resumed %s %s", id, outcome(d, err)) }
		})
	})
	say("ready")

	// Commands come on stdin; its end (the example is gone) ends the
	// process as SIGTERM does. The reading goroutine may stay blocked in
	// Read when ctx ends first; the process exits then anyway.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case line, ok := <-lines:
			if !ok {
				logger.Info("standard input closed; stopping")
				cancel()
				done = true
				continue
			}
			cmd, id, _ := strings.Cut(line, " ")
			if cmd != "run" || id == "" {
				logger.Warn("unknown command", "line", line)
				continue
			}
			wg.Go(func() {
				d, err := exec.Run(ctx, id)
				say("ran %s %s", id, outcome(d, err))
			})
		}
	}
	wg.Wait()
	if superviseErr != nil && !errors.Is(superviseErr, context.Canceled) {
		return superviseErr
	}
	return nil
}
