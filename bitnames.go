package nfq

import (
	"fmt"
	"strings"
)

// bitName names one bit of a bit set.
type bitName[T ~uint32] struct {
	f    T
	name string
}

// bitString spells v as the names of its bits joined by "|", bits without a
// name in hex, and no bit at all as "none".
func bitString[T ~uint32](v T, names []bitName[T]) string {
	if v == 0 {
		return "none"
	}
	var parts []string
	for _, n := range names {
		if v&n.f != 0 {
			parts = append(parts, n.name)
			v &^= n.f
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint32(v)))
	}
	return strings.Join(parts, "|")
}

var attrNames = []bitName[Attr]{
	{AttrMark, "mark"},
	{AttrTimestamp, "timestamp"},
	{AttrInDev, "indev"},
	{AttrOutDev, "outdev"},
	{AttrPhysInDev, "physindev"},
	{AttrPhysOutDev, "physoutdev"},
	{AttrHWAddr, "hwaddr"},
	{AttrPayload, "payload"},
	{AttrCapLen, "caplen"},
	{AttrSkbInfo, "skbinfo"},
	{AttrUID, "uid"},
	{AttrGID, "gid"},
	{AttrSecCtx, "secctx"},
	{AttrConntrack, "conntrack"},
	{AttrConnState, "connstate"},
	{AttrConnID, "connid"},
	{AttrConnMark, "connmark"},
	{AttrConnStatus, "connstatus"},
	{AttrConnZone, "connzone"},
	{AttrVLAN, "vlan"},
	{AttrL2Header, "l2header"},
	{AttrPriority, "priority"},
}

// String spells the set as "mark|outdev|payload", for logging
// Packet.Attrs.
func (a Attr) String() string { return bitString(a, attrNames) }

var skbInfoNames = []bitName[SkbInfo]{
	{SkbChecksumNotReady, "csum-not-ready"},
	{SkbGSO, "gso"},
	{SkbChecksumNotVerified, "csum-not-verified"},
}

// String spells the bits as "csum-not-ready|gso".
func (s SkbInfo) String() string { return bitString(s, skbInfoNames) }

// String spells the flags as "fail-open|gso".
func (f Flags) String() string { return bitString(f, flagNames) }
