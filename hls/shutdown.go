package hls

import "context"

// EndPlaylists ends every playlist for a server shutdown: it waits (until
// ctx ends) for the segmenters to drain their streams, which must have
// ended, then marks every playlist with segments complete
// (EXT-X-ENDLIST), at once rather than after Config.EndListDelay. Players
// that fetch a playlist afterwards see the stream end cleanly.
func (m *Manager) EndPlaylists(ctx context.Context) {
	m.mu.Lock()
	var feeding []<-chan struct{}
	for _, st := range m.states {
		if st.feeder != nil {
			feeding = append(feeding, st.feeder.done)
		}
	}
	m.mu.Unlock()
	for _, done := range feeding {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.states {
		st.mu.Lock()
		if !st.endList && len(st.windowEntries()) > 0 {
			st.endList = true
			st.rebuild(now)
			st.notify()
		}
		st.mu.Unlock()
	}
}
