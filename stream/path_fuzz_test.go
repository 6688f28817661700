package stream

import (
	"errors"
	"strings"
	"testing"
)

// FuzzKeyFromPath checks that URL paths of viewers parse only to keys whose
// canonical path is the input: parse ok ⇒ format ⇒ the same path ⇒ parse
// again equal; never a panic, and errors always wrap ErrInvalidName.
func FuzzKeyFromPath(f *testing.F) {
	for _, p := range []string{"/live/cam.flv", "/live/cam.m3u8", "live/cam.flv", "/live/cam", "/live/.cam.flv",
		"/a/b/c.flv", "/live/" + strings.Repeat("x", MaxNameLength+1) + ".flv", "/live/ca%2fm.flv", "//.flv",
		"/live/cam.flv.flv", "/l~i_v-e/c.a.m.flv"} {
		f.Add(p, ".flv")
	}
	f.Add("/live/cam.m3u8", ".m3u8")
	f.Add("/live/cam", "")
	f.Fuzz(func(t *testing.T, path, suffix string) {
		key, err := KeyFromPath(path, suffix)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("error %v does not wrap ErrInvalidName", err)
			}
			return
		}
		if CheckName(key.App) != nil || CheckName(key.Name) != nil {
			t.Fatalf("%q parsed to invalid key %+v", path, key)
		}
		again := "/" + key.App + "/" + key.Name + suffix
		if again != path {
			t.Fatalf("%q parsed to %+v, formats as %q", path, key, again)
		}
		key2, err := KeyFromPath(again, suffix)
		if err != nil || key2 != key {
			t.Fatalf("round trip of %q: %+v %v", again, key2, err)
		}
	})
}
