//go:build linux && cgo

package scenario_test

import (
	"os"
	"testing"

	"github.com/nfq-go/nfq/internal/leaktest"
)

// TestMain runs the suites and fails the test binary if they left
// goroutines or file descriptors behind (leaktest.Run). It is also the
// entry point of the helper processes of process_test.go.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(leaktest.Run(m))
}
