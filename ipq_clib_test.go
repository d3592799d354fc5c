//go:build linux && cgo

package nfq_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The C library: built and installed with libipq/Makefile into a temporary
// prefix, then legacy C programs are compiled against it the way their
// users do and run against real traffic in namespaces.

// clib is the installed library and the programs built against it.
type clib struct {
	prefix, lib, include string
	// libipq/test programs: built with cc -I -L -lipq, but threads loads
	// the library itself with dlopen
	layout, ipqtest, forktest, badinput, threads string
	passer, passerStatic                         string // examples/ipq-passer-c (pkg-config; libipq.a)
	goPasser                                     string // examples/ipq-passer
}

var (
	clibOnce sync.Once
	clibErr  error
)

func run(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// buildCLib builds everything once into dir.
func buildCLib(dir string) (*clib, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	c := &clib{prefix: filepath.Join(dir, "prefix")}
	c.lib, c.include = filepath.Join(c.prefix, "lib"), filepath.Join(c.prefix, "include")
	if err := run(root, nil, "make", "-s", "-C", "libipq", "install",
		"O="+filepath.Join(dir, "build"), "PREFIX="+c.prefix); err != nil {
		return nil, err
	}
	bin := func(name string) string { return filepath.Join(dir, name) }
	c.layout, c.ipqtest, c.forktest, c.badinput = bin("layout"), bin("ipqtest"), bin("forktest"), bin("badinput")
	c.threads = bin("threads")
	c.passer, c.passerStatic, c.goPasser = bin("passer"), bin("passer-static"), bin("ipq-passer")
	for _, prog := range []string{c.layout, c.ipqtest, c.forktest, c.badinput} {
		src := filepath.Join(root, "libipq", "test", filepath.Base(prog)+".c")
		if err := run(dir, nil, "cc", "-Wall", "-Werror", "-pthread", src, "-I"+c.include, "-L"+c.lib, "-lipq", "-o", prog); err != nil {
			return nil, err
		}
	}
	if err := run(dir, nil, "cc", "-Wall", "-Werror", filepath.Join(root, "libipq", "test", "threads.c"), "-ldl", "-o", c.threads); err != nil {
		return nil, err
	}
	passerSrc := filepath.Join(root, "examples", "ipq-passer-c", "passer.c")
	pc := []string{"PKG_CONFIG_PATH=" + filepath.Join(c.lib, "pkgconfig")}
	flags, err := exec.Command("env", append(pc, "pkg-config", "--cflags", "--libs", "libipq")...).Output()
	if err != nil {
		return nil, fmt.Errorf("pkg-config libipq: %v", err)
	}
	if err := run(dir, nil, "cc", append([]string{passerSrc, "-o", c.passer}, strings.Fields(string(flags))...)...); err != nil {
		return nil, err
	}
	// static: what pkg-config --static says, with the archive for -lipq
	static, err := exec.Command("env", append(pc, "pkg-config", "--static", "--cflags", "--libs", "libipq")...).Output()
	if err != nil {
		return nil, fmt.Errorf("pkg-config --static libipq: %v", err)
	}
	args := []string{passerSrc, "-o", c.passerStatic}
	for _, f := range strings.Fields(string(static)) {
		if f == "-lipq" {
			f = filepath.Join(c.lib, "libipq.a")
		}
		args = append(args, f)
	}
	if err := run(dir, nil, "cc", args...); err != nil {
		return nil, err
	}
	return c, run(root, nil, progtest.GoTool(), "build", "-o", c.goPasser, "./examples/ipq-passer")
}

// command runs a built program inside ns, finding libipq.so where it was
// installed.
func (c *clib) command(ns *netnstest.NS, prog string, args ...string) *exec.Cmd {
	cmd := ns.Command(append([]string{prog}, args...)...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+c.lib)
	return cmd
}

func TestLibipqC(t *testing.T) {
	dir := t.TempDir()
	var c *clib
	clibOnce.Do(func() { c, clibErr = buildCLib(dir) })
	require.NoError(t, clibErr)
	require.NotNil(t, c, "run once per test binary")

	t.Run("SymbolsAreExactlyLibipqs", func(t *testing.T) {
		out, err := exec.Command("nm", "-D", "--defined-only", filepath.Join(c.lib, "libipq.so")).Output()
		require.NoError(t, err)
		var syms []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(l)
			syms = append(syms, f[len(f)-1])
		}
		assert.ElementsMatch(t, []string{"ipq_create_handle", "ipq_destroy_handle", "ipq_read",
			"ipq_set_mode", "ipq_get_packet", "ipq_message_type", "ipq_get_msgerr", "ipq_set_verdict",
			"ipq_ctl", "ipq_errstr", "ipq_perror", "ipq_errno"}, syms)
	})

	t.Run("LayoutMatchesTheContract", func(t *testing.T) {
		out, err := exec.Command(c.layout).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, "layout ok\n", string(out))
	})

	t.Run("ErrorStringsAndPerrorAreByteExact", func(t *testing.T) {
		cmd := exec.Command(c.ipqtest, "errors")
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+c.lib)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err)
		lines := strings.Split(string(out), "\n")
		strs := []string{"Implementation error", "Unknown error", "Implementation error",
			"Unable to create netlink handle", "Unable to create netlink socket", "Unable to bind netlink socket",
			"Unable to allocate buffer", "Failed to receive netlink message", "Received EOF on netlink socket",
			"Invalid peer address length", "Sent message truncated", "Received message truncated",
			"Received error from netlink", "Failed to send netlink message", "Operation not supported",
			"Receive buffer size invalid", "Timeout", "Invalid protocol specified", "Implementation error"}
		for i, s := range strs {
			assert.Equal(t, fmt.Sprintf("code=%d str=%s", i-1, s), lines[i])
		}
		assert.Equal(t, "errno-after=16", lines[len(strs)], "ipq_perror keeps errno")
		assert.Equal(t, "ipq_errno=16", lines[len(strs)+1])
		assert.Equal(t, "ERROR\ns\npasser: Timeout\npasser: Timeout: Device or resource busy\n"+
			"ERROR: Implementation error\nx: Operation not permitted\ncreate: Invalid protocol specified\n",
			stderr.String())
	})

	t.Run("EveryCallAndErrorPath", func(t *testing.T) {
		ns := netnstest.New(t)
		out, err := c.command(ns, c.ipqtest, "calls").CombinedOutput()
		require.NoError(t, err, "%s", out)
		got := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := []string{
			"badproto null=1 err=Invalid protocol specified",
			"create fd=1",
			"ctl=1",
			"setmode ret=40",
			"recvbuf ret=-1 err=Receive buffer size invalid",
			"poll ret=0 err=Timeout",
			"timeout ret=0 err=Timeout ms=",
			"fdready=0",
			"verdict-unknown ret=40",
			"fdready=1",
			"msg ret=36 type=2 msgerr=2",
			"fdready=0",
			"badmode ret=40",
			"msg ret=36 type=2 msgerr=22",
			"second null=1 err=Unable to bind netlink socket errno=16",
			"ipv6 ok=1",
			"destroy6=0",
			"eintr ret=0 errno=4",
			"destroynull=0",
			"destroy=0",
		}
		require.Len(t, got, len(want), "%s", out)
		for i := range want {
			if strings.HasSuffix(want[i], "ms=") {
				var ms int
				_, err := fmt.Sscanf(strings.TrimPrefix(got[i], want[i]), "%d", &ms)
				require.NoError(t, err, got[i])
				assert.InDelta(t, 200, ms, 150, "a 200000 us timeout")
				continue
			}
			assert.Equal(t, want[i], got[i])
		}
	})

	t.Run("CopyModes", func(t *testing.T) {
		l := newIPQLab(t, false, false)
		meta := c.recv(t, l, []string{"meta"}, "4", "1", "0", "2048", "1", "accept")
		assert.Contains(t, meta[0], " type=19 ")
		assert.Contains(t, meta[0], " hook=3 indev= outdev=lo proto=0x0800 hwtype=0 hwaddrlen=0 data_len=0 ts=0.000000 payload= verdict=40")

		ranged := c.recv(t, l, []string{"ranged"}, "4", "2", "10", "2048", "1", "accept")
		assert.Contains(t, ranged[0], " data_len=10 ")
		assert.Regexp(t, ` payload=45[0-9a-f]{18} `, ranged[0])

		whole := c.recv(t, l, []string{"whole"}, "4", "2", "0", "2048", "1", "accept")
		assert.Contains(t, whole[0], "ret=148 ") // 16 + 96 + 33 (20+8+5), aligned to 4
		assert.Contains(t, whole[0], fmt.Sprintf("%x verdict=40", "whole"))
	})

	t.Run("TruncatedMessageStillNamesThePacket", func(t *testing.T) {
		l := newIPQLab(t, false, false)
		for _, size := range []string{"20", "40"} {
			out := c.recv(t, l, nil, "4", "2", "0", size, "1", "accept", "dropme")
			assert.Regexp(t, `^ret=-1 err=Received message truncated nlmsg_len=148 id=[1-9][0-9]* verdict=40$`, out[0])
		}
	})

	t.Run("VerdictWithPayloadRewritesThePacket", func(t *testing.T) {
		l := newIPQLab(t, false, false)
		out := c.recv(t, l, []string{"REWRITE ME"}, "4", "2", "0", "2048", "1", "rewrite", "rewrite me")
		assert.Contains(t, out[0], " verdict=78") // 40 + the 38-byte packet
	})

	t.Run("IPv6Handle", func(t *testing.T) {
		l := newIPQLab(t, true, false)
		out := c.recv(t, l, []string{"six"}, "6", "2", "0", "2048", "1", "accept")
		assert.Contains(t, out[0], " proto=0x86dd ")
		assert.Contains(t, out[0], " data_len=51 ") // 40 + 8 + 3
	})

	for _, prog := range []struct{ name, path string }{
		{"ManPagePasser", c.passer}, {"ManPagePasserStatic", c.passerStatic}, {"GoManPagePasser", c.goPasser},
	} {
		t.Run(prog.name+"PassesPingAndUDPAndWithoutItTrafficIsDropped", func(t *testing.T) {
			c.passerScenario(t, prog.path)
		})
	}

	t.Run("SecondFamilyOpenedWhileAThreadReadsTheFirst", c.shareScenario)
	t.Run("HeaderDeclaresWhatTheOriginalDidAndNothingMore", c.headerScenario)
	t.Run("NoThreadAfterLoadOrCreate", c.threadsScenario)
	t.Run("ForkAfterLoadThenCreateInTheChild", c.forkAfterLoadScenario)
	t.Run("CreateSetModeThenForkAndParentExits", c.daemonizeScenario)
	t.Run("ChildPerPacketGivesTheVerdict", c.childrenScenario)
	t.Run("PythonCtypesPasser", c.pythonScenario)
	t.Run("BadInputFailsAsTheOriginalDid", c.badInputScenario)
}

