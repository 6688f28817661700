// Package amf encodes and decodes Action Message Format values, both AMF0
// (the encoding of RTMP commands and FLV script data) and AMF3 (reached from
// AMF0 through the avmplus-object marker, or used on its own).
//
// # Value mapping
//
// AMF0 decodes to Go values as follows: number → float64, boolean → bool,
// string and long string → string, object → [Object], null → nil, undefined →
// [Undefined], reference → the referenced value (shared, not copied), ECMA
// array → [ECMAArray], strict array → []any, date → [Date], unsupported →
// [Unsupported], XML document → [XMLDocument], typed object → [TypedObject],
// avmplus-object (0x11) → the AMF3 value that follows, decoded in place (an
// AMF3 integer directly after the switch marker becomes a float64, AMF0
// having a single number type).
//
// AMF3 decodes to: undefined → [Undefined], null → nil, false/true → bool,
// integer → int32, double → float64, string → string, XML document →
// [XMLDocument], date → [Date] (TimeZone 0), array → [Array3], object →
// [Object3], XML → [XML], byte array → [ByteArray], vectors → [VectorInt],
// [VectorUint], [VectorDouble], [VectorObject], dictionary → [Dictionary].
// Externalizable objects cannot be decoded without knowing the class and fail
// with [ErrUnsupported].
//
// [Append0] and [Append3] encode every value the decoders return, so that
// decoding what they produce gives back an equal value, and encoding a decoded
// value reproduces canonical input byte for byte. The encoders never emit
// object references; [Append3] uses string and traits references, [Append0]
// writes AMF3 values after a switch marker fully inline so that its output
// stays valid however separately encoded pieces are concatenated.
//
// # Reference tables
//
// A decoder is one message (one RTMP command or script tag): its reference
// tables (AMF0 objects; AMF3 strings, objects and traits) live as long as the
// decoder and are shared by all AMF3 values switched to from AMF0 within it.
// Each table records at most [MaxTableEntries] entries; later ones are not
// recorded, so a reference to them fails with [ErrBadReference]. A reference
// to a value that is still being decoded (a cycle) also fails with
// [ErrBadReference].
//
// # Untrusted input
//
// Decoding never panics. Every length and count read off the wire is checked
// against the bytes that remain and against [MaxCount] before anything is
// allocated; nesting is capped by [MaxDepth] (references included, as they
// would be expanded) and the total size that references stand for is capped
// by [MaxReferenceExpansion], so a small input cannot expand into a huge value
// tree. Strings are not validated as UTF-8.
//
// # Allocation
//
// Decoding a message of up to 64 KiB converts the input to a string once and
// cuts every decoded string and key from it, so holding any of them keeps
// that copy of the message alive. Numbers and strings are boxed into
// interfaces (one small allocation each); containers are allocated at their
// exact size.
package amf
