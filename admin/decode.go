package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// maxBodyBytes bounds a request body: the largest legitimate one (a
// settings patch with a few dial-in numbers) is well under 1 KiB.
const maxBodyBytes = 64 << 10

// readBody reads a JSON request body, at most maxBodyBytes. An empty body
// gives nil: the caller decides whether that is allowed.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !isJSON(ct) {
		return nil, unsupportedMedia(ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, badRequest("request body is larger than %d KiB", maxBodyBytes>>10)
		}
		return nil, badRequest("reading request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if ct == "" {
		return nil, unsupportedMedia(ct)
	}
	return body, nil
}

// isJSON accepts application/json with at most a UTF-8 charset (JSON is UTF-8).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

func unsupportedMedia(ct string) *apiError {
	if ct == "" {
		ct = "none"
	}
	return &apiError{Status: http.StatusUnsupportedMediaType, Code: wire.CodeUnsupportedMedia,
		Message: fmt.Sprintf("the request body must be application/json (Content-Type: %s)", ct)}
}

// decodeBody reads the body into dst, a pointer to a struct. optional
// allows an empty body (dst is left as it is).
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if body == nil {
		if optional {
			return nil
		}
		return badRequest("a JSON object body is required")
	}
	return decodeJSON(body, dst)
}

// decodeJSON decodes exactly one JSON object into dst, refusing unknown
// fields, wrong types and anything after the object. Fields absent from
// the object keep the values dst already has (settings patches rely on it).
func decodeJSON(body []byte, dst any) error {
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return badRequest("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}

// jsonError explains a decoding error without echoing the body (it may
// hold a PIN).
func jsonError(err error) *apiError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("malformed JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("malformed JSON: unexpected end of the body")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("wrong JSON type: %s where %s was expected", typ.Value, typ.Type)
		}
		e := badRequest("field %s: %s where %s was expected", typ.Field, typ.Value, jsonTypeName(typ.Type.Kind().String()))
		e.Field = typ.Field
		return e
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for it; the text is stable.
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		e := badRequest("unknown field %s", name)
		e.Field = strings.Trim(name, `"`)
		return e
	}
	return badRequest("malformed JSON: %v", err)
}

// jsonTypeName names a Go kind as JSON does.
func jsonTypeName(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return kind
}

// checkEmail refuses what is not a bare address ("ada@example.com", not
// "Ada <ada@example.com>") where a request names a user to look up; the
// store checks the addresses it is given to write.
func checkEmail(field, email string) error {
	if email == "" {
		return invalidInput(field, "%s is required", field)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return invalidInput(field, "%q is not an email address", email)
	}
	return nil
}

// mailOptions are the per-call email choices of a request body: send_email
// (nil: true) and email_to. The store checks them (an address, and not
// both email_to and send_email false).
func mailOptions(sendEmail *bool, emailTo string) store.MailOptions {
	return store.MailOptions{Skip: sendEmail != nil && !*sendEmail, To: strings.TrimSpace(emailTo)}
}

// queryInt reads an optional integer query parameter within [min, max].
func queryInt(q url.Values, name string, def, min, max int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		if q.Has(name) {
			return 0, badParam(name, "empty")
		}
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, badParam(name, "%q is not a whole number from %d to %d", s, min, max)
	}
	return n, nil
}

// Page sizes of the list routes.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func queryLimit(q url.Values) (int, error) {
	n, err := queryInt(q, "limit", defaultLimit, 1, maxLimit)
	return int(n), err
}
