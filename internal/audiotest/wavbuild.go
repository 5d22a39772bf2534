package audiotest

import "encoding/binary"

// WAVChunk is one RIFF chunk, for building broken and unusual WAV files.
type WAVChunk struct {
	ID   string
	Body []byte
}

// BuildWAV assembles a RIFF/WAVE file from chunks, padding odd-sized ones
// as the format requires.
func BuildWAV(chunks ...WAVChunk) []byte {
	var body []byte
	body = append(body, "WAVE"...)
	for _, c := range chunks {
		body = append(body, c.ID...)
		body = binary.LittleEndian.AppendUint32(body, uint32(len(c.Body)))
		body = append(body, c.Body...)
		if len(c.Body)%2 == 1 {
			body = append(body, 0)
		}
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

// FmtChunk is a plain 16-byte fmt chunk.
func FmtChunk(format, channels uint16, rate uint32, bits uint16) WAVChunk {
	le := binary.LittleEndian
	block := channels * bits / 8
	var b []byte
	b = le.AppendUint16(b, format)
	b = le.AppendUint16(b, channels)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*uint32(block))
	b = le.AppendUint16(b, block)
	b = le.AppendUint16(b, bits)
	return WAVChunk{"fmt ", b}
}

// DataChunk is a data chunk of 16-bit samples.
func DataChunk(samples ...int16) WAVChunk {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return WAVChunk{"data", b}
}
