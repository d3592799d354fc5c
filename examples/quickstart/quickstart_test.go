//go:build linux && cgo

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rule and its cleanup, exactly as the README's Usage section gives them.
var (
	readmeRule    = []string{"iptables", "-I", "OUTPUT", "-p", "icmp", "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"}
	readmeCleanup = []string{"iptables", "-D", "OUTPUT", "-p", "icmp", "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"}
)

// The README shows this very program, and the commands tested below.
func TestReadmeShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```go\n"+string(src)+"```\n", "README.md's Usage program must be examples/quickstart/main.go, verbatim")
	assert.Contains(t, string(readme), strings.Join(readmeRule, " "))
	assert.Contains(t, string(readme), strings.Join(readmeCleanup, " "))
}

// pingThrough pings loopback 3 times in ns and fails the test if a ping
// goes unanswered.
func pingThrough(t *testing.T, ns *netnstest.NS) {
	t.Helper()
	ns.Exec(t, "ping", "-c", "3", "-i", "0.2", "-W", "2", "127.0.0.1")
}

// The program serves the README's rule: every echo request and reply goes
// through it and is accepted; Ctrl-C ends it cleanly; the rule's bypass lets
// pings through once it is gone, and the cleanup line removes the rule.
func TestQuickstartAcceptsAndLogsEveryPacket(t *testing.T) {
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	ns.Exec(t, readmeRule...)
	p := progtest.Start(t, ns, bin)
	p.WaitStderr(t, "queue 0 open; Ctrl-C to stop", 10*time.Second)
	pingThrough(t, ns)
	require.Equal(t, 0, p.Stop(t), p.String())

	log := p.Stderr()
	// An echo request or reply of ping's default size: 20 + 8 + 56 bytes.
	assert.Equal(t, 6, strings.Count(log, ": hook OUTPUT, 84 bytes, outdev|payload\n"), log)
	assert.Contains(t, log, "packet 1: hook OUTPUT, 84 bytes, outdev|payload\n")
	assert.Contains(t, log, "6 packets, 6 accepted\n")

	pingThrough(t, ns) // nobody listens: --queue-bypass accepts
	ns.Exec(t, readmeCleanup...)
	assert.NotContains(t, ns.Exec(t, "iptables", "-S", "OUTPUT"), "NFQUEUE", "the cleanup line removed the rule")
}

// As the README says: an ordinary user can run the program once the binary
// has CAP_NET_ADMIN as a file capability.
func TestQuickstartRunsUnprivilegedWithSetcap(t *testing.T) {
	netnstest.RequireKernel(t) // setcap, before the namespace, needs root too
	for _, tool := range []string{"setcap", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for this test (Debian: libcap2-bin, util-linux): %v", tool, err)
		}
	}
	built := progtest.Build(t, ".")
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755), "the user must reach the binary")
	bin := filepath.Join(dir, "quickstart")
	b, err := os.ReadFile(built)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	out, err := exec.Command("setcap", "cap_net_admin+ep", bin).CombinedOutput()
	require.NoError(t, err, "%s", out)

	ns := netnstest.New(t)
	ns.Exec(t, readmeRule...)
	p := progtest.StartCmd(t, ns.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", bin))
	p.WaitStderr(t, "queue 0 open; Ctrl-C to stop", 10*time.Second)
	pingThrough(t, ns)
	require.Equal(t, 0, p.Stop(t), p.String())
	assert.Contains(t, p.Stderr(), "6 packets, 6 accepted\n")

	// Without the file capability, the same user gets the package's
	// explanation.
	require.NoError(t, exec.Command("setcap", "-r", bin).Run())
	p = progtest.StartCmd(t, ns.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", bin))
	assert.Equal(t, 1, p.Wait(t, 10*time.Second))
	assert.Contains(t, p.Stderr(), "NFQUEUE needs CAP_NET_ADMIN: run as root, or grant it (setcap cap_net_admin+ep BINARY")
}
