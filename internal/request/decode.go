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
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// RetiredFields are fields earlier versions accepted, with what to do instead. A request
// that still has one fails with that message rather than "not a known field".
var RetiredFields = map[string]string{
	"source.policyRoleArn": "is no longer accepted: the roles dsmigrate assumes in account A are derived from source.accountId and the deployment's name prefix (<prefix>-source-read for the checks, <prefix>-source-policy-writer for the bucket policy); remove the field",
	"source.externalId":    "is no longer accepted: the roles in account A trust only this deployment's function roles by name, so no external id is used; remove the field",
}

// MaxRequestBytes bounds the raw request: a Step Functions execution input is at most
// 262,144 bytes of UTF-8 (StartExecution "input": "Length constraints apply to the payload
// size, and are expressed as bytes in UTF-8 encoding"; ExecutionStartedEventDetails:
// "Maximum length of 262144", AWS Step Functions API Reference).
const MaxRequestBytes = 256 * 1024

// TooLarge is the rule a request of n bytes breaks (n > MaxRequestBytes); n < 0 means
// "more than MaxRequestBytes, exact size unknown".
func TooLarge(n int64) string {
	size := "more than 256 KiB"
	if n >= 0 {
		size = fmt.Sprintf("%d bytes (%s)", n, humanBytes(n))
	}
	return fmt.Sprintf("is %s; a Step Functions execution input is at most %d bytes (256 KiB): a migration request is a few hundred bytes: check that this is the request file", size, MaxRequestBytes)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}

// Byte-order marks: JSON text must not begin with one (RFC 8259, section 8.1), and
// encoding/json reports the UTF-8 one as "invalid character 'ï'".
var boms = []struct {
	bom  string
	name string
}{
	{"\xEF\xBB\xBF", "a UTF-8 byte-order mark (bytes EF BB BF); save the file as UTF-8 without BOM"},
	{"\xFE\xFF", "a UTF-16 byte-order mark (bytes FE FF): it is UTF-16 text; save it as UTF-8"},
	{"\xFF\xFE", "a UTF-16 byte-order mark (bytes FF FE): it is UTF-16 text; save it as UTF-8"},
}

