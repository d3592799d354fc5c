package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attrs stands in for Packet.Has: only a queue sets a Packet's own bits.
func attrs(a nfq.Attr) func(nfq.Attr) bool {
	return func(x nfq.Attr) bool { return a&x == x }
}

// fakeNames names index 1 lo and 3 veth0; other indexes are unknown.
func fakeNames(p *nfq.Packet, a nfq.Attr) string {
	index := map[nfq.Attr]uint32{nfq.AttrInDev: p.InDev, nfq.AttrOutDev: p.OutDev,
		nfq.AttrPhysInDev: p.PhysInDev, nfq.AttrPhysOutDev: p.PhysOutDev}[a]
	return map[uint32]string{1: "lo", 3: "veth0"}[index]
}

func encode(t *testing.T, r record) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(r))
	return b.String()
}

func TestRecordOmitsAbsentAttributes(t *testing.T) {
	payload := ip4(ipprotoUDP, "127.0.0.1", "127.0.0.1", 0, udp(40000, 9999))
	// Zero values the kernel did not send must not show.
	p := &nfq.Packet{Queue: 3, ID: 9, HWProtocol: 0x0800, Hook: nfq.HookOutput, OutDev: 1, Payload: payload}
	r := newRecord(p, attrs(nfq.AttrOutDev|nfq.AttrPayload), policy{verdict: nfq.Accept}, fakeNames)
	assert.Equal(t, `{"queue":3,"id":9,"hw_protocol":2048,"hook":"OUTPUT","outdev":1,"outdev_name":"lo",`+
		`"payload_len":28,"proto":"UDP","src":"127.0.0.1","dst":"127.0.0.1","sport":40000,"dport":9999,`+
		`"verdict":"accept","payload":"`+hex.EncodeToString(payload)+`"}`+"\n", encode(t, r))
}

func TestRecordHasEveryAttributeThatIsPresent(t *testing.T) {
	p := &nfq.Packet{
		Queue: 1, ID: 2, HWProtocol: 0x86dd, Hook: nfq.HookPrerouting,
		Mark: 0, Timestamp: time.Unix(1700000000, 123456000),
		InDev: 3, OutDev: 0, PhysInDev: 7, PhysOutDev: 8,
		HWAddr:  net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01},
		SkbInfo: nfq.SkbChecksumNotReady, UID: 0, GID: 1234, SecCtx: `sys"tem_u`,
		OrigLen: 1500,
	}
	all := nfq.AttrMark | nfq.AttrTimestamp | nfq.AttrInDev | nfq.AttrPhysInDev | nfq.AttrPhysOutDev |
		nfq.AttrHWAddr | nfq.AttrSkbInfo | nfq.AttrUID | nfq.AttrGID | nfq.AttrSecCtx | nfq.AttrCapLen
	r := newRecord(p, attrs(all), policy{verdict: nfq.ToQueue(4, true), setMark: true, mark: 7}, fakeNames)
	// Present zeros (mark, uid) show; the names of unknown devices do not.
	assert.Equal(t, `{"queue":1,"id":2,"hw_protocol":34525,"hook":"PREROUTING","mark":0,`+
		`"timestamp":"2023-11-14T22:13:20.123456Z","indev":3,"indev_name":"veth0","physindev":7,"physoutdev":8,`+
		`"hwaddr":"02:00:00:00:00:01","skbinfo":1,"uid":0,"gid":1234,"secctx":"sys\"tem_u","cap_len":1500,`+
		`"verdict":"queue:4+bypass","verdict_mark":7}`+"\n", encode(t, r))
}

