package motoserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestMain(m *testing.M) { Main(m) }

// The shared server answers DynamoDB through Config, and Reset empties it.
func TestServerAnswers(t *testing.T) {
	client := dynamodb.NewFromConfig(Config(t))
	out, err := client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables on %s: %v", Endpoint(t), err)
	}
	if len(out.TableNames) != 0 {
		t.Logf("tables already there: %v", out.TableNames)
	}
	if a, b := Endpoint(t), Endpoint(t); a != b || !strings.HasPrefix(a, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q then %q; want one loopback server", a, b)
	}
}

func TestName(t *testing.T) {
	a, b := Name(t, "fd"), Name(t, "fd")
	if a == b || !strings.HasPrefix(a, "fd-TestName-") || unsafeName.MatchString(a) || len(a) > 100 {
		t.Errorf("Name = %q, %q; want two different names of [A-Za-z0-9_.-] starting fd-TestName-", a, b)
	}
}

// Without moto, the tests fail saying how to install it.
func TestMissingMoto(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "python3")
	script := "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'moto'\" >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := startWith(fake)
	if err == nil || !strings.Contains(err.Error(), Install) || !strings.Contains(err.Error(), "No module named 'moto'") {
		t.Errorf("starting with an interpreter without moto: %v; want an error with %q", err, Install)
	}
}

// A server stopped is gone, with its whole process group.
func TestStopKillsTheProcessGroup(t *testing.T) {
	s, url, err := startWith("python3")
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(url); err != nil {
		t.Fatalf("the started server does not answer: %v", err)
	}
	pid := s.cmd.Process.Pid
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("after stop, signalling moto's process group %d: %v; want ESRCH (no such process)", pid, err)
	}
	if err := ping(url); err == nil {
		t.Errorf("the stopped server at %s still answers", url)
	}
}

// With FLEETDEPLOY_AWS_ENDPOINT set, the tests use that server.
func TestEndpointFromEnvironment(t *testing.T) {
	own := Endpoint(t)
	t.Setenv(EndpointEnv, own+"/")
	if err := Stop(); err != nil {
		t.Fatal(err)
	}
	if got := Endpoint(t); got != own {
		t.Errorf("Endpoint with %s=%s/ = %q; want %q", EndpointEnv, own, got, own)
	}
	if err := ping(own); err == nil {
		t.Errorf("Stop left the server at %s running", own)
	}
	if err := Stop(); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv(EndpointEnv)
	if got := Endpoint(t); got == own || ping(got) != nil {
		t.Errorf("after the variable is gone, Endpoint = %q; want a new server that answers", got)
	}
}
