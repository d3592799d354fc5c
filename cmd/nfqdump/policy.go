package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfq-go/nfq"
)

// policy is the verdict nfqdump gives every packet.
type policy struct {
	verdict nfq.Verdict
	setMark bool
	mark    uint32
}

// parsePolicy reads -verdict and -mark ("" when -mark was not given).
func parsePolicy(verdict, mark string) (policy, error) {
	var pol policy
	switch v := strings.ToLower(verdict); {
	case v == "accept":
		pol.verdict = nfq.Accept
	case v == "drop":
		pol.verdict = nfq.Drop
	case v == "repeat":
		pol.verdict = nfq.Repeat
	case strings.HasPrefix(v, "queue:"):
		num, bypass := strings.CutSuffix(strings.TrimPrefix(v, "queue:"), "+bypass")
		n, err := strconv.ParseUint(num, 10, 16)
		if err != nil {
			return pol, fmt.Errorf("-verdict %s: the queue number must be 0-65535", verdict)
		}
		pol.verdict = nfq.ToQueue(uint16(n), bypass)
	default:
		return pol, fmt.Errorf("-verdict %q: want accept, drop, repeat, queue:N or queue:N+bypass", verdict)
	}
	if mark != "" {
		m, err := strconv.ParseUint(mark, 0, 32)
		if err != nil {
			return pol, fmt.Errorf("-mark %q: want a 32-bit number (decimal, or 0x hex)", mark)
		}
		pol.setMark, pol.mark = true, uint32(m)
	}
	switch {
	case pol.verdict == nfq.Drop && pol.setMark:
		return pol, fmt.Errorf("-mark with -verdict drop has no effect: a dropped packet keeps no mark")
	case pol.verdict == nfq.Repeat && !pol.setMark:
		return pol, fmt.Errorf("-verdict repeat needs -mark: the hook runs again from its first rule, so the packet comes back to this queue unless that rule skips the mark (iptables ... -m mark ! --mark N -j NFQUEUE)")
	}
	return pol, nil
}

// apply gives p the policy's verdict.
func (pol policy) apply(p *nfq.Packet) error {
	if pol.setMark {
		return p.SetVerdict(pol.verdict, nfq.WithMark(pol.mark))
	}
	return p.SetVerdict(pol.verdict)
}

// closeVerdict is the verdict for packets still waiting when nfqdump stops:
// the policy's own, except repeat, which would loop without its mark.
func (pol policy) closeVerdict() nfq.Verdict {
	if pol.verdict == nfq.Repeat {
		return nfq.Accept
	}
	return pol.verdict
}

// parseFlags reads -flags: a comma-separated list of queue flag names.
func parseFlags(s string) (nfq.Flags, error) {
	var f nfq.Flags
	if s == "" {
		return 0, nil
	}
	for _, name := range strings.Split(s, ",") {
		flag, ok := flagByName[strings.TrimSpace(name)]
		if !ok {
			return 0, fmt.Errorf("-flags: unknown flag %q; known: fail-open, conntrack, gso, uid-gid, secctx", name)
		}
		f |= flag
	}
	return f, nil
}

var flagByName = map[string]nfq.Flags{
	"fail-open": nfq.FlagFailOpen,
	"conntrack": nfq.FlagConntrack,
	"gso":       nfq.FlagGSO,
	"uid-gid":   nfq.FlagUIDGID,
	"secctx":    nfq.FlagSecCtx,
}
