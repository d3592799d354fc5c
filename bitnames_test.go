package nfq

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every type a packet log shows prints as a word, not a number.
func TestStringsForLogging(t *testing.T) {
	for v, want := range map[fmt.Stringer]string{
		CopyPacket: "packet", CopyMeta: "meta", CopyNone: "none", CopyMode(9): "copymode(9)",
		HookPrerouting: "PREROUTING", HookInput: "INPUT", HookForward: "FORWARD",
		HookOutput: "OUTPUT", HookPostrouting: "POSTROUTING", Hook(9): "hook(9)",
		ConnNew: "NEW", ConnRelatedReply: "RELATED_REPLY", ConnState(7): "connstate(7)",
		Attr(0):                             "none",
		AttrMark | AttrOutDev | AttrPayload: "mark|outdev|payload",
		AttrConntrack | AttrConnState | AttrVLAN | AttrPriority: "conntrack|connstate|vlan|priority",
		AttrPriority | 1<<30:          "priority|0x40000000",
		SkbInfo(0):                    "none",
		SkbChecksumNotReady | SkbGSO:  "csum-not-ready|gso",
		SkbChecksumNotVerified | 1<<5: "csum-not-verified|0x20",
	} {
		assert.Equal(t, want, v.String(), "%T %d", v, v)
	}
	// Every named attribute has its own word.
	words := map[string]bool{}
	for a := AttrMark; a <= AttrPriority; a <<= 1 {
		s := a.String()
		assert.NotContains(t, s, "0x", "Attr %d has a name", uint32(a))
		assert.False(t, words[s], "Attr names are unique: %s", s)
		words[s] = true
	}
	p := &Packet{attrs: AttrMark | AttrUID}
	assert.Equal(t, "mark|uid", p.Attrs().String())
}