// Decode reads one migration request strictly: exactly one JSON object, field names
// spelled exactly as documented (encoding/json alone would match them case-insensitively),
// no unknown or repeated fields, every value of the documented JSON type. Every problem
// found is reported in one *failure.ValidationError that names the field.
func Decode(raw []byte) (*Request, error) {
	verr := &failure.ValidationError{}
	if len(raw) > MaxRequestBytes {
		verr.Add("(request)", "%s", TooLarge(int64(len(raw))))
		return nil, verr
	}
	for _, b := range boms {
		if bytes.HasPrefix(raw, []byte(b.bom)) {
			verr.Add("(request)", "starts with %s", b.name)
			return nil, verr
		}
	}
	if len(raw) >= 2 && (raw[0] == 0 || raw[1] == 0) {
		// JSON text is UTF-8 (RFC 8259, section 8.1); in UTF-16 or UTF-32 an ASCII
		// character comes with NUL bytes.
		verr.Add("(request)", "starts with NUL bytes: it looks like UTF-16 or UTF-32 text; save it as UTF-8")
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
	w := &walker{dec: dec, raw: raw, verr: verr}
	w.shape(reflect.TypeOf(Request{}), "")
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

// walker reads the request's tokens from dec; raw is the whole request, for the text of
// each string as written.
type walker struct {
	dec  *json.Decoder
	raw  []byte
	verr *failure.ValidationError
}

// token returns the next token and, when it is a string, the problem of its text as
// written ("" when none): encoding/json turns bytes that are not UTF-8 and escaped lone
// UTF-16 surrogates (\ud800) into U+FFFD without a word, so they are found here, in the
// raw text.
func (w *walker) token() (json.Token, string, error) {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if _, ok := tok.(string); !ok || err != nil {
		return tok, "", err
	}
	// The token's text starts at its opening quote, after any ':' or ',' and spaces.
	q := int(start) + bytes.IndexByte(w.raw[start:w.dec.InputOffset()], '"')
	return tok, textProblem(w.raw[q:w.dec.InputOffset()], q), nil
}

// textProblem checks a JSON string literal (quotes included) that starts at byte offset
// of the request.
func textProblem(lit []byte, offset int) string {
	if !utf8.Valid(lit) {
		i := 0
		for i < len(lit) {
			r, n := utf8.DecodeRune(lit[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return fmt.Sprintf("holds bytes that are not UTF-8 (byte 0x%02X at offset %d of the request); save the request as UTF-8", lit[i], offset+i)
	}
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		if i+1 < len(lit) && lit[i+1] != 'u' {
			i++ // a two-character escape such as \\ or \"
			continue
		}
		r, ok := hex4(lit, i+2)
		if !ok {
			continue // json.Valid accepted the text, so this does not happen
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xDC00:
			// hex4 read lit[i+8:i+12], so lit[i+6] and lit[i+7] exist.
			if low, ok := hex4(lit, i+8); ok && lit[i+6] == '\\' && lit[i+7] == 'u' && low >= 0xDC00 && low <= 0xDFFF {
				i += 11 // a pair: one character
				continue
			}
			fallthrough
		case utf16.IsSurrogate(r):
			return fmt.Sprintf("holds the escape \\u%04x, half of a UTF-16 surrogate pair without its other half (offset %d of the request), which is no character; write the character itself, or both halves of its pair", r, offset+i)
		}
		i += 5
	}
	return ""
}

// hex4 reads the four hexadecimal digits at lit[i:i+4].
func hex4(lit []byte, i int) (rune, bool) {
	if i+4 > len(lit) {
		return 0, false
	}
	var r rune
	for _, c := range lit[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// shape walks the next JSON value against type t and records every field that is
// unknown, repeated, of the wrong JSON type or not valid Unicode text. path is the JSON
// path of the value.
func (w *walker) shape(t reflect.Type, path string) {
	dec, verr := w.dec, w.verr
	tok, problem, err := w.token()
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
	if problem != "" {
		verr.Add(orRoot(path), "%s", problem)
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := jsonFields(t)
		seen := map[string]bool{}
		for dec.More() {
			kt, problem, err := w.token()
			if err != nil {
				verr.Add(orRoot(path), "cannot be read: %v", err)
				return
			}
			key, _ := kt.(string)
			sub := join(path, key)
			ft, ok := fields[key]
			switch {
			case problem != "":
				verr.Add(orRoot(path), "has a field name that %s", problem)
				skipValue(dec)
			case !ok && RetiredFields[sub] != "":
				verr.Add(sub, "%s", RetiredFields[sub])
				skipValue(dec)
			case !ok:
				verr.Add(sub, "is not a known field%s", suggestion(key, fields))
				skipValue(dec)
			case seen[key]:
				verr.Add(sub, "appears more than once")
				skipValue(dec)
			default:
				seen[key] = true
				w.shape(ft, sub)
			}
		}
		_, _ = dec.Token() // '}'
	case reflect.Slice:
		for i := 0; dec.More(); i++ {
			w.shape(t.Elem(), fmt.Sprintf("%s[%d]", path, i))
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

// MaxDocumentBytes bounds the normalized request as JSON (Validate checks it; the copy as
// given is no larger once Step Functions holds it as JSON: Decode refuses unknown fields
// and the normalization only adds defaults). The
// execution document holds it twice ($.request as given, $.preflight.request normalized)
// beside the source bucket policies and the errors, and Step Functions allows 256 KiB
// for a state's input or output: a larger state fails with States.DataLimitExceeded,
// which no Catch with States.ALL catches, so the grant would stay in the source bucket
// policy. internal/execution's TestWorstCaseDocumentFits computes the worst case: the
// four policy texts and two error causes at their bounds leave about 96 KB for the two
// copies and a sharded migration's shards and results. A request is a few hundred bytes;
// only long filter lists come near the bound.
const MaxDocumentBytes = 32 * 1024

// tooLargeForDocument is the rule a request of n bytes of JSON breaks (n > MaxDocumentBytes).
func tooLargeForDocument(n int) string {
	return fmt.Sprintf("is %d bytes as JSON; dsmigrate accepts at most %d (32 KiB): the execution keeps the request twice in its state, which Step Functions limits to 256 KiB beside the source bucket policies; shorten task.includes and task.excludes (DataSync's own limit, 102,400 characters each, does not fit)", n, MaxDocumentBytes)
}
