package hls

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// A group (Config.Groups) is a multivariant playlist over streams
// published separately, one per rendition (show_1080, show_720 …): each
// member is segmented as usual, into its own media playlist, and the
// group's playlist lists the members that are live.

// streamGroups are the configured groups, parsed.
type streamGroups struct {
	// members lists each group's member streams in configured order.
	members map[stream.Key][]stream.Key
	// of maps a member stream to its group.
	of map[stream.Key]stream.Key
}

// parseKey parses "app/name" into a stream key.
func parseKey(s string) (stream.Key, error) {
	app, name, ok := strings.Cut(s, "/")
	if !ok {
		return stream.Key{}, fmt.Errorf("%q is not app/name", s)
	}
	if err := stream.CheckName(app); err != nil {
		return stream.Key{}, err
	}
	if err := stream.CheckName(name); err != nil {
		return stream.Key{}, err
	}
	return stream.Key{App: app, Name: name}, nil
}

// parseGroups parses Config.Groups, failing for a name that is not
// app/name, a group without members, or a stream in two groups.
func parseGroups(cfg map[string][]string) (streamGroups, error) {
	g := streamGroups{members: map[stream.Key][]stream.Key{}, of: map[stream.Key]stream.Key{}}
	for name, list := range cfg {
		key, err := parseKey(name)
		if err != nil {
			return g, fmt.Errorf("group %q: %w", name, err)
		}
		if len(list) == 0 {
			return g, fmt.Errorf("group %q has no member", name)
		}
		for _, s := range list {
			mk, err := parseKey(s)
			if err != nil {
				return g, fmt.Errorf("group %q member: %w", name, err)
			}
			if mk == key {
				return g, fmt.Errorf("group %q lists itself", name)
			}
			if other, ok := g.of[mk]; ok {
				return g, fmt.Errorf("stream %q is in groups %q and %q", s, other, name)
			}
			g.of[mk] = key
			g.members[key] = append(g.members[key], mk)
		}
	}
	return g, nil
}

// memberURI returns the URI of member's media playlist relative to the
// playlist of group.
func memberURI(group, member stream.Key) string {
	if member.App == group.App {
		return member.Name + playlistSuffix
	}
	return "../" + member.App + "/" + member.Name + playlistSuffix
}

// serveGroup answers the multivariant playlist of group: a variant per
// member that is live and has a segment.
func (m *Manager) serveGroup(w http.ResponseWriter, r *http.Request, group stream.Key, members []stream.Key) {
	for _, mk := range members {
		if _, err := m.stateFor(mk); err != nil {
			mediahttp.Error(w, http.StatusServiceUnavailable, err.Error())
			return
		}
	}
	m.serveMultivariant(w, r, func() ([]variantEntry, audioRendition, bool) {
		audio := audioRendition{name: defaultAudioName}
		var vs []variantEntry
		all := true
		for _, mk := range members {
			s, ok := m.hub.Lookup(mk)
			if !ok || s.State() != stream.StateLive {
				continue // gone, or waiting for its publisher to come back
			}
			st := m.existing(mk)
			if st == nil || !st.ready() {
				all = false
				continue
			}
			rs := s.Renditions()
			if len(rs.Video) == 0 || rs.Video[0].Track != 0 {
				continue
			}
			var a *stream.Rendition
			if len(rs.Audio) > 0 && rs.Audio[0].Track == 0 {
				a = &rs.Audio[0]
				audio.channels = a.Channels
			}
			vs = append(vs, newVariant(memberURI(group, mk), rs.Video[0], a, st))
		}
		return vs, audio, all
	})
}

// groupsInvalid returns why Config.Groups cannot be used, or nil.
func groupsInvalid(cfg map[string][]string) error {
	_, err := parseGroups(cfg)
	return err
}

// wakeLeftMembers wakes the requests waiting on the playlist of a group
// member whose publisher is gone or away (janitor): they answer 404 at
// once (leftGroup), so players switch variant, rather than waiting for a
// part that may not come before Config.BlockingTimeout.
func (m *Manager) wakeLeftMembers() {
	if len(m.groups.of) == 0 {
		return
	}
	for mk := range m.groups.of {
		st := m.existing(mk)
		if st == nil || !m.leftGroup(mk) {
			continue
		}
		st.mu.Lock()
		if st.waiting > 0 {
			st.notify()
		}
		st.mu.Unlock()
	}
}
