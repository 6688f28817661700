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
	hasVideo  bool
	hasAudio  bool
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
}

// newTSWriter returns a writer for a program with the given tracks; video is
// nil for an audio-only program, audio for a video-only one.
func newTSWriter(video *videoTrack, audio *audioTrack) (*tsWriter, error) {
	w := &tsWriter{hasVideo: video != nil, hasAudio: audio != nil, lastPCR: -1}
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
	if !w.hasVideo && !w.hasAudio {
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
	if w.hasAudio != (audio != nil) || w.hasVideo != (video != nil) {
		return false
	}
	return (video == nil || video.streamType == w.videoType) && (audio == nil || audio.streamType == w.audioType)
}

// begin starts a segment that is written into buf (appended to).
func (w *tsWriter) begin(buf []byte) {
	w.out.b = buf
	w.needTables = true
}

// take ends the segment and returns the buffer it was written into; the
// writer keeps no reference to it.
func (w *tsWriter) take() []byte {
	b := w.out.b
	w.out.b = nil
	return b
}

// size is the number of bytes written into the current segment.
func (w *tsWriter) size() int { return len(w.out.b) }

// writeVideo writes one access unit (Annex-B) as a video PES with PTS and
// DTS. rap marks a random access point.
func (w *tsWriter) writeVideo(pts, dts int64, rap bool, au []byte) error {
	w.hdr.StreamID = videoStreamID
	w.opt.PTSDTSIndicator = astits.PTSDTSIndicatorBothPresent
	w.pts.Base = pts & pts33Mask
	w.dts.Base = dts & pts33Mask
	w.opt.PTS, w.opt.DTS = &w.pts, &w.dts
	return w.write(videoPID, dts, rap, au)
}

// writeAudio writes audio frames (ADTS, or MPEG audio) as one audio PES
// with a PTS.
func (w *tsWriter) writeAudio(pts int64, frames []byte) error {
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
