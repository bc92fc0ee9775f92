package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// MaxRequestBytes bounds the raw request; a Step Functions input is at most 256 KiB.
const MaxRequestBytes = 256 * 1024

// Decode reads one migration request strictly: exactly one JSON object, field names
// spelled exactly as documented (encoding/json alone would match them case-insensitively),
// no unknown or repeated fields, every value of the documented JSON type. Every problem
// found is reported in one *failure.ValidationError that names the field.
func Decode(raw []byte) (*Request, error) {
	verr := &failure.ValidationError{}
	if len(raw) > MaxRequestBytes {
		verr.Add("(request)", "is %d bytes; the limit is %d", len(raw), MaxRequestBytes)
		return nil, verr
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		verr.Add("(request)", "is empty; give the migration request as a JSON object (README: The migration request)")
		return nil, verr
	}
	if !json.Valid(raw) {
		verr.Add("(request)", "is not valid JSON: %s", syntaxProblem(raw))
		return nil, verr
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// json.Valid accepted raw, so it holds exactly one value.
	shape(dec, reflect.TypeOf(Request{}), "", verr)
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	var r Request
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&r); err != nil {
		// shape has checked names and types, so this is not expected; report it anyway.
		verr.Add(fieldOf(err), "%v", err)
		return nil, verr
	}
	if _, err := strict.Token(); !errors.Is(err, io.EOF) {
		verr.Add("(request)", "holds more than one JSON value")
		return nil, verr
	}
	return &r, nil
}

func syntaxProblem(raw []byte) string {
	var v any
	err := json.Unmarshal(raw, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "more than one JSON value"
}

func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	return "(request)"
}

// shape walks the next JSON value of dec against type t and records every field that is
// unknown, repeated or of the wrong JSON type. path is the JSON path of the value.
func shape(dec *json.Decoder, t reflect.Type, path string, verr *failure.ValidationError) {
	tok, err := dec.Token()
	if err != nil {
		verr.Add(orRoot(path), "cannot be read: %v", err)
		return
	}
	if t.Kind() == reflect.Pointer {
		if tok == nil {
			return
		}
		t = t.Elem()
	}
	want := jsonKind(t)
	got := tokenKind(tok)
	if got != want {
		if got == "null" && (t.Kind() == reflect.Slice) {
			return
		}
		verr.Add(orRoot(path), "must be %s, not %s", want, got)
		skip(dec, tok)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := jsonFields(t)
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				verr.Add(orRoot(path), "cannot be read: %v", err)
				return
			}
			key, _ := kt.(string)
			sub := join(path, key)
			ft, ok := fields[key]
			switch {
			case !ok:
				verr.Add(sub, "is not a known field%s", suggestion(key, fields))
				skipValue(dec)
			case seen[key]:
				verr.Add(sub, "appears more than once")
				skipValue(dec)
			default:
				seen[key] = true
				shape(dec, ft, sub, verr)
			}
		}
		_, _ = dec.Token() // '}'
	case reflect.Slice:
		for i := 0; dec.More(); i++ {
			shape(dec, t.Elem(), fmt.Sprintf("%s[%d]", path, i), verr)
		}
		_, _ = dec.Token() // ']'
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(request)"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func suggestion(key string, fields map[string]reflect.Type) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf(" (did you mean %q? names are case-sensitive)", name)
		}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	return "; known fields: " + strings.Join(names, ", ")
}

// jsonFields maps each JSON name of struct t to its field type.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "a list"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	default:
		return "a number"
	}
}

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	case bool:
		return "true or false"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	default:
		return "null"
	}
}

// skip consumes the rest of a value whose first token was tok.
func skip(dec *json.Decoder, tok json.Token) {
	d, ok := tok.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return
	}
	depth := 1
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
}

func skipValue(dec *json.Decoder) {
	tok, err := dec.Token()
	if err != nil {
		return
	}
	skip(dec, tok)
}
