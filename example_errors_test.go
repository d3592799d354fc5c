//go:build linux && cgo

package nfq_test

import (
	"errors"
	"fmt"

	"github.com/nfq-go/nfq"
)

// Examples whose output needs a build that can open queues (Linux and cgo):
// elsewhere Open refuses every queue before it looks at the Config.

// Errors say what happened and unwrap to sentinels and errnos.
func ExampleOpError() {
	_, err := nfq.Open(nfq.Config{Queue: 3, CopyRange: 1 << 20})
	fmt.Println(err)
	fmt.Println(errors.Is(err, nfq.ErrInvalidConfig))
	// Output:
	// nfq: queue 3: open: invalid config: copy range 1048576 is over the kernel's limit of 65531 (MaxCopyRange); 0 copies whole packets
	// true
}
