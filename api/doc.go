// Package api is the operators' REST API under /api/v1: it lists live
// streams and sessions, shows a stream's health, kicks publishers and
// viewers, reports the server's version, uptime, totals and effective
// configuration (secrets masked), and serves its own OpenAPI 3 document.
//
// The package imports only the standard library and chi. It reads the
// running server through the small interfaces it declares (StreamSource,
// SessionSource, a ServerInfo function) and their runtime-independent
// structs (StreamInfo, SessionInfo, ServerInfo); the JSON documents it
// writes are separate DTOs. Package internal/apisource adapts the stream hub and the
// protocol servers to these interfaces.
//
// Every route requires authorisation (Guard): a bearer token when
// Config.Token is set, otherwise a loopback client addressing the server by
// a loopback name or one of Config.AllowedHosts. State-changing requests
// from another origin are refused, and their bodies must be JSON. Errors are JSON documents of the form
// {"error": {"code": "not_found", "message": "…"}} with a matching status.
package api
