//go:build !linux

package main

// nfq works on Linux only; elsewhere nfqdump exits at Open anyway.
func isTerminalFd(uintptr) bool { return false }