func TestText(t *testing.T) {
	now := time.Date(2024, 1, 2, 15, 4, 5, 123456000, time.Local)
	syn := ip4(ipprotoTCP, "127.0.0.1", "127.0.0.2", 0, tcp(4321, 80, 0x02))
	tests := []struct {
		name string
		p    *nfq.Packet
		has  nfq.Attr
		pol  policy
		want string
	}{
		{"tcp with mark", &nfq.Packet{ID: 7, Hook: nfq.HookOutput, OutDev: 1, Mark: 5, Payload: syn},
			nfq.AttrOutDev | nfq.AttrMark | nfq.AttrPayload, policy{verdict: nfq.Accept, setMark: true, mark: 9},
			"15:04:05.123456 q=0 id=7 OUTPUT in=- out=lo TCP 127.0.0.1:4321 > 127.0.0.2:80 flags=S mark=0x5 len=40 accept set-mark=0x9"},
		{"icmpv6 on an unknown device", &nfq.Packet{Queue: 2, ID: 1, Hook: nfq.HookInput, InDev: 42,
			Payload: ip6(ipprotoICMPv6, "::1", "::1", []byte{129, 0, 0, 0})},
			nfq.AttrInDev | nfq.AttrPayload, policy{verdict: nfq.Drop},
			"15:04:05.123456 q=2 id=1 INPUT in=42 out=- ICMPv6 ::1 > ::1 type=129 code=0 len=44 drop"},
		{"ipv6 udp", &nfq.Packet{ID: 3, Hook: nfq.HookOutput, Payload: ip6(ipprotoUDP, "::1", "::2", udp(1, 53))},
			nfq.AttrPayload, policy{verdict: nfq.Accept},
			"15:04:05.123456 q=0 id=3 OUTPUT in=- out=- UDP [::1]:1 > [::2]:53 len=48 accept"},
		{"truncated by the copy range", &nfq.Packet{ID: 4, Payload: syn[:10], OrigLen: 40},
			nfq.AttrPayload | nfq.AttrCapLen, policy{verdict: nfq.Accept},
			"15:04:05.123456 q=0 id=4 PREROUTING in=- out=- (IPv4 header cut at 10 bytes) len=40 accept"},
		{"meta mode", &nfq.Packet{ID: 5, OrigLen: 60}, nfq.AttrCapLen, policy{verdict: nfq.Accept},
			"15:04:05.123456 q=0 id=5 PREROUTING in=- out=- (no payload) len=60 accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecord(tt.p, attrs(tt.has), tt.pol, fakeNames)
			assert.Equal(t, tt.want, r.text(now))
		})
	}
}

func TestRecordHasConntrackVLANL2HeaderAndPriority(t *testing.T) {
	p := &nfq.Packet{Queue: 1, ID: 2, HWProtocol: 0x0800, Hook: nfq.HookPrerouting,
		Priority: 6, ConnState: nfq.ConnEstablished, ConnID: 77, ConnMark: 0, ConnStatus: 14, ConnZone: 3,
		VLANProto: 0x8100, VLANTCI: 0x602a, L2Header: []byte{0xde, 0xad}}
	all := nfq.AttrPriority | nfq.AttrConntrack | nfq.AttrConnState | nfq.AttrConnID | nfq.AttrConnMark |
		nfq.AttrConnStatus | nfq.AttrConnZone | nfq.AttrVLAN | nfq.AttrL2Header
	r := newRecord(p, attrs(all), policy{verdict: nfq.Accept}, fakeNames)
	assert.Equal(t, `{"queue":1,"id":2,"hw_protocol":2048,"hook":"PREROUTING","priority":6,"ct_state":"ESTABLISHED",`+
		`"ct_id":77,"ct_mark":0,"ct_status":14,"ct_zone":3,"vlan_proto":33024,"vlan_tci":24618,"l2hdr":"dead",`+
		`"verdict":"accept"}`+"\n", encode(t, r))
	assert.Equal(t, "15:04:05.123456 q=1 id=2 PREROUTING in=- out=- (no payload) ct=ESTABLISHED ctmark=0x0 prio=6 vlan=42 len=0 accept",
		r.text(time.Date(2024, 1, 2, 15, 4, 5, 123456000, time.Local)))

	// Absent, they do not show, even with the fields set.
	r = newRecord(p, attrs(0), policy{verdict: nfq.Accept}, fakeNames)
	assert.Equal(t, `{"queue":1,"id":2,"hw_protocol":2048,"hook":"PREROUTING","verdict":"accept"}`+"\n", encode(t, r))
}
