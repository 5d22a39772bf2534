package smtptest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// maxDepth bounds nested multiparts.
const maxDepth = 8

// parse reads what the tests check from a raw message. A message that does
// not parse is still recorded, with only Raw set.
func parse(raw []byte) Message {
	m := Message{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	if d, err := msg.Header.Date(); err == nil {
		m.Date = d
	}
	walk(&m, textproto.MIMEHeader(msg.Header), msg.Body, 0)
	return m
}

// walk fills m.Text and m.HTML from the first text/plain and text/html
// leaves of the part with header h and body r.
func walk(m *Message, h textproto.MIMEHeader, r io.Reader, depth int) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxDepth || params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			// NextRawPart: NextPart would undo quoted-printable itself and
			// hide the header, and decode does it for both encodings.
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(m, p.Header, p, depth+1)
		}
	}
	var dst *string
	switch mediaType {
	case "text/plain":
		dst = &m.Text
	case "text/html":
		dst = &m.HTML
	default:
		return
	}
	if *dst != "" {
		return
	}
	body, err := io.ReadAll(decode(r, h.Get("Content-Transfer-Encoding")))
	if err != nil {
		return
	}
	*dst = string(body)
}

func decode(r io.Reader, encoding string) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		// The base64 decoder skips the line breaks itself.
		return base64.NewDecoder(base64.StdEncoding, r)
	default:
		return r
	}
}
