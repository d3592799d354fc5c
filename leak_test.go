//go:build linux && cgo

package nfq_test

import (
	"os"
	"testing"

	"github.com/nfq-go/nfq/internal/leaktest"
)

// TestMain runs the suite and then fails the test binary if it left
// goroutines or file descriptors behind (leaktest.Run): every queue a test
// opened must have been closed with its socket, and every receive loop must
// have exited. It also serves as the entry point of helper processes (see
// reliability_process_test.go).
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(leaktest.Run(m))
}
