package stream

// ClientCaps is what an Enhanced RTMP publisher declared it supports in its
// connect command (other ingests leave it zero).
type ClientCaps struct {
	// CapsEx is the Enhanced RTMP capsEx bit set: Reconnect 0x01,
	// Multitrack 0x02, ModEx 0x04, TimestampNanoOffset 0x08.
	CapsEx uint32
	// Codecs lists the FourCCs the publisher declared (fourCcList and the
	// video and audio FourCC info maps), sorted.
	Codecs []string
}

// Capability names of the capsEx bits, in bit order.
var capsExNames = [...]string{"reconnect", "multitrack", "modex", "timestamp-nano-offset"}

// Names returns the names of the capsEx bits set ("reconnect",
// "multitrack", "modex", "timestamp-nano-offset"), in bit order.
func (c ClientCaps) Names() []string {
	var out []string
	for i, n := range capsExNames {
		if c.CapsEx&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}
