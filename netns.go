//go:build linux

package nfq

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// inNetNS runs fn in the network namespace at path: on an OS thread of its
// own that enters the namespace, runs fn and returns to its own namespace
// before inNetNS returns (or, if it cannot, dies with its goroutine, so that
// no other goroutine ever runs in the wrong namespace). With path "" it runs
// fn directly, in the calling thread's namespace. Sockets and files opened
// by fn keep the namespace they were opened in, whichever thread uses them
// later.
func inNetNS(queue uint16, path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err, home := enterAndRun(queue, path, fn)
		if home {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// enterAndRun runs fn in the namespace at path on the calling, locked,
// thread, and reports whether the thread is back in its own namespace.
func enterAndRun(queue uint16, path string, fn func() error) (err error, home bool) {
	orig, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return &OpError{Op: "open own network namespace", Queue: queue, Err: err,
			Hint: "entering Config.NetNS needs /proc, to come back from it"}, true
	}
	defer syscall.Close(orig)
	target, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return netNSError(queue, path, err), true
	}
	err = setns(target)
	syscall.Close(target)
	if err != nil {
		return netNSError(queue, path, err), true
	}
	err = fn()
	return err, setns(orig) == nil
}

func setns(fd int) error { return unix.Setns(fd, unix.CLONE_NEWNET) }

// netNSError explains why Config.NetNS could not be entered.
func netNSError(queue uint16, path string, err error) error {
	e := &OpError{Op: "enter network namespace " + path, Queue: queue, Err: err}
	switch err {
	case syscall.ENOENT, syscall.ENOTDIR:
		e.Kind = ErrInvalidConfig
		e.Hint = "Config.NetNS names no file: give /proc/PID/ns/net, /run/netns/NAME (ip netns) or /proc/self/fd/N"
	case syscall.EINVAL:
		e.Kind = ErrInvalidConfig
		e.Hint = "Config.NetNS is not a network namespace: give /proc/PID/ns/net, /run/netns/NAME (ip netns) or /proc/self/fd/N"
	case syscall.EPERM, syscall.EACCES:
		e.Kind = ErrNoPermission
		e.Hint = "entering another network namespace needs CAP_SYS_ADMIN (run as root), and the namespace's file must be readable"
	}
	return e
}
