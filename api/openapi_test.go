package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// openAPIDoc is the part of an OpenAPI 3 document the tests check.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Servers    []struct{ URL string }                `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]map[string]any `json:"schemas"`
		Parameters map[string]map[string]any `json:"parameters"`
	} `json:"components"`
}

// operation is one method of a path item.
type operation struct {
	Parameters []map[string]any           `json:"parameters"`
	Responses  map[string]json.RawMessage `json:"responses"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != BasePath {
		t.Fatalf("servers %+v, want one with url %s", doc.Servers, BasePath)
	}
	return doc
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIMatchesRoutes walks the router: every route is documented
// with its method, and every documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	routes, ok := newHandler(t, Config{}, Deps{}).(chi.Routes)
	if !ok {
		t.Fatal("New does not return a chi router")
	}
	routed := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		path, ok := strings.CutPrefix(route, BasePath)
		if !ok {
			t.Errorf("route %s %s is outside %s", method, route, BasePath)
			return nil
		}
		op := strings.ToLower(method)
		routed[op+" "+path] = true
		item, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s %s: path %s not in openapi.json", method, route, path)
			return nil
		}
		if _, ok := item[op]; !ok {
			t.Errorf("route %s %s: openapi.json has no %s operation for %s", method, route, op, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routed) == 0 {
		t.Fatal("no routes walked")
	}
	for path, item := range doc.Paths {
		for op, raw := range item {
			if op == "parameters" {
				continue
			}
			if !routed[op+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is not routed", strings.ToUpper(op), path)
			}
			checkOperation(t, doc, path, op, item, raw)
		}
	}
}

// checkOperation checks an operation's path parameters against its path
// template and that it documents the auth failures every route can give.
func checkOperation(t *testing.T, doc openAPIDoc, path, op string, item map[string]json.RawMessage, raw json.RawMessage) {
	t.Helper()
	var o operation
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Errorf("%s %s: %v", op, path, err)
		return
	}
	params := o.Parameters
	if shared, ok := item["parameters"]; ok {
		var more []map[string]any
		if err := json.Unmarshal(shared, &more); err != nil {
			t.Errorf("%s parameters: %v", path, err)
		}
		params = append(params, more...)
	}
	var documented []string
	for _, p := range params {
		if ref, ok := p["$ref"].(string); ok {
			p = doc.Components.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")]
			if p == nil {
				t.Errorf("%s %s: dangling parameter %s", op, path, ref)
				continue
			}
		}
		if p["in"] == "path" {
			documented = append(documented, p["name"].(string))
		}
	}
	var templated []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		templated = append(templated, m[1])
	}
	sort.Strings(documented)
	sort.Strings(templated)
	if !slices.Equal(documented, templated) {
		t.Errorf("%s %s: path parameters %v documented, %v in the path", op, path, documented, templated)
	}
	for _, status := range []string{"401", "403"} {
		if _, ok := o.Responses[status]; !ok {
			t.Errorf("%s %s: response %s not documented", op, path, status)
		}
	}
}

// TestOpenAPIMatchesDTOs checks each documented schema against the Go type
// that is marshalled for it: same properties, all required, compatible
// types.
func TestOpenAPIMatchesDTOs(t *testing.T) {
	doc := loadOpenAPI(t)
	types := map[string]reflect.Type{
		"Error":         reflect.TypeFor[errorDoc](),
		"StreamList":    reflect.TypeFor[listDoc[streamDoc]](),
		"Stream":        reflect.TypeFor[streamDoc](),
		"Publisher":     reflect.TypeFor[publisherDoc](),
		"Tracks":        reflect.TypeFor[tracksDoc](),
		"Track":         reflect.TypeFor[trackDoc](),
		"VideoTrack":    reflect.TypeFor[videoDoc](),
		"AudioTrack":    reflect.TypeFor[audioDoc](),
		"Viewers":       reflect.TypeFor[viewersDoc](),
		"SessionList":   reflect.TypeFor[listDoc[sessionDoc]](),
		"Session":       reflect.TypeFor[sessionDoc](),
		"Server":        reflect.TypeFor[serverDoc](),
		"Totals":        reflect.TypeFor[totalsDoc](),
		"KeyList":       reflect.TypeFor[listDoc[keyDoc]](),
		"Key":           reflect.TypeFor[keyDoc](),
		"KeyRequest":    reflect.TypeFor[createKeyRequest](),
		"SecretKey":     reflect.TypeFor[secretKeyDoc](),
		"Recording":     reflect.TypeFor[recordingDoc](),
		"RecordingList": reflect.TypeFor[listDoc[recordingDoc]](),
		"Cluster":       reflect.TypeFor[ClusterInfo](),
		"ClusterStream": reflect.TypeFor[ClusterStream](),
		"RelayList":     reflect.TypeFor[listDoc[relayDoc]](),
		"Relay":         reflect.TypeFor[relayDoc](),
	}
	for name, typ := range map[string]reflect.Type{
		"ForwardList":    reflect.TypeFor[forwardsDoc](),
		"Forward":        reflect.TypeFor[forwardDoc](),
		"ForwardRequest": reflect.TypeFor[addForwardRequest](),
	} {
		types[name] = typ
	}
	for name, schema := range doc.Components.Schemas {
		typ, ok := types[name]
		if !ok {
			if name != "Name" {
				t.Errorf("schema %s has no Go type in this test", name)
			}
			continue
		}
		checkSchema(t, doc, name, schema, typ, 0)
	}
	for name := range types {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("type for schema %s, which is not documented", name)
		}
	}
}

var timeType2 = reflect.TypeFor[time.Time]()

// checkSchema compares one schema with a Go type.
func checkSchema(t *testing.T, doc openAPIDoc, where string, schema map[string]any, typ reflect.Type, depth int) {
	t.Helper()
	if depth > 16 {
		t.Fatalf("%s: schema nesting too deep", where)
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if ref, ok := schema["$ref"].(string); ok {
		target := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
		if target == nil {
			t.Errorf("%s: dangling %s", where, ref)
			return
		}
		checkSchema(t, doc, where+"→"+ref, target, typ, depth+1)
		return
	}
	if all, ok := schema["allOf"].([]any); ok && len(all) == 1 {
		checkSchema(t, doc, where, all[0].(map[string]any), typ, depth+1)
		return
	}
	kind, _ := schema["type"].(string)
	switch {
	case typ == timeType2:
		if kind != "string" || schema["format"] != "date-time" {
			t.Errorf("%s: time documented as %s/%v", where, kind, schema["format"])
		}
	case typ.Kind() == reflect.Struct:
		if kind != "object" {
			t.Errorf("%s: struct documented as %q", where, kind)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		var required []string
		for _, r := range schema["required"].([]any) {
			required = append(required, r.(string))
		}
		var fields []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields = append(fields, name)
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: field %s not documented", where, name)
				continue
			}
			checkSchema(t, doc, where+"."+name, p, f.Type, depth+1)
		}
		var documented []string
		for name := range props {
			documented = append(documented, name)
		}
		sort.Strings(fields)
		sort.Strings(documented)
		sort.Strings(required)
		if !slices.Equal(fields, documented) {
			t.Errorf("%s: Go fields %v, documented %v", where, fields, documented)
		}
		if !slices.Equal(fields, required) {
			t.Errorf("%s: every field is always written, but required lists %v", where, required)
		}
	case typ.Kind() == reflect.Slice:
		items, _ := schema["items"].(map[string]any)
		if kind != "array" || items == nil {
			t.Errorf("%s: slice documented as %q", where, kind)
			return
		}
		checkSchema(t, doc, where+"[]", items, typ.Elem(), depth+1)
	case typ.Kind() == reflect.Map || typ.Kind() == reflect.Interface:
		if kind != "object" {
			t.Errorf("%s: map documented as %q", where, kind)
		}
	case typ.Kind() == reflect.String:
		if kind != "string" {
			t.Errorf("%s: string documented as %q", where, kind)
		}
	case typ.Kind() == reflect.Bool:
		if kind != "boolean" {
			t.Errorf("%s: bool documented as %q", where, kind)
		}
	case typ.Kind() == reflect.Float64:
		if kind != "number" {
			t.Errorf("%s: float documented as %q", where, kind)
		}
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		if kind != "integer" {
			t.Errorf("%s: integer documented as %q", where, kind)
		}
	default:
		t.Errorf("%s: Go type %s not handled by the test", where, typ)
	}
}
