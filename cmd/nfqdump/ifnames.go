package main

import "net"

// ifNames resolves interface indexes to names in the network namespace of
// the process, remembering answers: a lookup is a netlink round trip.
type ifNames struct {
	cache map[uint32]string
	// resolve is net.InterfaceByIndex; tests replace it.
	resolve func(int) (*net.Interface, error)
}

func newIfNames() *ifNames {
	return &ifNames{cache: map[uint32]string{}, resolve: net.InterfaceByIndex}
}

// lookup returns the interface's name, or "" when no interface has that
// index (any more).
func (n *ifNames) lookup(index uint32) string {
	if name, ok := n.cache[index]; ok {
		return name
	}
	ifi, err := n.resolve(int(index))
	if err != nil {
		return "" // not cached: the interface may appear later
	}
	n.cache[index] = ifi.Name
	return ifi.Name
}
