package main

import "errors"

// Errors the viewers branch on or report.
var (
	// errNoFLV is returned when a viewer's response is not an FLV stream.
	errNoFLV = errors.New("response is not FLV")
	// errTSSync is returned for an MPEG-TS packet that does not start with
	// the sync byte.
	errTSSync = errors.New("ts: lost sync")
	// errMasterPlaylist is returned for a multivariant playlist: the tool
	// reads media playlists only.
	errMasterPlaylist = errors.New("playlist: multivariant playlist, want a media playlist")
	// errStreamEnded is returned when the playlist got EXT-X-ENDLIST.
	errStreamEnded = errors.New("hls: playlist ended")
	// errNoSegmentYet is returned when a stream's playlist has no segment
	// by the end of the connect timeout.
	errNoSegmentYet = errors.New("hls: playlist has no segment")
	// errSegmentGone is returned for a segment answered with 404 or 410: it
	// left the server's window before the viewer fetched it.
	errSegmentGone = errors.New("hls: segment gone")
	// errNoVideoTrack is returned for an init section without a video
	// track: part freshness is measured on video samples.
	errNoVideoTrack = errors.New("mp4: init section has no video track")
	// errNoInitSection is returned for a playlist without EXT-X-MAP: the
	// LL-HLS client reads fMP4 parts.
	errNoInitSection = errors.New("ll-hls: playlist has no init section (EXT-X-MAP): not fMP4")
	// errNoPartYet is returned when a stream's playlist lists no
	// independent part by the end of the connect timeout.
	errNoPartYet = errors.New("ll-hls: playlist has no independent part")
)
