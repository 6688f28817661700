package api

import (
	"math"
	"time"
)

// The JSON documents the API writes. They are separate from the source
// structs so that the wire format changes only on purpose; openapi.json
// describes each of them and a test checks the two agree.

// listDoc is a page of a list endpoint.
type listDoc[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

// streamDoc is one live stream.
type streamDoc struct {
	App  string `json:"app"`
	Name string `json:"name"`
	// State is StateLive or StateWaiting.
	State string `json:"state"`
	// Publisher is null while the stream waits for a publisher.
	Publisher               *publisherDoc `json:"publisher"`
	Tracks                  tracksDoc     `json:"tracks"`
	BitrateBPS              int64         `json:"bitrate_bps"`
	VideoBitrateBPS         int64         `json:"video_bitrate_bps"`
	AudioBitrateBPS         int64         `json:"audio_bitrate_bps"`
	BytesIn                 uint64        `json:"bytes_in"`
	FramesIn                uint64        `json:"frames_in"`
	KeyframeIntervalSeconds float64       `json:"keyframe_interval_seconds"`
	Viewers                 viewersDoc    `json:"viewers"`
	DroppedFrames           uint64        `json:"dropped_frames"`
	StartTime               time.Time     `json:"start_time"`
	UptimeSeconds           float64       `json:"uptime_seconds"`
}

// publisherDoc is the publishing session of a stream.
type publisherDoc struct {
	ID         string    `json:"id"`
	Protocol   string    `json:"protocol"`
	RemoteAddr string    `json:"remote_addr"`
	StartTime  time.Time `json:"start_time"`
	Encoder    string    `json:"encoder"`
	// Capabilities and FourCCs are what an Enhanced RTMP publisher declared.
	Capabilities []string `json:"capabilities"`
	FourCCs      []string `json:"fourccs"`
}

// tracksDoc holds a stream's default tracks (absent ones are null) and
// the list of every track.
type tracksDoc struct {
	Video *videoDoc  `json:"video"`
	Audio *audioDoc  `json:"audio"`
	List  []trackDoc `json:"list"`
	// KeyframeAlignment compares the keyframes of the video tracks.
	KeyframeAlignment string `json:"keyframe_alignment"`
}

// videoDoc is a video track.
type videoDoc struct {
	Codec       string  `json:"codec"`
	CodecString string  `json:"codec_string"`
	Profile     string  `json:"profile"`
	Level       string  `json:"level"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	FPS         float64 `json:"fps"`
}

// audioDoc is an audio track.
type audioDoc struct {
	Codec       string `json:"codec"`
	CodecString string `json:"codec_string"`
	SampleRate  int    `json:"sample_rate"`
	Channels    int    `json:"channels"`
}

// viewersDoc counts viewers by protocol.
type viewersDoc struct {
	RTMP  int `json:"rtmp"`
	FLV   int `json:"flv"`
	WS    int `json:"ws"`
	HLS   int `json:"hls"`
	Total int `json:"total"`
}

// sessionDoc is one connection.
type sessionDoc struct {
	ID              string    `json:"id"`
	Role            string    `json:"role"`
	Protocol        string    `json:"protocol"`
	Stream          string    `json:"stream"`
	RemoteAddr      string    `json:"remote_addr"`
	StartTime       time.Time `json:"start_time"`
	DurationSeconds float64   `json:"duration_seconds"`
	BytesIn         uint64    `json:"bytes_in"`
	BytesOut        uint64    `json:"bytes_out"`
	DroppedFrames   uint64    `json:"dropped_frames"`
}

// serverDoc describes the server.
type serverDoc struct {
	Version       string            `json:"version"`
	StartTime     time.Time         `json:"start_time"`
	UptimeSeconds float64           `json:"uptime_seconds"`
	Totals        totalsDoc         `json:"totals"`
	Counters      map[string]uint64 `json:"counters"`
	Config        any               `json:"config"`
}

// totalsDoc counts the live streams and sessions, and the traffic since
// start.
type totalsDoc struct {
	Streams       int        `json:"streams"`
	Sessions      int        `json:"sessions"`
	Publishers    int        `json:"publishers"`
	Viewers       viewersDoc `json:"viewers"`
	BytesIn       uint64     `json:"bytes_in"`
	BytesOut      uint64     `json:"bytes_out"`
	DroppedFrames uint64     `json:"dropped_frames"`
}

// seconds returns d in seconds rounded to the millisecond.
func seconds(d time.Duration) float64 {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).Seconds()
}

// round2 rounds to two decimals (frame rates).
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// bps turns a measured bit rate into a whole number.
func bps(f float64) int64 {
	if f <= 0 || math.IsNaN(f) {
		return 0
	}
	return int64(math.Round(min(f, math.MaxInt64/2)))
}

// utc returns t in UTC (zero stays zero) so every timestamp is written
// the same way.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// newStreamDoc converts a stream snapshot.
func newStreamDoc(s StreamInfo, now time.Time) streamDoc {
	d := streamDoc{
		App:                     s.App,
		Name:                    s.Name,
		State:                   StateLive,
		BitrateBPS:              bps(s.Bitrate),
		VideoBitrateBPS:         bps(s.VideoBitrate),
		AudioBitrateBPS:         bps(s.AudioBitrate),
		BytesIn:                 s.BytesIn,
		FramesIn:                s.FramesIn,
		KeyframeIntervalSeconds: seconds(s.KeyframeInterval),
		Viewers:                 newViewersDoc(s.Viewers),
		DroppedFrames:           s.Dropped,
		StartTime:               utc(s.StartTime),
		UptimeSeconds:           seconds(now.Sub(s.StartTime)),
	}
	if s.State == StateWaiting {
		d.State = StateWaiting
	} else {
		d.Publisher = &publisherDoc{
			ID:         s.Publisher.SessionID,
			Protocol:   s.Publisher.Protocol,
			RemoteAddr: s.Publisher.RemoteAddr,
			StartTime:  utc(s.Publisher.StartTime),
			Encoder:    s.Publisher.Encoder,

			Capabilities: nonNil(s.Publisher.Capabilities),
			FourCCs:      nonNil(s.Publisher.FourCCs),
		}
	}
	d.Tracks.List = newTrackDocs(s.Tracks)
	d.Tracks.KeyframeAlignment = s.KeyframeAlignment
	if d.Tracks.KeyframeAlignment == "" {
		d.Tracks.KeyframeAlignment = AlignmentUnknown
	}
	if v := s.Video; v != nil {
		d.Tracks.Video = &videoDoc{
			Codec: v.Codec, CodecString: v.CodecString, Profile: v.Profile, Level: v.Level,
			Width: v.Width, Height: v.Height, FPS: round2(v.FPS),
		}
	}
	if a := s.Audio; a != nil {
		d.Tracks.Audio = &audioDoc{Codec: a.Codec, CodecString: a.CodecString, SampleRate: a.SampleRate, Channels: a.Channels}
	}
	return d
}

// newViewersDoc converts viewer counts.
func newViewersDoc(v ViewerCounts) viewersDoc {
	return viewersDoc{RTMP: v.RTMP, FLV: v.FLV, WS: v.WS, HLS: v.HLS, Total: v.Total()}
}

// newSessionDoc converts a session snapshot.
func newSessionDoc(s SessionInfo, now time.Time) sessionDoc {
	return sessionDoc{
		ID:              s.ID,
		Role:            s.Role,
		Protocol:        s.Protocol,
		Stream:          s.Stream,
		RemoteAddr:      s.RemoteAddr,
		StartTime:       utc(s.StartTime),
		DurationSeconds: seconds(now.Sub(s.StartTime)),
		BytesIn:         s.BytesIn,
		BytesOut:        s.BytesOut,
		DroppedFrames:   s.Dropped,
	}
}
