//go:build linux && cgo

package nfq_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Config.NetNS opens the queue in another namespace from a goroutine that
// stays in its own, by each spelling of the namespace. Packets of that
// namespace (where the rule is) reach the queue, and no thread of this
// process is left in the other namespace.
//
// Not parallel: it checks every thread of the process, and parallel tests
// enter namespaces (netnstest.NS.Do) at any time.
func TestOpenInNetNS(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T, l *udpLab) string
	}{
		{"ip netns path", func(t *testing.T, l *udpLab) string { return "/run/netns/" + l.ns.Name }},
		{"another process's namespace", func(t *testing.T, l *udpLab) string {
			cmd := l.ns.Command("sleep", "60")
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			path := fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
			require.Eventually(t, func() bool { return sameFile(path, "/run/netns/"+l.ns.Name) },
				5*time.Second, 5*time.Millisecond, "ip netns exec entered the namespace")
			return path
		}},
		{"descriptor", func(t *testing.T, l *udpLab) string {
			fd, err := unix.Open("/run/netns/"+l.ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			require.NoError(t, err)
			t.Cleanup(func() { unix.Close(fd) })
			return fmt.Sprintf("/proc/self/fd/%d", fd)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			own := netnsOf(t, "self")
			l := newUDPLab(t)
			q, err := nfq.Open(nfq.Config{Queue: l.queue, NetNS: tc.path(t, l)})
			require.NoError(t, err)
			defer q.Close()
			// Other helpers' threads may be on their way back from the
			// namespace (netnstest.NS.Do returns before its thread does).
			assert.Eventually(t, func() bool { return len(threadsOutside(t, own)) == 0 }, time.Second, 5*time.Millisecond,
				"every thread is back in its own namespace")
			line, bound := l.ns.Queues(t)[uint64(l.queue)]
			require.True(t, bound, "the queue is bound in the other namespace")

			ch, err := q.Packets(context.Background())
			require.NoError(t, err)
			l.sendN(t, 3)
			for i := range 3 {
				p := lab.RecvPacket(t, ch)
				assert.Equal(t, fmt.Sprintf("msg-%d", i), string(lab.UDPPayload(t, p.Payload)))
				name, err := p.OutDevName()
				require.NoError(t, err)
				assert.Equal(t, "lo", name, "interface names are the namespace's")
				require.NoError(t, p.Accept())
			}
			assert.Len(t, l.received(3, 2*time.Second), 3, "accepted packets went on")
			k, err := q.KernelStats()
			require.NoError(t, err)
			assert.Equal(t, uint32(line.PortID), k.PortID, "the kernel counters are the namespace's")
			assert.Equal(t, uint32(3), k.IDSequence)
		})
	}
}

// A path that is no network namespace is refused with a clear error, and
// nothing is bound anywhere.
func TestOpenInNetNSRefusesBadPaths(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-namespace")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for path, want := range map[string]string{
		"/run/netns/nfq-no-such-namespace": "no such file or directory",
		file:                               "not a network namespace",
		"/proc/self/ns/mnt":                "not a network namespace",
	} {
		q := lab.QueueNum()
		_, err := nfq.Open(nfq.Config{Queue: q, NetNS: path})
		require.Error(t, err, path)
		assert.ErrorIs(t, err, nfq.ErrInvalidConfig, path)
		assert.NotErrorIs(t, err, os.ErrPermission, path)
		assert.Contains(t, err.Error(), fmt.Sprintf("nfq: queue %d: enter network namespace %s: ", q, path))
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, err.Error(), "/proc/PID/ns/net, /run/netns/NAME")
	}
	_, err := nfq.OpenRange(1, 2, nfq.Config{NetNS: "/run/netns/nfq-no-such-namespace"})
	assert.ErrorIs(t, err, nfq.ErrInvalidConfig, "OpenRange too")
}

// OpenRange with Config.NetNS opens every queue of the set in that
// namespace, from a goroutine outside it.
func TestOpenRangeInNetNS(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	s, err := nfq.OpenRange(l.First, l.Last, nfq.Config{NetNS: "/run/netns/" + l.NS.Name})
	require.NoError(t, err)
	defer s.Close()
	serveMerged(t, l, s) // also compares with the namespace's kernel counters
}

// netnsOf is the namespace link of a task ("self", or "self/task/TID").
func netnsOf(t *testing.T, task string) string {
	t.Helper()
	link, err := os.Readlink("/proc/" + task + "/ns/net")
	require.NoError(t, err)
	return link
}

// threadsOutside lists the threads of this process not in namespace own.
func threadsOutside(t *testing.T, own string) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	var out []string
	for _, task := range tasks {
		link, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net")
		if err != nil {
			continue // the thread exited meanwhile
		}
		if link != own {
			out = append(out, task.Name()+" in "+link)
		}
	}
	return out
}

// sameFile reports whether two paths name the same namespace (or file).
func sameFile(a, b string) bool {
	var sa, sb unix.Stat_t
	return unix.Stat(a, &sa) == nil && unix.Stat(b, &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
