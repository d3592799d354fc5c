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
// have exited.
func TestMain(m *testing.M) { os.Exit(leaktest.Run(m)) }
