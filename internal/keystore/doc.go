// Package keystore keeps the secret stream keys an operator creates for
// stream names, the way Twitch, YouTube and Owncast hand out stream keys:
// an encoder publishes with the secret (as "name?key=SECRET", or the bare
// secret in place of the name) and the stream is published under its name,
// so viewers never see the secret.
//
// Keys live in a bbolt file (keys.db) under a data directory and survive
// restarts. Only the SHA-256 of each secret is stored: a secret is shown
// once, when it is created or rotated, and can never be read back. The
// file is created with the first key; until then nothing is written.
package keystore
