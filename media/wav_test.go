package media

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/dialin/dialin/internal/audiotest"
)

// wavChunk is one RIFF chunk for building test files.
type wavChunk struct {
	id   string
	body []byte
}

// buildWAV assembles a RIFF/WAVE file from chunks, padding odd-sized ones
// as the format requires.
func buildWAV(chunks ...wavChunk) []byte {
	var body []byte
	body = append(body, "WAVE"...)
	for _, c := range chunks {
		body = append(body, c.id...)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(c.body)))
		body = append(body, c.body...)
		if len(c.body)%2 == 1 {
			body = append(body, 0)
		}
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

// fmtChunk is a plain 16-byte fmt chunk.
func fmtChunk(format, channels uint16, rate uint32, bits uint16) wavChunk {
	le := binary.LittleEndian
	block := channels * bits / 8
	var b []byte
	b = le.AppendUint16(b, format)
	b = le.AppendUint16(b, channels)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*uint32(block))
	b = le.AppendUint16(b, block)
	b = le.AppendUint16(b, bits)
	return wavChunk{"fmt ", b}
}

// extensibleFmtChunk is a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk.
func extensibleFmtChunk(subFormat uint16) wavChunk {
	c := fmtChunk(wavFormatExtensible, 1, 8000, 16)
	le := binary.LittleEndian
	c.body = le.AppendUint16(c.body, 22) // cbSize
	c.body = le.AppendUint16(c.body, 16) // valid bits
	c.body = le.AppendUint32(c.body, 4)  // channel mask: front centre
	c.body = le.AppendUint16(c.body, subFormat)
	// Rest of KSDATAFORMAT_SUBTYPE_PCM's GUID.
	c.body = append(c.body, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	return c
}

func dataChunk(samples ...int16) wavChunk {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return wavChunk{"data", b}
}

var pcm8k = fmtChunk(wavFormatPCM, 1, 8000, 16)

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
		{"plain", buildWAV(pcm8k, dataChunk(want...))},
		{"LIST and fact chunks", buildWAV(
			wavChunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00sox!\x00\x00")},
			pcm8k,
			wavChunk{"fact", []byte{5, 0, 0, 0}},
			dataChunk(want...))},
		{"odd-sized chunk with pad byte", buildWAV(
			wavChunk{"junk", []byte("abc")}, pcm8k, wavChunk{"odd ", []byte{1}}, dataChunk(want...))},
		{"18-byte fmt", buildWAV(wavChunk{"fmt ", append(pcm8k.body, 0, 0)}, dataChunk(want...))},
		{"extensible PCM", buildWAV(extensibleFmtChunk(wavFormatPCM), dataChunk(want...))},
		{"trailing chunk after data", buildWAV(pcm8k, dataChunk(want...), wavChunk{"LIST", []byte("xyz")})},
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
	good := buildWAV(pcm8k, dataChunk(1, 2, 3, 4))
	tests := []struct {
		name string
		file []byte
		want string // in the error
	}{
		{"empty", nil, "not a RIFF file"},
		{"not RIFF", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), `not a RIFF file (starts with "ID3\x04")`},
		{"RIFF but not WAVE", append([]byte("RIFF\x04\x00\x00\x00AVI "), good[12:]...), `RIFF type "AVI ", need "WAVE"`},
		{"wrong rate", buildWAV(fmtChunk(1, 1, 22050, 16), dataChunk(1, 2)), "wav: sample rate 22050 Hz, need 8000"},
		{"stereo", buildWAV(fmtChunk(1, 2, 8000, 16), dataChunk(1, 2)), "wav: 2 channels, need mono (1)"},
		{"8-bit", buildWAV(fmtChunk(1, 1, 8000, 8), wavChunk{"data", []byte{128, 129}}), "wav: 8 bits per sample, need 16"},
		{"float", buildWAV(fmtChunk(3, 1, 8000, 32), dataChunk(1, 2)), "wav: format 3, need PCM (1)"},
		{"µ-law WAV", buildWAV(fmtChunk(7, 1, 8000, 8), dataChunk(1, 2)), "wav: format 7, need PCM (1)"},
		{"extensible float", buildWAV(extensibleFmtChunk(3), dataChunk(1, 2)), "wav: format 3, need PCM (1)"},
		{"short extensible", buildWAV(wavChunk{"fmt ", append(fmtChunk(wavFormatExtensible, 1, 8000, 16).body, 0, 0)}, dataChunk(1)), "extensible fmt chunk of 18 bytes"},
		{"truncated data", good[:len(good)-3], "wav: data chunk truncated: 5 of 8 bytes"},
		{"odd data size", buildWAV(pcm8k, wavChunk{"data", []byte{1, 2, 3}}), "not a whole number of 16-bit samples"},
		{"no data", buildWAV(pcm8k), "wav: no data chunk"},
		{"no fmt", buildWAV(wavChunk{"LIST", []byte("ab")}), "wav: no fmt chunk"},
		{"data before fmt", buildWAV(dataChunk(1, 2), pcm8k), "data chunk before fmt chunk"},
		{"short fmt", buildWAV(wavChunk{"fmt ", make([]byte, 14)}, dataChunk(1)), "fmt chunk of 14 bytes"},
		{"huge fmt", append(buildWAV(), "fmt \xff\xff\xff\xff"...), "fmt chunk of 4294967295 bytes"},
		{"truncated fmt", append(buildWAV(), "fmt \x10\x00\x00\x00\x01\x00"...), "fmt chunk truncated"},
		{"truncated unknown chunk", append(buildWAV(pcm8k), "LIST\x00\x01\x00\x00abc"...), `"LIST" chunk truncated`},
		{"huge data size", append(buildWAV(pcm8k), "data\xfe\xff\xff\xff\x01\x00"...), "data chunk truncated: 2 of 4294967294 bytes"},
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
	f.Add(buildWAV(pcm8k, dataChunk(1, -1, 1000, -32768)))
	f.Add(buildWAV(wavChunk{"LIST", []byte("odd")}, pcm8k, dataChunk(5)))
	f.Add(buildWAV(extensibleFmtChunk(wavFormatPCM), dataChunk(7, 8)))
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
