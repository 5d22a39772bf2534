package audiotest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// failingWriter fails every write, like a full disk.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteWAVReportsWriteError(t *testing.T) {
	if err := WriteWAV(failingWriter{}, []int16{1, 2}); err == nil || err.Error() != "disk full" {
		t.Errorf("got %v, want the writer's error", err)
	}
}

// TestWriteWAVHeader checks the 44-byte header field by field; media's
// TestWAVRoundTrip reads the files back with media.ReadWAV.
func TestWriteWAVHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteWAV(&buf, []int16{1, -2, 32767}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	le := binary.LittleEndian
	if len(b) != 44+6 {
		t.Fatalf("file is %d bytes, want 50", len(b))
	}
	if string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Errorf("chunk ids %q %q %q", b[0:4], b[8:16], b[36:40])
	}
	for _, f := range []struct {
		name      string
		got, want uint32
	}{
		{"RIFF size", le.Uint32(b[4:]), 36 + 6},
		{"fmt size", le.Uint32(b[16:]), 16},
		{"format", uint32(le.Uint16(b[20:])), 1},
		{"channels", uint32(le.Uint16(b[22:])), 1},
		{"rate", le.Uint32(b[24:]), 8000},
		{"byte rate", le.Uint32(b[28:]), 16000},
		{"block align", uint32(le.Uint16(b[32:])), 2},
		{"bits", uint32(le.Uint16(b[34:])), 16},
		{"data size", le.Uint32(b[40:]), 6},
	} {
		if f.got != f.want {
			t.Errorf("%s = %d, want %d", f.name, f.got, f.want)
		}
	}
	if got := []int16{int16(le.Uint16(b[44:])), int16(le.Uint16(b[46:])), int16(le.Uint16(b[48:]))}; got[0] != 1 || got[1] != -2 || got[2] != 32767 {
		t.Errorf("samples %v, want [1 -2 32767]", got)
	}
}
