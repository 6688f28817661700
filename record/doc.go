// Package record writes live streams to files: fragmented MP4 (an init
// section, then one moof+mdat fragment per second or so, each written with a
// single write, so that a crash loses at most the fragment being built) or
// FLV (the file header, the stream's metadata and sequence starts, then its
// tags as received, for any codec the stream carries).
//
// A Manager records the streams its Config names (per app or per stream) as
// soon as they are published, and any other live stream on request (Start,
// Stop). A recording is cut into files at a keyframe when it reaches the
// configured duration or size; each file is named from a template with the
// app, the stream name and its start time (UTC), carries a ".part" marker
// while it is written, and is synced and renamed when it is complete. Each
// completed file is announced to the on_record_done hook, and recording stops
// with a stated reason when the free space of the recordings directory falls
// below a threshold. Recordings are listed and deleted by id, the file's name
// inside the recordings directory, which is reached only through an os.Root.
package record