// shareScenario: a thread blocked reading the IPv4 handle while the main
// thread opens the IPv6 handle, which shares the queue, and reads it in
// short steps, moving every packet on to its handle. The IPv4 packets must
// still reach the blocked thread.
func (c *clib) shareScenario(t *testing.T) {
	l4, l6 := newIPQLab(t, false, false), &ipqLab{}
	l6.ns = l4.ns
	l6.recv = l4.ns.ListenUDP(t, "[::1]:0")
	l6.send = l4.ns.DialUDP(t, l6.recv.LocalAddr().String())
	l4.ns.Exec(t, "ip6tables-legacy", "-A", "OUTPUT", "-p", "udp", "--dport",
		fmt.Sprint(l6.recv.LocalAddr().(*net.UDPAddr).Port), "-j", "QUEUE")
	d := c.startDetached(t, l4.ns, c.ipqtest, "share", "20")
	assert.Equal(t, "reader waits in ppoll", d.line(t, 5*time.Second))
	require.Equal(t, "ready", d.line(t, 5*time.Second))
	var want []string
	for i := 0; i < 20; i++ {
		want = append(want, fmt.Sprintf("four-%02d", i))
		l4.write(t, want[i])
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, want, netnstestRead(l4, 20))
	l6.write(t, "six")
	assert.Equal(t, []string{"six"}, netnstestRead(l6, 1))
	assert.Equal(t, "thread passed=20 main got6=1", d.line(t, 10*time.Second))
	require.NoError(t, d.cmd.Wait())
}

