package fmp4_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// The elementary streams the judges read back: encoded by ffmpeg from lavfi
// test sources (FLV for H.264, AAC and MP3; raw streams for the codecs
// Debian's ffmpeg 5.1 cannot put in FLV), parsed with the flv package's
// codec parsers into a track and its samples.

// Test clip parameters.
const (
	clipWidth, clipHeight = 320, 240
	clipFPS               = 25
	clipSeconds           = "2"
	clipRate              = 48000
	videoTimescale        = fmp4.DefaultVideoTimescale
	frameTicks            = videoTimescale / clipFPS
)

// timedSample is a sample with its decode time in the track's timescale.
type timedSample struct {
	dts uint64
	fmp4.Sample
}

// media is one elementary stream ready for fmp4.
type media struct {
	track fmp4.Track
	// timescale is the track's timescale, which NewInit derives when the
	// track leaves it 0.
	timescale uint32
	samples   []timedSample
}

// duration returns the stream's length in its timescale.
func (m media) duration() uint64 {
	last := m.samples[len(m.samples)-1]
	return last.dts + uint64(last.Duration)
}

// seconds returns the stream's length in seconds.
func (m media) seconds() float64 {
	return float64(m.duration()) / float64(m.timescale)
}

// encode runs ffmpeg on the lavfi test sources with the given output
// arguments and returns what it wrote.
func encode(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	all := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-ac", "2",
		"-t", clipSeconds}
	all = append(all, args...)
	cmd := exec.Command(testenv.Tool(t, "ffmpeg"), append(all, out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// flvMedia encodes H.264 with B-frames and the given audio codec into FLV
// and returns the video and audio streams read from it.
func flvMedia(t *testing.T, audioArgs ...string) (video, audio media) {
	t.Helper()
	args := append([]string{"-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p"}, audioArgs...)
	data := encode(t, "clip.flv", append(args, "-f", "flv")...)
	r := flv.NewReader(bytes.NewReader(data))
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	video.track, video.timescale = fmp4.Track{ID: 1, Codec: fmp4.CodecAVC}, videoTimescale
	audio.track = fmp4.Track{ID: 2}
	var audioTicks uint64
	for {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch tag.Type {
		case flv.TagVideo:
			h, err := flv.ParseVideoTagHeader(tag.Data)
			if err != nil {
				t.Fatal(err)
			}
			body := bytes.Clone(tag.Data[h.HeaderLen:])
			if h.PacketType == flv.PacketSequenceEnd {
				continue
			}
			if h.IsSequenceHeader() {
				c, err := flv.ParseAVCDecoderConfig(body)
				if err != nil {
					t.Fatal(err)
				}
				sps, err := flv.ParseSPS(c.SPS[0])
				if err != nil {
					t.Fatal(err)
				}
				video.track.Config, video.track.Width, video.track.Height = body, sps.Width, sps.Height
				continue
			}
			flags := fmp4.NonSyncSample
			if h.Keyframe() {
				flags = fmp4.SyncSample
			}
			video.samples = append(video.samples, timedSample{dts: uint64(tag.Timestamp) * 90,
				Sample: fmp4.Sample{CompositionOffset: h.CompositionTime * 90, Flags: flags, Data: body}})
		case flv.TagAudio:
			h, err := flv.ParseAudioTagHeader(tag.Data)
			if err != nil {
				t.Fatal(err)
			}
			body := bytes.Clone(tag.Data[h.HeaderLen:])
			switch {
			case h.Codec == flv.FourCCAAC && h.IsSequenceHeader():
				c, err := flv.ParseAACConfig(body)
				if err != nil {
					t.Fatal(err)
				}
				audio.track.Codec, audio.track.Config = fmp4.CodecAAC, body
				audio.track.SampleRate, audio.track.Channels = c.SampleRate, c.Channels
				audio.timescale = uint32(c.SampleRate)
				continue
			case h.Codec == flv.FourCCMP3 && audio.track.Codec == 0:
				// MP3 has no sequence header: the first frame describes it.
				audio.track.Codec, audio.track.Config = fmp4.CodecMP3, body
				audio.timescale = 44100 // the rate the clip is encoded at
			}
			frame := uint64(1024)
			if h.Codec == flv.FourCCMP3 {
				frame = 1152
			}
			audio.samples = append(audio.samples, timedSample{dts: audioTicks,
				Sample: fmp4.Sample{Duration: uint32(frame), Flags: fmp4.SyncSample, Data: body}})
			audioTicks += frame
		}
	}
	video.samples = withDurations(video.samples)
	// As CMAF writers do, shift the composition offsets so that the first
	// frame is presented at its decode time: B-frames then have negative
	// offsets (trun version 1).
	if len(video.samples) > 0 {
		first := video.samples[0].CompositionOffset
		for i := range video.samples {
			video.samples[i].CompositionOffset -= first
		}
	}
	return video, audio
}

// withDurations sets each sample's duration to the gap to the next one
// (the last repeats the one before).
func withDurations(s []timedSample) []timedSample {
	for i := range s {
		if i+1 < len(s) {
			s[i].Duration = uint32(s[i+1].dts - s[i].dts)
		} else if i > 0 {
			s[i].Duration = s[i-1].Duration
		}
	}
	return s
}

// annexBAccessUnits splits an Annex-B stream whose access units start with
// an access unit delimiter into length-prefixed samples, keeping the NAL
// units keep says belong in a sample (keep may note the others, such as
// parameter sets, on the side).
func annexBAccessUnits(t *testing.T, stream []byte, isAUD, keep func(nalu []byte) bool) [][]byte {
	t.Helper()
	var units [][]byte
	err := flv.ForEachAnnexBNALU(stream, func(nalu []byte) error {
		switch {
		case isAUD(nalu):
			units = append(units, nil)
		case len(units) > 0 && keep(nalu):
			units[len(units)-1] = binary.BigEndian.AppendUint32(units[len(units)-1], uint32(len(nalu)))
			units[len(units)-1] = append(units[len(units)-1], nalu...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return units
}

// hevcMedia encodes H.265 without B-frames as a raw Annex-B stream and
// builds its hvcC from the parameter sets.
func hevcMedia(t *testing.T) media {
	t.Helper()
	stream := encode(t, "clip.hevc", "-map", "0:v", "-c:v", "libx265", "-preset", "ultrafast",
		"-x265-params", "bframes=0:keyint=25:min-keyint=25:log-level=error", "-pix_fmt", "yuv420p",
		"-bsf:v", "hevc_metadata=aud=insert", "-f", "hevc")
	params := map[uint8][]byte{}
	units := annexBAccessUnits(t, stream,
		func(n []byte) bool { return flv.HEVCNALUType(n) == flv.HEVCNALAUD },
		func(n []byte) bool {
			typ := flv.HEVCNALUType(n)
			if typ >= flv.HEVCNALVPS && typ <= flv.HEVCNALPPS {
				if params[typ] == nil {
					params[typ] = bytes.Clone(n)
				}
				return false
			}
			return true
		})
	sps, err := flv.ParseHEVCSPS(params[flv.HEVCNALSPS])
	if err != nil {
		t.Fatal(err)
	}
	// general_profile_tier_level follows the SPS's NAL header and first byte.
	ptl := unescapeRBSP(params[flv.HEVCNALSPS][3:min(len(params[flv.HEVCNALSPS]), 3+16)])[:12]
	config := flv.HEVCDecoderConfig{
		ProfileSpace: ptl[0] >> 6, HighTier: ptl[0]&0x20 != 0, Profile: ptl[0] & 0x1f,
		CompatibilityFlags: binary.BigEndian.Uint32(ptl[1:5]),
		ConstraintFlags:    uint64(binary.BigEndian.Uint16(ptl[5:7]))<<32 | uint64(binary.BigEndian.Uint32(ptl[7:11])),
		Level:              ptl[11], ChromaFormat: uint8(sps.ChromaFormat),
		BitDepthLuma: uint8(sps.BitDepth), BitDepthChroma: uint8(sps.BitDepthChroma),
		NumTemporalLayers: 1, TemporalIDNested: true, NALULengthSize: 4,
	}
	for _, typ := range []uint8{flv.HEVCNALVPS, flv.HEVCNALSPS, flv.HEVCNALPPS} {
		config.Arrays = append(config.Arrays, flv.HEVCNALUArray{Complete: true, Type: typ, NALUs: [][]byte{params[typ]}})
	}
	m := media{track: fmp4.Track{ID: 1, Codec: fmp4.CodecHEVC, Width: sps.Width, Height: sps.Height, Config: config.Append(nil)},
		timescale: videoTimescale}
	for i, u := range units {
		flags := fmp4.NonSyncSample
		if flv.IsHEVCIRAP(flv.HEVCNALUType(u[4:])) {
			flags = fmp4.SyncSample
		}
		m.samples = append(m.samples, timedSample{dts: uint64(i * frameTicks), Sample: fmp4.Sample{Duration: frameTicks, Flags: flags, Data: u}})
	}
	return m
}

// unescapeRBSP drops the emulation prevention bytes of a NAL unit excerpt.
func unescapeRBSP(b []byte) []byte {
	var out []byte
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// av1Media encodes AV1 into a low-overhead OBU stream; temporal units,
// without their temporal delimiters, are the samples.
func av1Media(t *testing.T) media {
	t.Helper()
	stream := encode(t, "clip.obu", "-map", "0:v", "-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8",
		"-g", "25", "-pix_fmt", "yuv420p", "-f", "obu")
	m := media{track: fmp4.Track{ID: 1, Codec: fmp4.CodecAV1}, timescale: videoTimescale}
	var seqHeader []byte
	for pos := 0; pos < len(stream); {
		typ, size := av1OBU(t, stream[pos:])
		obu := stream[pos : pos+size]
		pos += size
		switch typ {
		case flv.AV1OBUTemporalDelimiter:
			m.samples = append(m.samples, timedSample{dts: uint64(len(m.samples) * frameTicks),
				Sample: fmp4.Sample{Duration: frameTicks, Flags: fmp4.NonSyncSample}})
			continue
		case flv.AV1OBUSequenceHeader:
			m.samples[len(m.samples)-1].Flags = fmp4.SyncSample
			if seqHeader == nil {
				seqHeader = bytes.Clone(obu)
			}
		}
		last := &m.samples[len(m.samples)-1]
		last.Data = append(last.Data, obu...)
	}
	seq, err := flv.ParseAV1SequenceHeader(seqHeader)
	if err != nil {
		t.Fatal(err)
	}
	config := flv.AV1CodecConfig{SeqProfile: seq.Profile, SeqLevelIdx0: seq.Level, SeqTier0: seq.Tier,
		HighBitdepth: seq.BitDepth > 8, TwelveBit: seq.BitDepth == 12, Monochrome: seq.Monochrome,
		ChromaSubsamplingX: seq.SubsamplingX, ChromaSubsamplingY: seq.SubsamplingY,
		ChromaSamplePosition: seq.ChromaSamplePosition, ConfigOBUs: seqHeader}
	m.track.Config, m.track.Width, m.track.Height = config.Append(nil), seq.MaxFrameWidth, seq.MaxFrameHeight
	return m
}

// av1OBU returns the type and total size of the OBU at the start of b.
func av1OBU(t *testing.T, b []byte) (typ uint8, size int) {
	t.Helper()
	typ, n := b[0]>>3&0x0f, 1
	if b[0]&0x04 != 0 {
		n++ // extension header
	}
	if b[0]&0x02 == 0 {
		t.Fatal("OBU without a size field")
	}
	var payload int
	for shift := 0; ; shift += 7 {
		c := b[n]
		n++
		payload |= int(c&0x7f) << shift
		if c&0x80 == 0 {
			break
		}
	}
	return typ, n + payload
}

// vp9Media encodes VP9 into IVF; its frames are the samples.
func vp9Media(t *testing.T) media {
	t.Helper()
	stream := encode(t, "clip.ivf", "-map", "0:v", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
		"-lag-in-frames", "0", "-g", "25", "-pix_fmt", "yuv420p", "-f", "ivf")
	config := flv.VPCodecConfig{Profile: 0, Level: 10, BitDepth: 8, ChromaSubsampling: flv.VPChroma420Vertical,
		ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}
	m := media{track: fmp4.Track{ID: 1, Codec: fmp4.CodecVP9, Config: config.Append(nil)}, timescale: videoTimescale}
	for pos := int(binary.LittleEndian.Uint16(stream[6:8])); pos+12 <= len(stream); {
		size := int(binary.LittleEndian.Uint32(stream[pos:]))
		frame := stream[pos+12 : pos+12+size]
		pos += 12 + size
		flags := fmp4.NonSyncSample
		if w, h, ok := flv.ParseVP9FrameSize(frame); ok {
			flags, m.track.Width, m.track.Height = fmp4.SyncSample, w, h
		}
		m.samples = append(m.samples, timedSample{dts: uint64(len(m.samples) * frameTicks),
			Sample: fmp4.Sample{Duration: frameTicks, Flags: flags, Data: frame}})
	}
	return m
}
