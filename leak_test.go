//go:build linux && cgo

package nfq_test

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestMain runs the suite and then fails the test binary if it left
// goroutines or file descriptors behind: every queue a test opened must have
// been closed with its socket, and every receive loop must have exited. It
// also serves as the entry point of helper processes (see
// reliability_process_test.go).
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	flag.Parse()
	before := takeResources()
	code := m.Run()
	if code == 0 && !fuzzing() {
		if leaked := leakedSince(before, 5*time.Second); leaked != "" {
			fmt.Fprintln(os.Stderr, "FAIL: the test suite leaked resources:\n"+leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// fuzzing reports whether this binary runs a fuzzer (or is a fuzz worker):
// the fuzzing engine keeps its own descriptors and goroutines.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// resources are the process-wide counts that a closed queue must give back.
type resources struct {
	goroutines int
	fds        map[string]string // descriptor number -> what it points to
}

// takeResources counts goroutines and open descriptors. The first call also
// starts the Go runtime's poller, whose own descriptors would otherwise
// appear on first use and look like a leak.
func takeResources() resources {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	return resources{goroutines: runtime.NumGoroutine(), fds: openFDs()}
}

func openFDs() map[string]string {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	fds := map[string]string{}
	for _, n := range names {
		target, err := os.Readlink("/proc/self/fd/" + n)
		if err != nil {
			continue // the descriptor of the directory being read
		}
		fds[n] = target
	}
	return fds
}

// leakedSince waits up to grace for goroutines and descriptors to come back
// to the counts in before, and describes what did not: the new descriptors
// (a netlink socket is "socket:[inode]") and the stacks of all goroutines.
func leakedSince(before resources, grace time.Duration) string {
	var now resources
	for deadline := time.Now().Add(grace); ; time.Sleep(20 * time.Millisecond) {
		runtime.GC() // files dropped without Close are closed by the GC; let that count as not leaked here
		now = resources{goroutines: runtime.NumGoroutine(), fds: openFDs()}
		if now.goroutines <= before.goroutines && len(newFDs(before, now)) == 0 || time.Now().After(deadline) {
			break
		}
	}
	var b strings.Builder
	if extra := newFDs(before, now); len(extra) > 0 {
		fmt.Fprintf(&b, "%d file descriptors opened and not closed: %s\n", len(extra), strings.Join(extra, ", "))
	}
	if now.goroutines > before.goroutines {
		buf := make([]byte, 1<<20)
		fmt.Fprintf(&b, "%d goroutines before, %d after:\n%s\n", before.goroutines, now.goroutines, buf[:runtime.Stack(buf, true)])
	}
	return b.String()
}

func newFDs(before, now resources) []string {
	var extra []string
	for n, target := range now.fds {
		if before.fds[n] != target {
			extra = append(extra, n+" -> "+target)
		}
	}
	sort.Strings(extra)
	return extra
}
