package browsertest

import (
	"testing"
	"time"
)

// ForwardsResult is what ui.mjs did with a stream's forwards.
type ForwardsResult struct {
	Failure     string   `json:"failure"`
	Steps       []string `json:"steps"`
	Console     []string `json:"console"`
	PageErrors  []string `json:"pageErrors"`
	Screenshots []string `json:"screenshots"`
	// Listed is the text of the target's row once it was live.
	Listed string `json:"listed"`
	// ConfirmVerb is the confirmation button's text when stopping it.
	ConfirmVerb string `json:"confirmVerb"`
	// Removed is set once the target left the table.
	Removed bool `json:"removed"`
}

// ForwardPanel opens the detail panel of stream ("app/name") in the
// dashboard at url (an API that needs no token), forwards the stream to
// target through its form, waits for the target to be live, then stops
// it. Screenshots go to artifacts. The caller asserts.
func ForwardPanel(t testing.TB, url, stream, target, artifacts string) ForwardsResult {
	t.Helper()
	var r ForwardsResult
	runUI(t, map[string]any{"mode": "forwards", "url": url, "stream": stream, "target": target, "artifacts": artifacts},
		2*time.Minute, &r)
	for _, s := range r.Steps {
		t.Logf("ui: %s", s)
	}
	return r
}
