// Package leaktest checks that a test binary gives back what it took:
// goroutines and file descriptors. Every queue a test opens must be closed
// with its socket, and every receive loop must exit; the TestMain of each
// test package of nfq runs its tests through Run.
package leaktest

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

// Run runs the tests of m and returns their exit code, turned into a
// failure if they left goroutines or descriptors behind (after a grace of
// 5 s for those still on their way out). A fuzzing run is not checked: the
// fuzzing engine keeps its own.
func Run(m *testing.M) int {
	flag.Parse()
	before := Take()
	code := m.Run()
	if code == 0 && !fuzzing() {
		if leaked := Since(before, 5*time.Second); leaked != "" {
			fmt.Fprintln(os.Stderr, "FAIL: the test suite leaked resources:\n"+leaked)
			code = 1
		}
	}
	return code
}

// fuzzing reports whether this binary runs a fuzzer (or is a fuzz worker).
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// Resources are the process-wide counts that a closed queue must give back.
type Resources struct {
	Goroutines int
	FDs        map[string]string // descriptor number -> what it points to
}

// Take counts goroutines and open descriptors. The first call also starts
// the Go runtime's poller, whose own descriptors would otherwise appear on
// first use and look like a leak.
func Take() Resources {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	return Resources{Goroutines: runtime.NumGoroutine(), FDs: openFDs()}
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

// Since waits up to grace for goroutines and descriptors to come back to
// the counts in before, and describes what did not: the new descriptors (a
// netlink socket is "socket:[inode]") and the stacks of all goroutines. It
// returns "" when nothing leaked.
func Since(before Resources, grace time.Duration) string {
	var now Resources
	for deadline := time.Now().Add(grace); ; time.Sleep(20 * time.Millisecond) {
		runtime.GC() // files dropped without Close are closed by the GC; let that count as not leaked here
		now = Resources{Goroutines: runtime.NumGoroutine(), FDs: openFDs()}
		if now.Goroutines <= before.Goroutines && len(NewFDs(before, now)) == 0 || time.Now().After(deadline) {
			break
		}
	}
	var b strings.Builder
	if extra := NewFDs(before, now); len(extra) > 0 {
		fmt.Fprintf(&b, "%d file descriptors opened and not closed: %s\n", len(extra), strings.Join(extra, ", "))
	}
	if now.Goroutines > before.Goroutines {
		buf := make([]byte, 1<<20)
		fmt.Fprintf(&b, "%d goroutines before, %d after:\n%s\n", before.Goroutines, now.Goroutines, buf[:runtime.Stack(buf, true)])
	}
	return b.String()
}

// NewFDs lists the descriptors open in now that were not in before.
func NewFDs(before, now Resources) []string {
	var extra []string
	for n, target := range now.FDs {
		if before.FDs[n] != target {
			extra = append(extra, n+" -> "+target)
		}
	}
	sort.Strings(extra)
	return extra
}
