package prompts

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dialin/dialin/media"
)

//go:embed *.wav
var embedded embed.FS

// Set is the loaded prompts, read-only after Load (safe for
// concurrent use).
type Set struct {
	byName map[string]*media.Prompt
	names  []string // sorted
}

// DropPCM drops the linear samples of every prompt but those named in
// keep (see Prompt.DropPCM): half of the prompts' memory, most of it the
// music-on-hold. Call it at start-up, before the prompts are shared.
func (ps *Set) DropPCM(keep ...string) {
	for name, p := range ps.byName {
		if !slices.Contains(keep, name) {
			p.DropPCM()
		}
	}
}

// Load decodes the embedded prompts and, when overrideDir is not
// empty, replaces any of them with the WAV of the same name (name.wav) in
// that folder. Files in overrideDir that match no known prompt name are an
// error naming the file, to catch typos; a bad WAV is an error naming the
// file and the reason. Hidden files (".DS_Store", editor swap files) and
// sub-folders are ignored.
func Load(overrideDir string) (*Set, error) {
	ps := &Set{byName: make(map[string]*media.Prompt)}

	entries, err := embedded.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("prompts: %v", err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".wav")
		b, err := embedded.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("prompts: embedded %s: %v", e.Name(), err)
		}
		p, err := media.DecodePrompt(name, b)
		if err != nil {
			return nil, fmt.Errorf("prompts: embedded %s: %v", e.Name(), err)
		}
		ps.byName[name] = p
		ps.names = append(ps.names, name)
	}
	sort.Strings(ps.names)

	if overrideDir == "" {
		return ps, nil
	}
	files, err := os.ReadDir(overrideDir)
	if err != nil {
		return nil, fmt.Errorf("prompts: override folder: %v", err)
	}
	for _, f := range files {
		if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
			continue
		}
		file := filepath.Join(overrideDir, f.Name())
		name, isWAV := strings.CutSuffix(f.Name(), ".wav")
		if _, known := ps.byName[name]; !isWAV || !known {
			return nil, fmt.Errorf("prompts: %s matches no prompt; the names are %s.wav",
				file, strings.Join(ps.names, ".wav, "))
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("prompts: %v", err)
		}
		p, err := media.DecodePrompt(name, b)
		if err != nil {
			return nil, fmt.Errorf("prompts: %s: %v", file, err)
		}
		ps.byName[name] = p
	}
	return ps, nil
}

// Get returns the named prompt.
func (ps *Set) Get(name string) (*media.Prompt, bool) {
	p, ok := ps.byName[name]
	return p, ok
}

// MustGet returns the named prompt and panics if there is none: for names
// that are constants in our code, where a miss is a programming error that
// the tests catch.
func (ps *Set) MustGet(name string) *media.Prompt {
	p, ok := ps.byName[name]
	if !ok {
		panic(fmt.Sprintf("prompts: no prompt named %q", name))
	}
	return p
}

// Names lists the prompt names, sorted.
func (ps *Set) Names() []string {
	return append([]string(nil), ps.names...)
}

// LoadFile reads one WAV file (8 kHz, mono, 16-bit PCM) as a prompt
// called name, such as an operator's own music-on-hold.
func LoadFile(name, path string) (*media.Prompt, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := media.DecodePrompt(name, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
