//go:build linux

package netnstest

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// EnvKernelTests names the environment variable that decides what a test
// needing the kernel does without the privileges for it. Unset, the test
// skips, so that `go test ./...` passes for anyone; set to "require" (as
// `make test` and CI do), the test fails, so that a run meant to cover the
// kernel can never skip silently.
const EnvKernelTests = "NFQ_KERNEL_TESTS"

// RequireKernel is the first call of every test that needs the kernel:
// network namespaces, iptables rules, NFQUEUE queues, or programs doing the
// same. Without root (effective CAP_SYS_ADMIN and CAP_NET_ADMIN) it skips t
// with one line saying why, or fails it when NFQ_KERNEL_TESTS=require.
func RequireKernel(t testing.TB) {
	t.Helper()
	if Privileged() {
		return
	}
	if os.Getenv(EnvKernelTests) == "require" {
		t.Fatal("needs root for network namespaces and NFQUEUE (CAP_SYS_ADMIN and CAP_NET_ADMIN), " +
			"and " + EnvKernelTests + "=require forbids skipping: run as root")
	}
	t.Skip("needs root for network namespaces and NFQUEUE: run as root or `make test`")
}

// Privileged reports whether the process holds the privileges the kernel tests
// need: CAP_SYS_ADMIN (network namespaces) and CAP_NET_ADMIN (iptables rules,
// NFQUEUE) in its effective set, as root has.
func Privileged() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.Geteuid() == 0
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return has(unix.CAP_SYS_ADMIN) && has(unix.CAP_NET_ADMIN)
}
