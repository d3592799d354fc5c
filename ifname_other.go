//go:build !linux || !cgo

package nfq

// Interface names come from the kernel through a queue's socket
// (ifname.go): in this build there is none.

// InterfaceName fails: NFQUEUE requires Linux and cgo.
func (q *Queue) InterfaceName(uint32) (string, error) { return "", q.err("interface name") }

// InDevName fails: NFQUEUE requires Linux and cgo.
func (p *Packet) InDevName() (string, error) { return "", errUnsupported }

// OutDevName fails: NFQUEUE requires Linux and cgo.
func (p *Packet) OutDevName() (string, error) { return "", errUnsupported }

// PhysInDevName fails: NFQUEUE requires Linux and cgo.
func (p *Packet) PhysInDevName() (string, error) { return "", errUnsupported }

// PhysOutDevName fails: NFQUEUE requires Linux and cgo.
func (p *Packet) PhysOutDevName() (string, error) { return "", errUnsupported }
