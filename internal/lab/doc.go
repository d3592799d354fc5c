// Package lab holds what the test packages of nfq share: queue numbers no
// other test of the process uses, the fanout lab (traffic spread over a
// queue range by --queue-balance), waits that catch a hang, and packet
// helpers. The root package's own kernel tests and the scenario suites
// (internal/scenario) both use it; it exists because test files cannot be
// shared between packages.
package lab
