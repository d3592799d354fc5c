package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// daemon is a helper that runs until told to stop (a consumer, the sink).
// It prints READY when set up and one JSON line when stopped.
type daemon struct {
	name  string
	cmd   *exec.Cmd
	ready chan struct{} // closed on READY
	done  chan exit     // sent once the process has exited
	// readyOnStderr, when set, is the start of the stderr line that says
	// the program is ready, for programs that print no READY (passer).
	readyOnStderr string
	stderr        *io.PipeWriter // to watchStderr; closed once the process exited
}

// exit is how a daemon ended: its last stdout line and Wait's error.
type exit struct {
	last string
	err  error
}

const (
	readyTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// startDaemon starts argv and waits for its READY line.
func startDaemon(argv []string) (*daemon, error) { return startDaemonReadyOn(argv, "") }

// startDaemonReadyOn starts argv and waits for its READY line or, with
// readyOnStderr set, for a stderr line starting with it.
func startDaemonReadyOn(argv []string, readyOnStderr string) (*daemon, error) {
	d := &daemon{
		name:          baseName(argv[0]),
		cmd:           exec.Command(argv[0], argv[1:]...),
		ready:         make(chan struct{}),
		done:          make(chan exit, 1),
		readyOnStderr: readyOnStderr,
	}
	d.cmd.Stderr = os.Stderr
	if readyOnStderr != "" {
		pr, pw := io.Pipe()
		d.cmd.Stderr, d.stderr = pw, pw
		go d.watchStderr(pr)
	}
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go d.read(out)
	select {
	case <-d.ready:
		return d, nil
	case e := <-d.done:
		return nil, fmt.Errorf("%s exited before READY: %v", d.name, e.err)
	case <-time.After(readyTimeout):
		d.kill()
		return nil, fmt.Errorf("%s not READY after %s", d.name, readyTimeout)
	}
}

// watchStderr passes stderr on and closes ready at the readyOnStderr line.
func (d *daemon) watchStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	readySeen := false
	for sc.Scan() {
		if !readySeen && strings.HasPrefix(sc.Text(), d.readyOnStderr) {
			readySeen = true
			close(d.ready)
		}
		fmt.Fprintln(os.Stderr, sc.Text())
	}
}

func (d *daemon) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	var last string
	readySeen := d.readyOnStderr != ""
	for sc.Scan() {
		if !readySeen && sc.Text() == "READY" {
			readySeen = true
			close(d.ready)
			continue
		}
		last = sc.Text()
	}
	err := d.cmd.Wait()
	if d.stderr != nil {
		d.stderr.Close()
	}
	d.done <- exit{strings.TrimSpace(last), err}
}

// stop sends SIGTERM and decodes the JSON line printed on the way out into v.
func (d *daemon) stop(v any) error {
	last, err := d.stopLine()
	if err != nil {
		return err
	}
	return decodeLine(d.name, last, v)
}

// stopLine sends SIGTERM and returns the last line printed on the way out.
func (d *daemon) stopLine() (string, error) {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return "", fmt.Errorf("%s: %v", d.name, err)
	}
	select {
	case e := <-d.done:
		if e.err != nil {
			return "", fmt.Errorf("%s: %v", d.name, e.err)
		}
		return e.last, nil
	case <-time.After(stopTimeout):
		d.kill()
		return "", fmt.Errorf("%s did not exit within %s of SIGTERM", d.name, stopTimeout)
	}
}

// rusage is the CPU time of the exited process.
func (d *daemon) rusage() (user, sys float64) {
	ru, ok := d.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	return float64(ru.Utime.Nano()) / 1e9, float64(ru.Stime.Nano()) / 1e9
}

// kill ends the process if it still runs; safe to defer after stop.
func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
}

// runJSON runs argv to completion within timeout and decodes its last line.
func runJSON(argv []string, timeout time.Duration, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	name := baseName(argv[0])
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return decodeLine(name, lines[len(lines)-1], v)
}

func decodeLine(name, line string, v any) error {
	if line == "" {
		return fmt.Errorf("%s printed no result", name)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	dec.DisallowUnknownFields() // catches C and Go programs drifting apart
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: bad result line %q: %v", name, line, err)
	}
	return nil
}

// run runs a setup command and reports its output on failure.
func run(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return errors.New(strings.Join(argv, " ") + ": " + err.Error() + ": " + strings.TrimSpace(string(out)))
	}
	return nil
}

func baseName(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}
