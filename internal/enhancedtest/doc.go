// Package enhancedtest holds the end-to-end tests of Enhanced RTMP: HEVC
// and AV1 published by a real Enhanced RTMP peer (FFmpeg 8 through the npm
// package node-av, see internal/testenv) and read back over HTTP-FLV, RTMP
// and HLS; a multitrack stream sent by the repository's own FLV writer and
// RTMP client; and the reconnect request. It has no code of its own.
package enhancedtest
