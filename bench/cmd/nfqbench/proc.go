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
func startDaemon(argv []string) (*daemon, error) {
	d := &daemon{
		name:  baseName(argv[0]),
		cmd:   exec.Command(argv[0], argv[1:]...),
		ready: make(chan struct{}),
		done:  make(chan exit, 1),
	}
	d.cmd.Stderr = os.Stderr
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

func (d *daemon) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	var last string
	readySeen := false
	for sc.Scan() {
		if !readySeen && sc.Text() == "READY" {
			readySeen = true
			close(d.ready)
			continue
		}
		last = sc.Text()
	}
	d.done <- exit{strings.TrimSpace(last), d.cmd.Wait()}
}

// stop sends SIGTERM and decodes the JSON line printed on the way out into v.
func (d *daemon) stop(v any) error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("%s: %v", d.name, err)
	}
	select {
	case e := <-d.done:
		if e.err != nil {
			return fmt.Errorf("%s: %v", d.name, e.err)
		}
		return decodeLine(d.name, e.last, v)
	case <-time.After(stopTimeout):
		d.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM", d.name, stopTimeout)
	}
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
