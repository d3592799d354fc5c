// Package scenario holds nfq's scenario suites: tests that put real traffic
// through real queues, each in its own network namespace, the way programs
// use them, and account for every packet. Shutdown under load (1000 rounds,
// every way of ending), the bound on how long a verdict waits, overload and
// overruns, faults the kernel reports, misuse, restarts, processes that hold
// a queue or lack the privilege, and a soak run (-tags soak; make soak).
//
// They use only the public API of package nfq, with the labs of this
// package (lab_test.go) and of internal/lab. Like every kernel test they
// need root; make test runs them with the rest.
package scenario
