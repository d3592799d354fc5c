//go:build linux

// Package progtest builds a program of this module and runs it as a real
// process inside a test's network namespace, so that tests of the example
// programs and commands see what a user would: its output, its exit code and
// what happened to the packets.
package progtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
)

// Build compiles the main package in dir (a path as go build takes it, "."
// for the package under test) with the race detector, into a temporary
// directory, and returns the binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(absDir(t, dir)))
	cmd := exec.Command(GoTool(), "build", "-race", "-o", bin, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

func absDir(t testing.TB, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// GoTool finds the go command: on PATH, or in $GOROOT/bin or /usr/local/go/bin.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	for _, root := range []string{os.Getenv("GOROOT"), "/usr/local/go"} {
		if p := filepath.Join(root, "bin", "go"); root != "" && fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Proc is a running program.
type Proc struct {
	Name   string
	cmd    *exec.Cmd
	stdout buffer
	stderr buffer
	done   chan struct{}
	state  *os.ProcessState
}

// Start runs bin with args inside ns. The process is killed at the end of
// the test if it is still running.
func Start(t testing.TB, ns *netnstest.NS, bin string, args ...string) *Proc {
	t.Helper()
	return StartCmd(t, ns.Command(append([]string{bin}, args...)...))
}

// StartCmd runs cmd, which is not started yet, like Start.
func StartCmd(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Name: progName(cmd.Args), cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(cmd.Args, " "), err)
	}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
			t.Logf("%s was still running at the end of the test: killed\nstderr:\n%s", p.Name, p.Stderr())
		}
	})
	return p
}

// progName names the program: the first absolute path in args, which skips
// a leading "ip netns exec NAME".
func progName(args []string) string {
	for _, a := range args {
		if filepath.IsAbs(a) {
			return filepath.Base(a)
		}
	}
	return args[0]
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stdout returns what the process wrote to standard output so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr returns what the process wrote to standard error so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// WaitStderr waits until the process's standard error contains s, and
// fails the test if it exits or the timeout passes first.
func (p *Proc) WaitStderr(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Stderr(), s) {
		select {
		case <-p.done:
			if strings.Contains(p.Stderr(), s) {
				return
			}
			t.Fatalf("%s exited (%v) before writing %q\nstdout:\n%s\nstderr:\n%s", p.Name, p.state, s, p.Stdout(), p.Stderr())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not write %q within %v\nstderr:\n%s", p.Name, s, timeout, p.Stderr())
		}
	}
}

// Wait waits for the process to exit and returns its exit code; it fails
// the test if that takes longer than timeout.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v\nstdout:\n%s\nstderr:\n%s", p.Name, timeout, p.Stdout(), p.Stderr())
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return p.state.ExitCode()
}

// Signal sends sig to the process (SIGSTOP, SIGCONT, ...).
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGINT, as Ctrl-C would, and waits for the exit code.
func (p *Proc) Stop(t testing.TB) int {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		select {
		case <-p.done: // already gone
		default:
			t.Fatalf("signal %s: %v", p.Name, err)
		}
	}
	return p.Wait(t, 10*time.Second)
}

// String describes the process and its output, for failure messages.
func (p *Proc) String() string {
	return fmt.Sprintf("%s\nstdout:\n%s\nstderr:\n%s", p.Name, p.Stdout(), p.Stderr())
}

// buffer is a bytes.Buffer safe for the process's writer and the test.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
