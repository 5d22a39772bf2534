package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAV format tags (the first field of the fmt chunk).
const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE // the real format is in the sub-format GUID
)

// maxFmtChunk bounds the fmt chunk we read into memory: real ones are 16,
// 18 or 40 bytes, so anything bigger is garbage, not a reason to allocate.
const maxFmtChunk = 1024

// ReadWAV reads a RIFF/WAVE file holding 16-bit PCM, mono, 8000 Hz (the
// bridge's own format, so playback needs no resampling) and returns its
// samples. Chunks other than fmt and data (LIST, fact, cue, ...) are
// skipped; reading stops at the end of the data chunk. Any other layout is
// an error saying what is wrong, so an administrator replacing a prompt
// knows how to convert it.
func ReadWAV(r io.Reader) ([]int16, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, errors.New("wav: not a RIFF file (too short)")
	}
	if string(hdr[0:4]) != "RIFF" {
		return nil, fmt.Errorf("wav: not a RIFF file (starts with %q)", hdr[0:4])
	}
	if string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: RIFF type %q, need \"WAVE\"", hdr[8:12])
	}
	// The RIFF size field is ignored: streaming writers often leave it
	// wrong, and the chunks themselves say how long they are.

	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return nil, errors.New("wav: no fmt chunk")
			}
			return nil, errors.New("wav: no data chunk")
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))

		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtChunk {
				return nil, fmt.Errorf("wav: fmt chunk of %d bytes, need 16 to %d", size, maxFmtChunk)
			}
			buf := make([]byte, size+size&1) // chunks are padded to even sizes
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, errors.New("wav: fmt chunk truncated")
			}
			if err := checkWAVFormat(buf[:size]); err != nil {
				return nil, err
			}
			haveFmt = true

		case "data":
			if !haveFmt {
				return nil, errors.New("wav: data chunk before fmt chunk")
			}
			if size%2 != 0 {
				return nil, fmt.Errorf("wav: data chunk of %d bytes is not a whole number of 16-bit samples", size)
			}
			// ReadAll through a limit allocates only what is really there,
			// so a garbage size field cannot make us reserve gigabytes.
			data, err := io.ReadAll(io.LimitReader(r, size))
			if err != nil {
				return nil, fmt.Errorf("wav: reading data chunk: %v", err)
			}
			if int64(len(data)) < size {
				return nil, fmt.Errorf("wav: data chunk truncated: %d of %d bytes", len(data), size)
			}
			samples := make([]int16, len(data)/2)
			for i := range samples {
				samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			return samples, nil

		default:
			// Unknown chunk: skip it and its pad byte.
			n := size + size&1
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return nil, fmt.Errorf("wav: %q chunk truncated", id)
			}
		}
	}
}

// checkWAVFormat checks a fmt chunk's body against the one format we accept.
func checkWAVFormat(b []byte) error {
	format := binary.LittleEndian.Uint16(b[0:2])
	channels := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	bits := binary.LittleEndian.Uint16(b[14:16])

	if format == wavFormatExtensible {
		// WAVE_FORMAT_EXTENSIBLE: cbSize(2) validBits(2) channelMask(4)
		// then the sub-format GUID, whose first two bytes are the format tag.
		if len(b) < 40 {
			return fmt.Errorf("wav: extensible fmt chunk of %d bytes, need 40", len(b))
		}
		format = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case format != wavFormatPCM:
		return fmt.Errorf("wav: format %d, need PCM (1)", format)
	case channels != 1:
		return fmt.Errorf("wav: %d channels, need mono (1)", channels)
	case bits != 16:
		return fmt.Errorf("wav: %d bits per sample, need 16", bits)
	case rate != SampleRate:
		return fmt.Errorf("wav: sample rate %d Hz, need %d", rate, SampleRate)
	}
	return nil
}
