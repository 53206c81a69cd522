package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// mergePatch is the media type PATCH accepts beside JSON (RFC 7396).
const mergePatch = "application/merge-patch+json"

// rawFields are the top-level members of a JSON object body, undecoded, so
// that a PATCH can tell a null from an absent field.
type rawFields map[string]json.RawMessage

// decodeJSON reads the request's body, which must be a JSON object whose
// members are all fields of dst (a pointer to a struct), into dst. It
// returns the members as they were sent. Extra media types beside
// application/json may be allowed. Every failure is a *problem.
func decodeJSON(r *http.Request, dst any, allowedTypes ...string) (rawFields, error) {
	if err := checkMediaType(r, allowedTypes); err != nil {
		return nil, err
	}

	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, readError(err)
	}

	fields, err := parseObject(body)
	if err != nil {
		return nil, err
	}

	if err := checkFieldNames(fields, dst); err != nil {
		return nil, err
	}

	if err := json.Unmarshal(body, dst); err != nil {
		return nil, typeError(err)
	}
	return fields, nil
}

// decodeOptionalJSON is decodeJSON for a body that may be left out: an
// empty body leaves dst as it is.
func decodeOptionalJSON(r *http.Request, dst any) error {
	if err := checkMediaType(r, nil); err != nil {
		return err
	}

	body, err := io.ReadAll(r.Body)
	if err != nil {
		return readError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	_, err = decodeJSON(r, dst)
	return err
}

// checkMediaType refuses a body that is not JSON. A request without a body
// passes here and fails later as an empty body.
func checkMediaType(r *http.Request, allowed []string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return nil
	}

	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || slices.Contains(allowed, mt)) {
		return nil
	}

	want := strings.Join(append([]string{"application/json"}, allowed...), " or ")
	return fail(codeUnsupportedMediaType, fmt.Sprintf(
		"send the body as %s (Content-Type was %q)", want, truncate(ct, 64)))
}

// readError explains a failure to read the body.
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return fail(codeInvalidJSON, "the request body could not be read to its end")
}

// parseObject checks that body is one JSON object and returns its members.
// Its messages give positions, never the text: a body may hold a secret.
func parseObject(body []byte) (rawFields, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fail(codeInvalidJSON, "the request needs a JSON object as its body")
	}

	var fields rawFields
	err := json.Unmarshal(trimmed, &fields)

	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, fail(codeInvalidJSON, fmt.Sprintf(
			"the body is not valid JSON: syntax error at byte %d", syntax.Offset))
	case err != nil || trimmed[0] != '{':
		return nil, fail(codeInvalidJSON, "the body must be a JSON object ({...})")
	}
	return fields, nil
}

// checkFieldNames refuses members that dst has no field for.
func checkFieldNames(fields rawFields, dst any) error {
	known := fieldNames(reflect.TypeOf(dst).Elem())

	var unknown []string
	for name := range fields {
		if !known[name] {
			unknown = append(unknown, fmt.Sprintf("%q", truncate(name, 64)))
		}
	}
	if len(unknown) == 0 {
		return nil
	}

	sort.Strings(unknown)
	return fail(codeInvalidRequest, fmt.Sprintf(
		"unknown field %s; accepted fields are %s",
		strings.Join(unknown, ", "), strings.Join(quotedKeys(known), ", ")))
}

// typeError explains a member of the wrong JSON type, naming the field and
// the type wanted but never the value sent.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// encoding/json names a field of an embedded struct after the Go
		// type ("secretSource.generate"), which means nothing to a client.
		field := strings.TrimPrefix(te.Field, "secretSource.")
		return fail(codeInvalidRequest, fmt.Sprintf(
			"field %q must be %s", field, describeType(te.Type)))
	}
	return fail(codeInvalidRequest, "a field of the body has the wrong type")
}

// describeType names a Go type the way an API user thinks of JSON.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Map:
		return "an object of strings"
	case reflect.Slice:
		return "an array of strings"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return "of another type"
}

// fieldNameCache maps a struct type to the JSON names of its fields.
var fieldNameCache sync.Map

// fieldNames returns the JSON member names that struct type t accepts,
// including those of embedded structs.
func fieldNames(t reflect.Type) map[string]bool {
	if names, ok := fieldNameCache.Load(t); ok {
		return names.(map[string]bool)
	}

	names := make(map[string]bool)
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for n := range fieldNames(f.Type) {
				names[n] = true
			}
			continue
		}

		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}

	fieldNameCache.Store(t, names)
	return names
}

// quotedKeys returns the keys of m in order, quoted.
func quotedKeys(m map[string]bool) []string {
	keys := slices.Sorted(maps.Keys(m))
	for i, k := range keys {
		keys[i] = strconv.Quote(k)
	}
	return keys
}

// isNull reports whether a member was sent as JSON null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// truncate cuts s to at most n bytes, for echoing client input safely.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
