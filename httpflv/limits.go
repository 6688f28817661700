package httpflv

// LimitWSMessageSize names the limit hit by a WebSocket viewer that sent a
// message larger than Config.WSReadLimit: the viewer is cut off.
const LimitWSMessageSize = "ws_message_size"

// LimitsHit returns how many times each of the handler's limits was hit
// since start, by limit name.
func (h *Handler) LimitsHit() map[string]uint64 {
	return map[string]uint64{LimitWSMessageSize: h.wsTooLarge.Load()}
}
