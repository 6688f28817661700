// Package layering has no code of its own: its test keeps the module's
// imports one-way, as DESIGN.md lays them out (amf ← flv ← stream ←
// outputs ← composition), so a refactor cannot quietly tangle them.
package layering
