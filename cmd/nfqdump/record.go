package main

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/nfq-go/nfq"
)

// record is one packet as -json prints it: every attribute the kernel sent
// (absent ones omitted), what nfqdump decoded from the headers, and the
// verdict. The C twin prints the same keys in the same order.
type record struct {
	Queue      uint16  `json:"queue"`
	ID         uint32  `json:"id"`
	HWProtocol uint16  `json:"hw_protocol"`
	Hook       string  `json:"hook"`
	Mark       *uint32 `json:"mark,omitempty"`
	Timestamp  string  `json:"timestamp,omitempty"`

	InDev          *uint32 `json:"indev,omitempty"`
	InDevName      string  `json:"indev_name,omitempty"`
	OutDev         *uint32 `json:"outdev,omitempty"`
	OutDevName     string  `json:"outdev_name,omitempty"`
	PhysInDev      *uint32 `json:"physindev,omitempty"`
	PhysInDevName  string  `json:"physindev_name,omitempty"`
	PhysOutDev     *uint32 `json:"physoutdev,omitempty"`
	PhysOutDevName string  `json:"physoutdev_name,omitempty"`

	HWAddr     *string `json:"hwaddr,omitempty"`
	SkbInfo    *uint32 `json:"skbinfo,omitempty"`
	UID        *uint32 `json:"uid,omitempty"`
	GID        *uint32 `json:"gid,omitempty"`
	SecCtx     *string `json:"secctx,omitempty"`
	CapLen     *uint32 `json:"cap_len,omitempty"` // whole packet length when the copy range cut it
	Priority   *uint32 `json:"priority,omitempty"`
	ConnState  string  `json:"ct_state,omitempty"`
	ConnID     *uint32 `json:"ct_id,omitempty"`
	ConnMark   *uint32 `json:"ct_mark,omitempty"`
	ConnStatus *uint32 `json:"ct_status,omitempty"`
	ConnZone   *uint16 `json:"ct_zone,omitempty"`
	VLANProto  *uint16 `json:"vlan_proto,omitempty"`
	VLANTCI    *uint16 `json:"vlan_tci,omitempty"`
	L2Header   *string `json:"l2hdr,omitempty"` // hex
	PayloadLen *int    `json:"payload_len,omitempty"`

	Proto    string  `json:"proto,omitempty"`
	Src      string  `json:"src,omitempty"`
	Dst      string  `json:"dst,omitempty"`
	SrcPort  *uint16 `json:"sport,omitempty"`
	DstPort  *uint16 `json:"dport,omitempty"`
	TCPFlags string  `json:"tcp_flags,omitempty"`
	ICMPType *uint8  `json:"icmp_type,omitempty"`
	ICMPCode *uint8  `json:"icmp_code,omitempty"`

	Verdict     string  `json:"verdict"`
	VerdictMark *uint32 `json:"verdict_mark,omitempty"`

	Payload *string `json:"payload,omitempty"` // hex

	decodeErr error // why the headers could not be read, for the text line
	length    int   // whole packet length, for the text line
}

// timestampLayout is UTC with the kernel's microsecond precision.
const timestampLayout = "2006-01-02T15:04:05.000000Z07:00"

func ptr[T any](v T) *T { return &v }

// when returns &v if the attribute is present, else nil (left out of JSON).
func when[T any](present bool, v T) *T {
	if !present {
		return nil
	}
	return &v
}

// newRecord describes p, given the verdict policy it got. has is p.Has and
// names queueDevNames; tests pass their own, since only a queue sets a
// Packet's presence bits and resolves its interfaces.
func newRecord(p *nfq.Packet, has func(nfq.Attr) bool, pol policy, names devNames) record {
	r := record{
		Queue:      p.Queue,
		ID:         p.ID,
		HWProtocol: p.HWProtocol,
		Hook:       p.Hook.String(),
		Verdict:    pol.verdict.String(),
		length:     len(p.Payload),
	}
	if pol.setMark {
		r.VerdictMark = ptr(pol.mark)
	}
	r.Mark = when(has(nfq.AttrMark), p.Mark)
	if has(nfq.AttrTimestamp) {
		r.Timestamp = p.Timestamp.UTC().Format(timestampLayout)
	}
	dev := func(a nfq.Attr, index uint32, n **uint32, name *string) {
		if has(a) {
			*n, *name = ptr(index), names(p, a)
		}
	}
	dev(nfq.AttrInDev, p.InDev, &r.InDev, &r.InDevName)
	dev(nfq.AttrOutDev, p.OutDev, &r.OutDev, &r.OutDevName)
	dev(nfq.AttrPhysInDev, p.PhysInDev, &r.PhysInDev, &r.PhysInDevName)
	dev(nfq.AttrPhysOutDev, p.PhysOutDev, &r.PhysOutDev, &r.PhysOutDevName)
	r.HWAddr = when(has(nfq.AttrHWAddr), p.HWAddr.String())
	r.SkbInfo = when(has(nfq.AttrSkbInfo), uint32(p.SkbInfo))
	r.UID = when(has(nfq.AttrUID), p.UID)
	r.GID = when(has(nfq.AttrGID), p.GID)
	r.SecCtx = when(has(nfq.AttrSecCtx), p.SecCtx)
	if has(nfq.AttrCapLen) {
		r.CapLen = ptr(p.OrigLen)
		r.length = int(p.OrigLen)
	}
	r.addConnAndLink(p, has)
	if has(nfq.AttrPayload) {
		r.PayloadLen = ptr(len(p.Payload))
		r.Payload = ptr(hex.EncodeToString(p.Payload))
		r.addHeaders(p.Payload)
	}
	return r
}