// recv runs `ipqtest recv ARGS...`, sends the datagrams (the last arg when
// there are more args than recv takes, else the expected ones) once it is
// ready, checks that want arrives and returns its output lines.
func (c *clib) recv(t *testing.T, l *ipqLab, want []string, args ...string) []string {
	t.Helper()
	send := want
	if len(args) == 7 {
		send, args = []string{args[6]}, args[:6]
	}
	cmd := c.command(l.ns, c.ipqtest, append([]string{"recv"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	require.Equal(t, "ready\n", line)
	quiet := 2 * time.Second
	if len(want) == 0 {
		quiet = 300 * time.Millisecond // nothing should come
	}
	got := l.sendUDP(t, quiet, send...)
	rest, _ := io.ReadAll(r)
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	assert.Equal(t, want, got, "what arrived")
	return strings.Split(strings.TrimSpace(string(rest)), "\n")
}

// passerScenario: with the passer running, pings and UDP pass the queue;
// once it is stopped, the same traffic is dropped.
func (c *clib) passerScenario(t *testing.T, prog string) {
	l := newIPQLab(t, false, true)
	p := newPinger(t, l.ns, false)
	assert.False(t, p.ping(300*time.Millisecond), "nobody on queue 0 yet")

	cmd := c.command(l.ns, prog)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	defer stop()
	require.Eventually(t, func() bool {
		q, ok := l.ns.Queues(t)[0]
		return ok && q.CopyMode == 2
	}, 5*time.Second, 20*time.Millisecond, "the passer binds queue 0 in packet mode; stderr: %s", &stderr)

	for i := 0; i < 3; i++ {
		assert.True(t, p.ping(3*time.Second), "ping %d through the passer", i)
	}
	assert.Equal(t, []string{"a", "b", "c"}, l.sendUDP(t, 3*time.Second, "a", "b", "c"))

	stop()
	assert.Empty(t, stderr.String())
	assert.False(t, p.ping(500*time.Millisecond), "passer stopped: the kernel drops")
	assert.Empty(t, l.sendUDP(t, 300*time.Millisecond, "d"))
}
