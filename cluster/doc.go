// Package cluster lets several servers share one set of stream names,
// coordinated through Redis (no protocol of its own).
//
// An origin (Role "origin") claims the name of every stream published to it
// in Redis with SET NX and a TTL, refreshes the claim while the stream is
// live and deletes it when the stream ends, so a name is live on at most one
// origin: a publisher of a name claimed by another origin is refused as a
// second publisher on the same server would be. The claim's value is the
// origin's advertised HTTP base URL.
//
// An edge (Role "edge") publishes nothing: the first viewer of a stream
// makes it look the owner up (Owner) and pull the stream from the owner's
// HTTP-FLV URL through the relay; Redis being unreachable then only stops
// new lookups, and Health reports the server degraded.
//
// HLS is produced by the owning origin only (one set of segment names);
// HLSProxy, in front of a server's HLS handler, forwards a request for a
// stream another node owns to that node, so a cache in front of any node
// sees the same URLs and bytes.
package cluster
