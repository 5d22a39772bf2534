package media

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/dialin/dialin/internal/audiotest"
)

// extensibleFmtChunk is a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk.
func extensibleFmtChunk(subFormat uint16) audiotest.WAVChunk {
	c := audiotest.FmtChunk(wavFormatExtensible, 1, 8000, 16)
	le := binary.LittleEndian
	c.Body = le.AppendUint16(c.Body, 22) // cbSize
	c.Body = le.AppendUint16(c.Body, 16) // valid bits
	c.Body = le.AppendUint32(c.Body, 4)  // channel mask: front centre
	c.Body = le.AppendUint16(c.Body, subFormat)
	// Rest of KSDATAFORMAT_SUBTYPE_PCM's GUID.
	c.Body = append(c.Body, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	return c
}

var pcm8k = audiotest.FmtChunk(wavFormatPCM, 1, 8000, 16)

func TestWAVRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 159, 160, 8000} {
		in := make([]int16, n)
		for i := range in {
			in[i] = int16(i*7919 - 32768) // covers the whole range, negatives too
		}
		if n >= 4 { // the extremes, where sign handling goes wrong
			in[0], in[1], in[2], in[3] = 32767, -32768, 0, -1
		}
		var buf bytes.Buffer
		if err := audiotest.WriteWAV(&buf, in); err != nil {
			t.Fatal(err)
		}
		if buf.Len() != 44+2*n {
			t.Errorf("n=%d: file is %d bytes, want %d", n, buf.Len(), 44+2*n)
		}
		out, err := ReadWAV(&buf)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !slices.Equal(in, out) {
			t.Errorf("n=%d: samples changed in the round trip", n)
		}
	}
}

func TestReadWAVAccepts(t *testing.T) {
	want := []int16{1, -2, 3, 32767, -32768}
	tests := []struct {
		name string
		file []byte
	}{
		{"plain", audiotest.BuildWAV(pcm8k, audiotest.DataChunk(want...))},
		{"LIST and fact chunks", audiotest.BuildWAV(
			audiotest.WAVChunk{ID: "LIST", Body: []byte("INFOISFT\x05\x00\x00\x00sox!\x00\x00")},
			pcm8k,
			audiotest.WAVChunk{ID: "fact", Body: []byte{5, 0, 0, 0}},
			audiotest.DataChunk(want...))},
		{"odd-sized chunk with pad byte", audiotest.BuildWAV(
			audiotest.WAVChunk{ID: "junk", Body: []byte("abc")}, pcm8k, audiotest.WAVChunk{ID: "odd ", Body: []byte{1}}, audiotest.DataChunk(want...))},
		{"18-byte fmt", audiotest.BuildWAV(audiotest.WAVChunk{ID: "fmt ", Body: append(pcm8k.Body, 0, 0)}, audiotest.DataChunk(want...))},
		{"extensible PCM", audiotest.BuildWAV(extensibleFmtChunk(wavFormatPCM), audiotest.DataChunk(want...))},
		{"trailing chunk after data", audiotest.BuildWAV(pcm8k, audiotest.DataChunk(want...), audiotest.WAVChunk{ID: "LIST", Body: []byte("xyz")})},
	}
	for _, tt := range tests {
		got, err := ReadWAV(bytes.NewReader(tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, want)
		}
	}
}

