package hls

// emitInit makes data, the init section of generation gen, the one the
// stream's next segments need. Placeholder until the serving side stores
// init sections.
func (m *Manager) emitInit(st *streamState, gen int, data []byte) {}

// emitPart publishes a finished part of the segment in progress.
// Placeholder until the serving side lists parts.
func (m *Manager) emitPart(st *streamState, p *Part) {}
