package nfq

import "errors"

// ErrNoInterface: the queue's network namespace has no interface with the
// index asked for (it went away, or the index is 0).
var ErrNoInterface = errors.New("nfq: no such interface")
