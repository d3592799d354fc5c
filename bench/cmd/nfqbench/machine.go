package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Host describes the machine the numbers come from, and how quiet it was:
// other work on a 2-core machine moves every figure.
type Host struct {
	Kernel      string  `json:"kernel"`
	CPU         string  `json:"cpu"`
	Cores       int     `json:"cores"`
	Go          string  `json:"go"`
	LibNFQ      string  `json:"libnetfilter_queue"`
	BusyAtStart float64 `json:"busy_at_start"` // cores busy with other work in the second before the first sample
	StealPct    float64 `json:"steal_pct"`     // CPU time the hypervisor took during the run
}

func hostInfo() Host {
	h := Host{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := exec.Command("pkg-config", "--modversion", "libnetfilter_queue").Output(); err == nil {
		h.LibNFQ = strings.TrimSpace(string(b))
	}
	h.BusyAtStart = busyCores(time.Second)
	return h
}

// busyCores measures how many cores' worth of CPU the machine uses over d.
func busyCores(d time.Duration) float64 {
	start := takeCPUSnapshot()
	time.Sleep(d)
	return start.busyCores()
}

type cpuSnapshot struct{ total, idle uint64 }

func takeCPUSnapshot() cpuSnapshot {
	t, i := cpuIdle()
	return cpuSnapshot{t, i}
}

// busyCores is how many cores' worth of CPU the whole machine used since s.
func (s cpuSnapshot) busyCores() float64 {
	now := takeCPUSnapshot()
	if now.total <= s.total {
		return 0
	}
	busy := float64((now.total - s.total) - (now.idle - s.idle))
	return busy / float64(now.total-s.total) * float64(runtime.NumCPU())
}

// cpuJiffies returns the machine's total and steal CPU time from /proc/stat.
func cpuJiffies() (total, steal uint64) {
	f := cpuFields()
	for i, v := range f {
		total += v
		if i == 7 {
			steal = v
		}
	}
	return total, steal
}

// cpuIdle returns the machine's total and idle (idle + iowait) CPU time.
func cpuIdle() (total, idle uint64) {
	f := cpuFields()
	for i, v := range f {
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return total, idle
}

// cpuFields returns the first eight counters of /proc/stat's cpu line:
// user nice system idle iowait irq softirq steal (guest time is in user).
func cpuFields() []uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var v []uint64
	for i := 1; i < len(f) && i <= 8; i++ {
		n, _ := strconv.ParseUint(f[i], 10, 64)
		v = append(v, n)
	}
	return v
}
