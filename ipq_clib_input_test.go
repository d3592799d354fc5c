//go:build linux && cgo

package nfq_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What legacy programs compile against and pass to the C library: the
// header's declarations and includes, bad pointers and lengths, and an
// interpreter calling it through its foreign-function bindings.

// headerProgram uses what the original libipq.h made available through
// its includes, and declares the names it did not declare, as programs
// written for it did: it compiles only against a header that declares
// exactly what the original did.
const headerProgram = `#include <libipq.h>

static long ipq_errno; /* the library's global, which libipq.h never declared */
enum { IPQ_ERR_NONE, IPQ_ERR_IMPL, IPQ_MAXERR }; /* nor the error codes */
#define LIBIPQ_NFQ "mine"

int use(struct ipq_handle *h, struct iovec *iov)
{
	struct nlmsghdr nlh = { 0 };
	struct sockaddr_nl local = h->local;
	__u32 a = 0;
	u_int32_t b = local.nl_pid;
	ipq_id_t id = 0;
	ipq_peer_msg_t pm;
	ipq_packet_msg_t *m = ipq_get_packet((unsigned char *)NLMSG_DATA(&nlh));
	char name[IFNAMSIZ];

	(void)pm;
	(void)name;
	ipq_errno = errno == EINTR;
	if (fcntl(h->fd, F_SETFL, O_NONBLOCK) < 0 || readv(h->fd, iov, 1) < 0)
		close(h->fd);
	return (int)(a + b + id + m->hook + h->blocking + MSG_TRUNC + IPQM_PACKET + IPQ_COPY_PACKET +
		     (int)sizeof(ipq_mode_msg_t) + (int)sizeof(ipq_verdict_msg_t) + AF_NETLINK + IPQ_MAXERR);
}
`

func (c *clib) headerScenario(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "legacy.c")
	require.NoError(t, os.WriteFile(src, []byte(headerProgram), 0o644))
	for _, std := range []string{"-std=gnu89", "-std=gnu11"} {
		out, err := exec.Command("cc", std, "-Wall", "-Werror", "-fsyntax-only", "-I"+c.include, src).CombinedOutput()
		assert.NoError(t, err, "%s: %s", std, out)
	}
}

func (c *clib) badInputScenario(t *testing.T) {
	l := newIPQLab(t, false, false)
	d := c.startDetached(t, l.ns, c.badinput)
	var lines []string
	for {
		line := d.line(t, 5*time.Second)
		if line == "ready" {
			break
		}
		lines = append(lines, line)
	}
	arrived := make(chan []string, 1)
	go func() { arrived <- l.sendUDP(t, 2*time.Second, "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9") }()
	for line := range d.lines {
		lines = append(lines, line)
	}
	require.NoError(t, d.cmd.Wait())
	assert.Equal(t, []string{
		"null-read ret=-1 err=Failed to receive netlink message errno=9",
		"null-mode ret=-1 err=Failed to send netlink message errno=9",
		"null-verdict ret=-1 err=Failed to send netlink message errno=9",
		"null-destroy ret=0 err=- errno=0",
		"null-ctl ret=1 err=- errno=0",
		"read-only-buffer ret=-1 err=Failed to receive netlink message errno=14",
		"null-buffer ret=-1 err=Failed to receive netlink message errno=14",
		"length-past-mapping ret=-1 err=Failed to receive netlink message errno=14",
		"length-past-mapping-early ret=-1 err=Failed to receive netlink message errno=14",
		"length-past-mapping-fits ret=144 err=- errno=0",
		"fits payload=p5",
		"accept-p5 ret=40 err=- errno=0",
		"accept-lost ret=40 err=- errno=0",
		"accept-lost ret=40 err=- errno=0",
		"accept-lost ret=40 err=- errno=0",
		"accept-lost ret=40 err=- errno=0",
		"read-only-payload ret=70 err=- errno=0",
		"payload-past-mapping ret=-1 err=Failed to send netlink message errno=14",
		"null-payload ret=40 err=- errno=0",
		"short-payload ret=50 err=- errno=0",
		"stolen ret=40 err=- errno=0",
		"stolen-answer ret=36 type=2 msgerr=22",
		"drop-p9 ret=40 err=- errno=0",
		"closed-fd-poll ret=-1 err=Failed to receive netlink message errno=9",
		"closed-fd-read ret=-1 err=Failed to receive netlink message errno=9",
		"closed-fd-mode ret=-1 err=Failed to send netlink message errno=9",
		"closed-fd-verdict ret=-1 err=Failed to send netlink message errno=9",
		"closed-fd-destroy ret=0 err=- errno=0",
		"second-destroy ret=0 err=- errno=0",
		"ipq_errno=0",
	}, lines)
	got := <-arrived
	sort.Strings(got)
	// p1-p4 waited in the kernel after their messages were lost; p6 was
	// rewritten from a read-only buffer; p7 and p8 arrived as they were
	// sent; p9 was dropped.
	assert.Equal(t, []string{"P6", "p1", "p2", "p3", "p4", "p5", "p7", "p8"}, got)
}

// python3 finds an interpreter: the one on PATH, else the system's.
func python3() string {
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return ""
}

func (c *clib) pythonScenario(t *testing.T) {
	py := python3()
	if py == "" {
		t.Skip("no python3 on this machine: the ctypes passer cannot run")
	}
	root, err := os.Getwd()
	require.NoError(t, err)
	l := newIPQLab(t, false, false)
	d := c.startDetached(t, l.ns, py, filepath.Join(root, "libipq", "test", "passer.py"),
		filepath.Join(c.lib, "libipq.so.0"), "3")
	assert.Equal(t, "ready threads=1", d.line(t, 10*time.Second))
	assert.Equal(t, []string{"one", "two", "three"}, l.sendUDP(t, 3*time.Second, "one", "two", "three"))
	for _, p := range []string{"one", "two", "three"} {
		assert.Equal(t, "packet outdev=lo payload="+p, d.line(t, 5*time.Second))
	}
	assert.Equal(t, "done threads=1", d.line(t, 5*time.Second))
	require.NoError(t, d.cmd.Wait())
	assert.True(t, strings.HasPrefix(py, "/"))
}