func TestReadWAVRejects(t *testing.T) {
	good := audiotest.BuildWAV(pcm8k, audiotest.DataChunk(1, 2, 3, 4))
	tests := []struct {
		name string
		file []byte
		want string // in the error
	}{
		{"empty", nil, "not a RIFF file"},
		{"not RIFF", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), `not a RIFF file (starts with "ID3\x04")`},
		{"RIFF but not WAVE", append([]byte("RIFF\x04\x00\x00\x00AVI "), good[12:]...), `RIFF type "AVI ", need "WAVE"`},
		{"wrong rate", audiotest.BuildWAV(audiotest.FmtChunk(1, 1, 22050, 16), audiotest.DataChunk(1, 2)), "wav: sample rate 22050 Hz, need 8000"},
		{"stereo", audiotest.BuildWAV(audiotest.FmtChunk(1, 2, 8000, 16), audiotest.DataChunk(1, 2)), "wav: 2 channels, need mono (1)"},
		{"8-bit", audiotest.BuildWAV(audiotest.FmtChunk(1, 1, 8000, 8), audiotest.WAVChunk{ID: "data", Body: []byte{128, 129}}), "wav: 8 bits per sample, need 16"},
		{"float", audiotest.BuildWAV(audiotest.FmtChunk(3, 1, 8000, 32), audiotest.DataChunk(1, 2)), "wav: format 3, need PCM (1)"},
		{"µ-law WAV", audiotest.BuildWAV(audiotest.FmtChunk(7, 1, 8000, 8), audiotest.DataChunk(1, 2)), "wav: format 7, need PCM (1)"},
		{"extensible float", audiotest.BuildWAV(extensibleFmtChunk(3), audiotest.DataChunk(1, 2)), "wav: format 3, need PCM (1)"},
		{"short extensible", audiotest.BuildWAV(audiotest.WAVChunk{ID: "fmt ", Body: append(audiotest.FmtChunk(wavFormatExtensible, 1, 8000, 16).Body, 0, 0)}, audiotest.DataChunk(1)), "extensible fmt chunk of 18 bytes"},
		{"truncated data", good[:len(good)-3], "wav: data chunk truncated: 5 of 8 bytes"},
		{"odd data size", audiotest.BuildWAV(pcm8k, audiotest.WAVChunk{ID: "data", Body: []byte{1, 2, 3}}), "not a whole number of 16-bit samples"},
		{"no data", audiotest.BuildWAV(pcm8k), "wav: no data chunk"},
		{"no fmt", audiotest.BuildWAV(audiotest.WAVChunk{ID: "LIST", Body: []byte("ab")}), "wav: no fmt chunk"},
		{"data before fmt", audiotest.BuildWAV(audiotest.DataChunk(1, 2), pcm8k), "data chunk before fmt chunk"},
		{"short fmt", audiotest.BuildWAV(audiotest.WAVChunk{ID: "fmt ", Body: make([]byte, 14)}, audiotest.DataChunk(1)), "fmt chunk of 14 bytes"},
		{"huge fmt", append(audiotest.BuildWAV(), "fmt \xff\xff\xff\xff"...), "fmt chunk of 4294967295 bytes"},
		{"truncated fmt", append(audiotest.BuildWAV(), "fmt \x10\x00\x00\x00\x01\x00"...), "fmt chunk truncated"},
		{"truncated unknown chunk", append(audiotest.BuildWAV(pcm8k), "LIST\x00\x01\x00\x00abc"...), `"LIST" chunk truncated`},
		{"huge data size", append(audiotest.BuildWAV(pcm8k), "data\xfe\xff\xff\xff\x01\x00"...), "data chunk truncated: 2 of 4294967294 bytes"},
	}
	for _, tt := range tests {
		got, err := ReadWAV(bytes.NewReader(tt.file))
		if err == nil {
			t.Errorf("%s: no error, got %d samples", tt.name, len(got))
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// FuzzReadWAV checks that no input makes ReadWAV panic, and that whatever it
// accepts survives an audiotest.WriteWAV/ReadWAV round trip unchanged.
func FuzzReadWAV(f *testing.F) {
	f.Add(audiotest.BuildWAV(pcm8k, audiotest.DataChunk(1, -1, 1000, -32768)))
	f.Add(audiotest.BuildWAV(audiotest.WAVChunk{ID: "LIST", Body: []byte("odd")}, pcm8k, audiotest.DataChunk(5)))
	f.Add(audiotest.BuildWAV(extensibleFmtChunk(wavFormatPCM), audiotest.DataChunk(7, 8)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, file []byte) {
		samples, err := ReadWAV(bytes.NewReader(file))
		if err != nil {
			if samples != nil {
				t.Errorf("error %v came with %d samples", err, len(samples))
			}
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Errorf("error %q does not say it is about the WAV file", err)
			}
			return
		}
		if 2*len(samples) > len(file) {
			t.Fatalf("%d samples from a %d-byte file", len(samples), len(file))
		}
		var buf bytes.Buffer
		if err := audiotest.WriteWAV(&buf, samples); err != nil {
			t.Fatal(err)
		}
		again, err := ReadWAV(&buf)
		if err != nil {
			t.Fatalf("re-reading our own file: %v", err)
		}
		if !slices.Equal(samples, again) {
			t.Fatal("round trip changed the samples")
		}
	})
}
