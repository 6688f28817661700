package hls

import (
	"context"
	"fmt"
	"math"

	"github.com/asticode/go-astits"
)

// Elementary stream PIDs and PES stream ids.
const (
	videoPID      uint16 = 0x100
	audioPID      uint16 = 0x101
	videoStreamID uint8  = 0xe0
	audioStreamID uint8  = 0xc0
	// pcrLagTicks is how far the PCR runs behind the DTS of the frame it is
	// sent with (the decoder buffering delay MPEG-TS decoders expect).
	pcrLagTicks = 63000
	// maxAudioPESFrames and maxAudioPESBytes bound how many audio frames one
	// audio PES packs.
	maxAudioPESFrames = 6
	maxAudioPESBytes  = 2930
	// audioGapTicks is the timestamp deviation that ends an audio PES, so a
	// gap in the audio is not hidden inside a PES.
	audioGapTicks = 2 * ticksPerMs
)

// segmentBuffer is the io.Writer the muxer writes into: the scratch buffer
// a segment is built in. The muxer (and its continuity counters) stays
// from segment to segment; the buffer is handed in by begin and back by
// take.
type segmentBuffer struct{ b []byte }

// Write appends p.
func (w *segmentBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// tsWriter writes PES packets for one program (video and/or audio) through a
// go-astits Muxer. One tsWriter lives as long as the track set stays the
// same, so continuity counters run on across segment boundaries; PAT and PMT
// are written at the start of every segment.
type tsWriter struct {
	mux       *astits.Muxer
	out       segmentBuffer
	video     bool
	audio     bool
	videoType astits.StreamType
	audioType astits.StreamType
	pcrPID    uint16
	// needTables is set at a segment start until the tables are written.
	needTables bool
	lastPCR    int64

	// Reused per PES to keep writing allocation-light.
	data astits.MuxerData
	pes  astits.PESData
	hdr  astits.PESHeader
	opt  astits.PESOptionalHeader
	af   astits.PacketAdaptationField
	pts  astits.ClockReference
	dts  astits.ClockReference
	pcr  astits.ClockReference

	// au is the scratch buffer an access unit is converted to Annex-B in.
	au []byte
	// audioPES holds audio frames (with their ADTS headers) packed into one
	// PES, not yet written: audioPESFrames of them, the first at
	// audioPESPTS. audioNext is the expected PTS of the next audio frame.
	audioPES       []byte
	audioPESPTS    int64
	audioPESFrames int
	audioNext      int64
}

var _ containerWriter = (*tsWriter)(nil)

// newTSWriter returns a writer for a program with the given tracks; video is
// nil for an audio-only program, audio for a video-only one.
func newTSWriter(video *videoTrack, audio *audioTrack) (*tsWriter, error) {
	w := &tsWriter{video: video != nil, audio: audio != nil, lastPCR: -1}
	// Tables are written explicitly at each segment start (and by the muxer
	// before a random access point on the PCR PID), never on a timer.
	w.mux = astits.NewMuxer(context.Background(), &w.out, astits.MuxerOptTablesRetransmitPeriod(math.MaxInt))
	if video != nil {
		w.videoType = video.streamType
		if err := w.mux.AddElementaryStream(astits.PMTElementaryStream{
			ElementaryPID: videoPID, StreamType: video.streamType,
		}); err != nil {
			return nil, fmt.Errorf("add video stream: %w", err)
		}
		w.pcrPID = videoPID
	}
	if audio != nil {
		w.audioType = audio.streamType
		if err := w.mux.AddElementaryStream(astits.PMTElementaryStream{
			ElementaryPID: audioPID, StreamType: audio.streamType,
		}); err != nil {
			return nil, fmt.Errorf("add audio stream: %w", err)
		}
		if video == nil {
			w.pcrPID = audioPID
		}
	}
	if !w.video && !w.audio {
		return nil, fmt.Errorf("program without tracks: %w", ErrNoConfig)
	}
	w.mux.SetPCRPID(w.pcrPID)
	w.pes.Header = &w.hdr
	w.hdr.OptionalHeader = &w.opt
	w.opt.DataAlignmentIndicator = true
	w.data.PES = &w.pes
	return w, nil
}

// sameTracks reports whether the writer's program matches the tracks.
func (w *tsWriter) sameTracks(video *videoTrack, audio *audioTrack) bool {
	if w.audio != (audio != nil) || w.video != (video != nil) {
		return false
	}
	return (video == nil || video.streamType == w.videoType) && (audio == nil || audio.streamType == w.audioType)
}

// hasVideo reports whether the program has a video track.
func (w *tsWriter) hasVideo() bool { return w.video }

// hasAudio reports whether the program has an audio track.
func (w *tsWriter) hasAudio() bool { return w.audio }

// initSection returns nothing: MPEG-TS segments need no init section.
func (w *tsWriter) initSection() (int, []byte) { return 0, nil }

// begin starts a segment that is written into buf (appended to).
func (w *tsWriter) begin(buf []byte) {
	w.out.b = buf
	w.needTables = true
}

// take writes the audio held back and ends the segment; it returns the
// buffer the segment was written into, and the writer keeps no reference
// to it.
func (w *tsWriter) take() ([]byte, error) {
	err := w.flushAudio()
	b := w.out.b
	w.out.b = nil
	return b, err
}

// written returns the segment's bytes so far.
func (w *tsWriter) written() []byte { return w.out.b }

// size is the number of bytes of the current segment, audio held back
// included.
func (w *tsWriter) size() int { return len(w.out.b) + len(w.audioPES) }

// fragment writes nothing: MPEG-TS has no fragments.
func (w *tsWriter) fragment(int64, cutTrigger) (fragmentInfo, bool, error) {
	return fragmentInfo{}, false, nil
}

// writeVideo writes one access unit, converted to Annex-B, as a video PES
// with PTS and DTS.
func (w *tsWriter) writeVideo(v *videoSample) error {
	au, _, err := v.track.appendAccessUnit(w.au[:0], v.data, v.keyframe, v.params)
	if err != nil {
		return err
	}
	w.au = au
	w.hdr.StreamID = videoStreamID
	w.opt.PTSDTSIndicator = astits.PTSDTSIndicatorBothPresent
	w.pts.Base = v.tsPTS & pts33Mask
	w.dts.Base = v.tsDTS & pts33Mask
	w.opt.PTS, w.opt.DTS = &w.pts, &w.dts
	return w.write(videoPID, v.tsDTS, v.rap, au)
}

// writeAudio packs one audio frame into the audio PES being gathered; the
// PES is written when it is full, when the frame does not follow on from
// the one before (a gap in the audio is not hidden inside a PES) or when
// the segment ends.
func (w *tsWriter) writeAudio(a *audioSample) error {
	if w.audioPESFrames > 0 && (w.audioPESFrames >= maxAudioPESFrames ||
		len(w.audioPES)+a.track.headerSize()+len(a.data) > maxAudioPESBytes ||
		a.pts-w.audioNext > audioGapTicks || w.audioNext-a.pts > audioGapTicks) {
		if err := w.flushAudio(); err != nil {
			return err
		}
	}
	if w.audioPESFrames == 0 {
		w.audioPESPTS = a.pts
	}
	w.audioPES, _ = a.track.appendFrame(w.audioPES, a.data)
	w.audioPESFrames++
	w.audioNext = a.pts + a.ticks
	return nil
}

// flushAudio writes the packed audio frames as one PES.
func (w *tsWriter) flushAudio() error {
	if w.audioPESFrames == 0 {
		return nil
	}
	err := w.writeAudioPES(w.audioPESPTS, w.audioPES)
	w.audioPES = w.audioPES[:0]
	w.audioPESFrames = 0
	return err
}

// writeAudioPES writes audio frames (ADTS, or MPEG audio) as one audio PES
// with a PTS.
func (w *tsWriter) writeAudioPES(pts int64, frames []byte) error {
	w.hdr.StreamID = audioStreamID
	w.opt.PTSDTSIndicator = astits.PTSDTSIndicatorOnlyPTS
	w.pts.Base = pts & pts33Mask
	w.opt.PTS, w.opt.DTS = &w.pts, nil
	// Every audio frame is a random access point; flag the first PES of an
	// audio-only segment so that the tables precede it.
	return w.write(audioPID, pts, w.needTables && w.pcrPID == audioPID, frames)
}

// write sends one PES. On the PCR PID it carries a PCR; rap sets the random
// access indicator, and the muxer writes PAT and PMT before a random access
// point on the PCR PID. Otherwise the tables are written here when the
// segment has none yet.
func (w *tsWriter) write(pid uint16, dts int64, rap bool, payload []byte) error {
	onPCR := pid == w.pcrPID
	if w.needTables && !(onPCR && rap) {
		if _, err := w.mux.WriteTables(); err != nil {
			return fmt.Errorf("write PAT/PMT: %w", err)
		}
	}
	w.needTables = false
	w.data.PID = pid
	w.pes.Data = payload
	w.data.AdaptationField = nil
	if onPCR || rap {
		w.af = astits.PacketAdaptationField{RandomAccessIndicator: rap}
		if onPCR {
			pcr := max(dts-pcrLagTicks, w.lastPCR, 0)
			w.lastPCR = pcr
			w.pcr.Base = pcr & pts33Mask
			w.af.HasPCR, w.af.PCR = true, &w.pcr
		}
		w.data.AdaptationField = &w.af
	}
	if _, err := w.mux.WriteData(&w.data); err != nil {
		return fmt.Errorf("write PES on PID %#x: %w", pid, err)
	}
	return nil
}
