package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nfq-go/nfq/bench/internal/result"
)

const queueProc = "/proc/net/netfilter/nfnetlink_queue"

// queueCounters reads the kernel's counters of one queue. They belong to the
// queue instance, which the kernel destroys with its socket: read them before
// stopping the consumer. A missing line means no queue instance (zeros).
func queueCounters(num uint16) (result.QueueCounters, error) {
	data, err := os.ReadFile(queueProc)
	if err != nil {
		return result.QueueCounters{}, err
	}
	return parseQueueCounters(string(data), num)
}

func parseQueueCounters(data string, num uint16) (c result.QueueCounters, err error) {
	for _, line := range strings.Split(data, "\n") {
		// queue_number peer_portid queue_total copy_mode copy_range
		// queue_dropped queue_user_dropped id_sequence 1
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != strconv.Itoa(int(num)) {
			continue
		}
		vals := make([]uint64, 3)
		for i, idx := range []int{2, 5, 6} {
			if vals[i], err = strconv.ParseUint(f[idx], 10, 64); err != nil {
				return c, fmt.Errorf("%s: %q: %v", queueProc, line, err)
			}
		}
		c.Total, c.Dropped, c.UserDropped = vals[0], vals[1], vals[2]
		return c, nil
	}
	return c, nil
}

// udpCounters reads the namespace's UDP counters from /proc/net/snmp: the
// datagrams delivered to sockets, and those dropped on a full receive buffer.
func udpCounters() (UDPCounters, error) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return UDPCounters{}, err
	}
	return parseUDPCounters(string(data))
}

func parseUDPCounters(data string) (UDPCounters, error) {
	var names []string
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil { // the first Udp: line names the columns
			names = f
			continue
		}
		var c UDPCounters
		for i := 1; i < len(f) && i < len(names); i++ {
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return c, fmt.Errorf("/proc/net/snmp: %q: %v", line, err)
			}
			switch names[i] {
			case "InDatagrams":
				c.InDatagrams = v
			case "RcvbufErrors":
				c.RcvbufErrors = v
			}
		}
		return c, nil
	}
	return UDPCounters{}, fmt.Errorf("/proc/net/snmp has no Udp counters")
}
