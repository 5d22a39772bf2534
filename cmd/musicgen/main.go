// Command musicgen writes the bridge's music-on-hold: an original, calm
// loop of about three minutes, synthesised from scratch, so the repository
// holds no recording it may not own and anyone can remake the file.
//
//	go run ./cmd/musicgen -o media/prompts/music_on_hold.wav
//
// The output is deterministic: the same seed gives the same file. The
// tests check that the committed file is what this program makes.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"time"
)

func main() {
	out := flag.String("o", "", "WAV file to write (8 kHz mono 16-bit)")
	seed := flag.Uint64("seed", DefaultSeed, "seed for the melody and variations")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: musicgen -o file.wav [-seed n]")
		os.Exit(2)
	}
	t0 := time.Now()
	pcm := Generate(*seed)
	if err := os.WriteFile(*out, encodeWAV(pcm), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "musicgen:", err)
		os.Exit(1)
	}
	rms, peak := levels(pcm)
	fmt.Printf("musicgen: %s: %.1f s, RMS %.1f dBFS, peak %.1f dBFS, made in %v\n",
		*out, float64(len(pcm))/sampleRate, rms, peak, time.Since(t0).Round(time.Millisecond))
}

// levels returns the RMS and peak of pcm in dBFS, relative to a full-scale
// sine as audiotest.DBFS measures.
func levels(pcm []int16) (rmsDBFS, peakDBFS float64) {
	var sum, peak float64
	for _, s := range pcm {
		v := float64(s)
		sum += v * v
		peak = max(peak, math.Abs(v))
	}
	rms := math.Sqrt(sum / float64(len(pcm)))
	return 20 * math.Log10(rms/(32767/math.Sqrt2)), 20 * math.Log10(peak/32767)
}

// encodeWAV is pcm as a RIFF/WAVE file in the bridge's format, written out
// here rather than with audiotest.WriteWAV to keep the generator on the
// standard library; the tests read the result with media.ReadWAV.
func encodeWAV(pcm []int16) []byte {
	le := binary.LittleEndian
	size := uint32(2 * len(pcm))
	b := make([]byte, 0, 44+size)
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, 36+size)
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)           // fmt chunk size
	b = le.AppendUint16(b, 1)            // PCM
	b = le.AppendUint16(b, 1)            // mono
	b = le.AppendUint32(b, sampleRate)   // samples per second
	b = le.AppendUint32(b, 2*sampleRate) // bytes per second
	b = le.AppendUint16(b, 2)            // bytes per sample
	b = le.AppendUint16(b, 16)           // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, size)
	for _, s := range pcm {
		b = le.AppendUint16(b, uint16(s))
	}
	return b
}
