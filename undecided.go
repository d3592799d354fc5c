package nfq

// undecided tracks, in arrival order, the packets handed out without a
// verdict yet, so that a flush knows the lowest id still waiting for one. A
// run of identical verdicts may then leave as one batch message (which covers
// every waiting packet up to an id) whenever no undecided packet is among
// those ids, also while newer packets wait in the Packets channel.
//
// It is guarded by Queue.vmu. Decided entries leave from the front; one
// packet held for long keeps the later ones in the ring, so the ring has a
// ceiling: past it, tracking stops (and with it the batch messages) until
// every packet has its verdict again.
type undecided struct {
	ids     []uint32 // ring of packet ids, oldest at head
	decided []bool
	head    int    // index of the oldest entry
	n       int    // entries in the ring
	headSeq uint64 // tracking sequence number of the entry at head
	nextSeq uint64 // sequence number the next packet gets
	// lost is set when the ring was full: packets from then on are not
	// tracked, so the lowest undecided id is unknown.
	lost bool
	// untracked counts handed-out packets without a ring entry that have
	// no verdict yet; tracking resumes when it and the ring are empty.
	untracked int
}

const (
	undecidedInitial = 256
	undecidedMax     = 1 << 16
)

// add registers a packet handed out without a verdict.
func (u *undecided) add(p *Packet) {
	if u.lost || u.n == undecidedMax {
		u.lost = true
		u.untracked++
		p.track = trackUntracked
		return
	}
	if u.n == len(u.ids) {
		u.grow()
	}
	i := (u.head + u.n) % len(u.ids)
	u.ids[i], u.decided[i] = p.ID, false
	u.n++
	p.track = trackInRing
	p.seq = u.nextSeq
	u.nextSeq++
}

func (u *undecided) grow() {
	size := max(undecidedInitial, 2*len(u.ids))
	ids, decided := make([]uint32, size), make([]bool, size)
	for k := 0; k < u.n; k++ {
		i := (u.head + k) % len(u.ids)
		ids[k], decided[k] = u.ids[i], u.decided[i]
	}
	u.ids, u.decided, u.head = ids, decided, 0
}

// decide records the verdict of a packet registered with add.
func (u *undecided) decide(p *Packet) {
	switch p.track {
	case trackInRing:
		k := int(p.seq - u.headSeq)
		u.decided[(u.head+k)%len(u.ids)] = true
		for u.n > 0 && u.decided[u.head] {
			u.head = (u.head + 1) % len(u.ids)
			u.n--
			u.headSeq++
		}
	case trackUntracked:
		u.untracked--
	}
	p.track = trackNone
	if u.lost && u.n == 0 && u.untracked == 0 {
		u.lost = false
	}
}

// lowest returns the lowest id of a handed-out packet without a verdict;
// any is false when there is none. known is false when tracking was lost.
func (u *undecided) lowest() (id uint32, any, known bool) {
	if u.lost {
		return 0, true, false
	}
	if u.n == 0 {
		return 0, false, true
	}
	return u.ids[u.head], true, true
}

// Packet.track values.
const (
	trackNone uint8 = iota
	trackInRing
	trackUntracked
)
