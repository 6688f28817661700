// Package apisource adapts the running server to the api package: it reads
// the stream hub, the RTMP server, the HTTP-FLV handler and the HLS
// manager and presents them as api.StreamSource and api.SessionSource.
//
// It is the only place that knows both sides: api stays free of runtime
// types, and the runtime packages know nothing of the API. Codec details
// (size, profile, level, sample rate, channels) are read from the
// stream's sequence headers and metadata with the flv parsers.
package apisource
