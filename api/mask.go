package api

import (
	"encoding"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// Masked replaces a secret value in the configuration echo. It is plain
// letters so that it survives URL escaping.
const Masked = "REDACTED"

// maxMaskDepth caps the nesting MaskSecrets follows; deeper values (or
// cycles through pointers) are cut off.
const maxMaskDepth = 32

// secretWords are the name words that mark a value as secret.
var secretWords = map[string]bool{
	"token": true, "tokens": true, "secret": true, "secrets": true,
	"password": true, "passwords": true, "passwd": true, "pwd": true,
	"key": true, "keys": true, "apikey": true, "streamkey": true, "credential": true, "credentials": true,
	"sig": true, "signature": true,
}

// MaskSecrets returns a JSON-ready copy of v (a configuration struct, map
// or mix) with secrets masked. Struct fields are named by their yaml tag
// (or json tag, or lower-cased field name); fields tagged "-", unexported
// fields, functions and channels are left out; durations are written as
// "10s". A value whose name contains the word token, secret, password or
// key(s) ("publish_keys", "api_key", "apiKey") is replaced by Masked when
// set (unset values stay empty, so the echo still shows whether one is
// configured; lists keep their length). URLs anywhere lose the password of
// their user info and the values of secret-named query parameters.
func MaskSecrets(v any) any {
	out, _ := maskValue(reflect.ValueOf(v), false, 0)
	return out
}

var (
	durationType      = reflect.TypeFor[time.Duration]()
	timeType          = reflect.TypeFor[time.Time]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// maskValue converts v, masking it entirely when secret. The bool is false
// for values to leave out.
func maskValue(v reflect.Value, secret bool, depth int) (any, bool) {
	if !v.IsValid() {
		return nil, true
	}
	if depth > maxMaskDepth {
		return nil, true
	}
	switch v.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return nil, false
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, true
		}
		return maskValue(v.Elem(), secret, depth+1)
	}
	t := v.Type()
	switch {
	case t == durationType:
		return maskScalar(time.Duration(v.Int()).String(), v.IsZero(), secret), true
	case t == timeType:
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return "", true
		}
		return maskScalar(tm.UTC().Format(time.RFC3339Nano), false, secret), true
	case t.Kind() != reflect.String && t.Implements(textMarshalerType) && v.CanInterface():
		text, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return fmt.Sprintf("<%v>", err), true
		}
		return maskScalar(string(text), len(text) == 0, secret), true
	}
	switch v.Kind() {
	case reflect.Struct:
		out := make(map[string]any)
		maskStruct(v, secret, depth, out)
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return map[string]any{}, true
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			name := fmt.Sprint(iter.Key().Interface())
			if val, keep := maskValue(iter.Value(), secret || IsSecretName(name), depth+1); keep {
				out[name] = val
			}
		}
		return out, true
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return maskScalar(string(v.Bytes()), v.Len() == 0, secret), true
		}
		out := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			if val, keep := maskValue(v.Index(i), secret, depth+1); keep {
				out = append(out, val)
			}
		}
		return out, true
	case reflect.String:
		s := v.String()
		if secret {
			return maskScalar(s, s == "", true), true
		}
		return maskURL(s), true
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		if secret && !v.IsZero() {
			return Masked, true
		}
		return v.Interface(), true
	}
	return maskScalar(fmt.Sprint(v.Interface()), v.IsZero(), secret), true
}

// maskStruct adds the fields of struct v to out, flattening inline and
// embedded-without-tag structs.
func maskStruct(v reflect.Value, secret bool, depth int, out map[string]any) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline, skip := fieldName(f)
		if skip {
			continue
		}
		fv := v.Field(i)
		if inline {
			for fv.Kind() == reflect.Pointer && !fv.IsNil() {
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct && depth < maxMaskDepth {
				maskStruct(fv, secret, depth+1, out)
				continue
			}
		}
		if val, keep := maskValue(fv, secret || IsSecretName(name), depth+1); keep {
			out[name] = val
		}
	}
}

// fieldName returns the name a struct field is written under: its yaml
// tag, else its json tag, else its lower-cased name (as yaml.v3 does).
// inline is set for ",inline" and for untagged embedded structs.
func fieldName(f reflect.StructField) (name string, inline, skip bool) {
	for _, key := range []string{"yaml", "json"} {
		tag, ok := f.Tag.Lookup(key)
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			return "", false, true
		}
		inline = strings.Contains(","+opts+",", ",inline,")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		return name, inline, false
	}
	return strings.ToLower(f.Name), f.Anonymous, false
}

// maskScalar returns Masked for a set secret, s otherwise.
func maskScalar(s string, zero, secret bool) any {
	if secret && !zero {
		return Masked
	}
	return s
}

// IsSecretName reports whether a name (a configuration key, a query
// parameter) names a secret: one of its words (split at '_', '-', '.',
// spaces and lower→upper case changes) is a secret word such as key,
// token, secret, sig or password. The log masking uses the same rule.
func IsSecretName(name string) bool {
	var word []rune
	prevLower := false
	for _, r := range name {
		boundary := !unicode.IsLetter(r) && !unicode.IsDigit(r)
		if boundary || (unicode.IsUpper(r) && prevLower) {
			if secretWords[strings.ToLower(string(word))] {
				return true
			}
			word = word[:0]
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		if !boundary {
			word = append(word, r)
		}
	}
	return secretWords[strings.ToLower(string(word))]
}

// maskURL masks the password and the secret-named query values of a URL;
// other strings are returned unchanged.
func maskURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	changed := false
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Masked)
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k, vals := range q {
			if IsSecretName(k) {
				for i := range vals {
					vals[i] = Masked
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return s
	}
	return u.String()
}
