package audiotest

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// sampleRate is the bridge's one rate (media.SampleRate), written into the
// WAV header. media's tests read every file written here back with
// media.ReadWAV, which checks it.
const sampleRate = 8000

// WriteWAV writes samples as a RIFF/WAVE file in the bridge's format: 16-bit
// PCM, mono, 8000 Hz. It is the inverse of media.ReadWAV.
func WriteWAV(w io.Writer, samples []int16) error {
	dataSize := int64(len(samples)) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d samples do not fit in a WAV file", len(samples))
	}
	// One buffer and one Write: simple, and a failing writer is told about
	// it once rather than per sample.
	le := binary.LittleEndian
	b := make([]byte, 0, 44+dataSize)
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(36+dataSize))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)           // fmt chunk size
	b = le.AppendUint16(b, 1)            // format: PCM
	b = le.AppendUint16(b, 1)            // channels
	b = le.AppendUint32(b, sampleRate)   // sample rate
	b = le.AppendUint32(b, sampleRate*2) // bytes per second
	b = le.AppendUint16(b, 2)            // block align
	b = le.AppendUint16(b, 16)           // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(dataSize))
	for _, s := range samples {
		b = le.AppendUint16(b, uint16(s))
	}
	_, err := w.Write(b)
	return err
}