// devNames returns the name of the interface a packet's attribute a
// (AttrInDev, AttrOutDev, ...) refers to, or "" when it is unknown.
type devNames func(p *nfq.Packet, a nfq.Attr) string

// queueDevNames asks the packet's queue, which resolves the index in the
// queue's own network namespace. An index that names no interface (any
// more) gets "": the record then shows the index alone.
func queueDevNames(p *nfq.Packet, a nfq.Attr) string {
	var name string
	switch a {
	case nfq.AttrInDev:
		name, _ = p.InDevName()
	case nfq.AttrOutDev:
		name, _ = p.OutDevName()
	case nfq.AttrPhysInDev:
		name, _ = p.PhysInDevName()
	case nfq.AttrPhysOutDev:
		name, _ = p.PhysOutDevName()
	}
	return name
}

// addConnAndLink adds priority, conntrack, VLAN and L2 header attributes.
func (r *record) addConnAndLink(p *nfq.Packet, has func(nfq.Attr) bool) {
	r.Priority = when(has(nfq.AttrPriority), p.Priority)
	if has(nfq.AttrConnState) {
		r.ConnState = p.ConnState.String()
	}
	r.ConnID = when(has(nfq.AttrConnID), p.ConnID)
	r.ConnMark = when(has(nfq.AttrConnMark), p.ConnMark)
	r.ConnStatus = when(has(nfq.AttrConnStatus), p.ConnStatus)
	r.ConnZone = when(has(nfq.AttrConnZone), p.ConnZone)
	if has(nfq.AttrVLAN) {
		r.VLANProto, r.VLANTCI = ptr(p.VLANProto), ptr(p.VLANTCI)
	}
	r.L2Header = when(has(nfq.AttrL2Header), hex.EncodeToString(p.L2Header))
}

func (r *record) addHeaders(payload []byte) {
	h, err := decode(payload)
	if err != nil {
		r.decodeErr = err
		return
	}
	r.Proto, r.Src, r.Dst = h.Proto, h.Src.String(), h.Dst.String()
	if h.HasPorts {
		r.SrcPort, r.DstPort = ptr(h.SrcPort), ptr(h.DstPort)
	}
	if h.HasFlags {
		r.TCPFlags = tcpFlags(h.TCPFlags)
	}
	if h.HasICMP {
		r.ICMPType, r.ICMPCode = ptr(h.ICMPType), ptr(h.ICMPCode)
	}
}

// text is the human-readable line:
//
//	15:04:05.000000 q=0 id=7 OUTPUT in=- out=lo TCP 127.0.0.1:4321 > 127.0.0.1:80 flags=SA mark=0x7 len=60 accept
func (r *record) text(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s q=%d id=%d %s in=%s out=%s ", now.Format("15:04:05.000000"),
		r.Queue, r.ID, r.Hook, devText(r.InDev, r.InDevName), devText(r.OutDev, r.OutDevName))
	switch {
	case r.Payload == nil:
		b.WriteString("(no payload)")
	case r.decodeErr != nil:
		fmt.Fprintf(&b, "(%v)", r.decodeErr)
	case r.SrcPort != nil:
		fmt.Fprintf(&b, "%s %s > %s", r.Proto, hostPort(r.Src, *r.SrcPort), hostPort(r.Dst, *r.DstPort))
	default:
		fmt.Fprintf(&b, "%s %s > %s", r.Proto, r.Src, r.Dst)
	}
	if r.TCPFlags != "" {
		fmt.Fprintf(&b, " flags=%s", r.TCPFlags)
	}
	if r.ICMPType != nil {
		fmt.Fprintf(&b, " type=%d code=%d", *r.ICMPType, *r.ICMPCode)
	}
	if r.Mark != nil {
		fmt.Fprintf(&b, " mark=%#x", *r.Mark)
	}
	if r.ConnState != "" {
		fmt.Fprintf(&b, " ct=%s", r.ConnState)
	}
	if r.ConnMark != nil {
		fmt.Fprintf(&b, " ctmark=%#x", *r.ConnMark)
	}
	if r.Priority != nil {
		fmt.Fprintf(&b, " prio=%d", *r.Priority)
	}
	if r.VLANTCI != nil {
		fmt.Fprintf(&b, " vlan=%d", *r.VLANTCI&0x0fff)
	}
	fmt.Fprintf(&b, " len=%d %s", r.length, r.Verdict)
	if r.VerdictMark != nil {
		fmt.Fprintf(&b, " set-mark=%#x", *r.VerdictMark)
	}
	return b.String()
}

func devText(index *uint32, name string) string {
	switch {
	case index == nil:
		return "-"
	case name != "":
		return name
	}
	return fmt.Sprint(*index)
}

func hostPort(addr string, port uint16) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}
