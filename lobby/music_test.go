package lobby

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
)

var (
	promptsOnce sync.Once
	list        *prompts.Set
	promptsErr  error
)

// prompt returns one of the embedded prompts, loaded once for all tests.
func prompt(t testing.TB, name string) *media.Prompt {
	t.Helper()
	promptsOnce.Do(func() { list, promptsErr = prompts.Load("") })
	if promptsErr != nil {
		t.Fatal(promptsErr)
	}
	return list.MustGet(name)
}

// frameAt is frame i of p in codec c, as the music must send it.
func frameAt(p *media.Prompt, c media.Codec, i int) []byte {
	off := i * media.FrameBytes
	return p.Frames(c)[off : off+media.FrameBytes]
}

// recorder is a sink that keeps a copy of every frame, and where it
// pointed, to check that frames are slices of the prompt and not copies.
type recorder struct {
	mu     sync.Mutex
	frames [][]byte
	ptrs   []*byte
}

func (r *recorder) WriteFrame(payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, bytes.Clone(payload))
	r.ptrs = append(r.ptrs, &payload[0])
	return nil
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

// check asserts that the recorder's frame k is frame i of p in codec c,
// sharing the prompt's memory.
func (r *recorder) check(t *testing.T, name string, k int, p *media.Prompt, c media.Codec, i int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if k >= len(r.frames) {
		t.Fatalf("%s: got %d frames, want frame %d", name, len(r.frames), k)
	}
	want := frameAt(p, c, i)
	if !bytes.Equal(r.frames[k], want) {
		t.Errorf("%s: frame %d is not frame %d of the %v prompt", name, k, i, c)
	}
	if r.ptrs[k] != &want[0] {
		t.Errorf("%s: frame %d is a copy, not a slice of the prompt", name, k)
	}
}

// withCodec gives a test sink the codec a call would have.
type withCodec struct {
	frameSink
	codec media.Codec
}

type frameSink interface{ WriteFrame([]byte) error }

func (w withCodec) Codec() media.Codec { return w.codec }

// position is how far into the prompt the next tick's frame starts.
func position(m *Music) time.Duration { return time.Duration(m.next) * media.FrameDuration }

// nopSink is a call that drops its frames: what a listener costs the music
// itself.
type nopSink struct{ codec media.Codec }

func (nopSink) WriteFrame([]byte) error { return nil }
func (s nopSink) Codec() media.Codec    { return s.codec }

func TestMusicOnHoldPromptLength(t *testing.T) {
	p := prompt(t, prompts.MusicOnHold)
	if got, want := p.Duration(), 179200*time.Millisecond; got != want {
		t.Fatalf("music_on_hold lasts %v, want %v", got, want)
	}
	if got, want := p.FrameCount(), 8960; got != want {
		t.Fatalf("music_on_hold has %d frames, want %d", got, want)
	}
}

func TestBothCodecsGetPromptFrames(t *testing.T) {
	p := prompt(t, prompts.MusicOnHold)
	m := NewMusic(p)
	var u1, u2, a1, a2 recorder
	m.Add(withCodec{&u1, media.PCMU})
	m.Add(withCodec{&a1, media.PCMA})
	m.Add(withCodec{&u2, media.PCMU})
	m.Add(withCodec{&a2, media.PCMA})
	if m.Len() != 4 {
		t.Fatalf("Len = %d, want 4", m.Len())
	}
	const ticks = 100
	for range ticks {
		m.Tick()
	}
	for k := range ticks {
		u1.check(t, "pcmu 1", k, p, media.PCMU, k)
		u2.check(t, "pcmu 2", k, p, media.PCMU, k)
		a1.check(t, "pcma 1", k, p, media.PCMA, k)
		a2.check(t, "pcma 2", k, p, media.PCMA, k)
	}
	// The two laws really differ, so the test above can tell them apart.
	if bytes.Equal(u1.frames[50], a1.frames[50]) {
		t.Error("µ-law and A-law frames are identical")
	}
	if got, want := position(m), ticks*media.FrameDuration; got != want {
		t.Errorf("Position = %v, want %v", got, want)
	}
}

func TestSamePositionForAll(t *testing.T) {
	p := prompt(t, prompts.MusicOnHold)
	m := NewMusic(p)
	recs := make([]*recorder, 20)
	for i := range recs {
		recs[i] = &recorder{}
		c := media.PCMU
		if i%2 == 1 {
			c = media.PCMA
		}
		m.Add(withCodec{recs[i], c})
	}
	for range 30 {
		m.Tick()
	}
	for k := range 30 {
		for i := 2; i < len(recs); i++ {
			// Same codec: the very same bytes, the very same memory.
			ref := recs[i%2]
			if !bytes.Equal(recs[i].frames[k], ref.frames[k]) || recs[i].ptrs[k] != ref.ptrs[k] {
				t.Fatalf("listener %d frame %d differs from listener %d", i, k, i%2)
			}
		}
	}
}

func TestLateJoinerStartsAtSharedPosition(t *testing.T) {
	p := prompt(t, prompts.MusicOnHold)
	m := NewMusic(p)
	var early, late recorder
	m.Add(withCodec{&early, media.PCMU})
	for range 123 {
		m.Tick()
	}
	if got, want := position(m), 123*media.FrameDuration; got != want {
		t.Fatalf("Position = %v, want %v", got, want)
	}
	m.Add(withCodec{&late, media.PCMA})
	for range 10 {
		m.Tick()
	}
	if late.len() != 10 {
		t.Fatalf("late joiner got %d frames, want 10", late.len())
	}
	for k := range 10 {
		late.check(t, "late", k, p, media.PCMA, 123+k)
		early.check(t, "early", 123+k, p, media.PCMU, 123+k)
	}
}

func TestLoopWrapsSeamlessly(t *testing.T) {
	for _, name := range []string{prompts.Star, prompts.MusicOnHold} {
		t.Run(name, func(t *testing.T) {
			p := prompt(t, name)
			n := p.FrameCount()
			m := NewMusic(p)
			var r recorder
			m.Add(withCodec{&r, media.PCMA})
			ticks := 2*n + 7 // two whole loops and a bit
			for range ticks {
				m.Tick()
			}
			if r.len() != ticks {
				t.Fatalf("got %d frames, want %d", r.len(), ticks)
			}
			for k := range ticks {
				r.check(t, "wrap", k, p, media.PCMA, k%n)
			}
			if got, want := position(m), 7*media.FrameDuration; got != want {
				t.Errorf("Position = %v, want %v", got, want)
			}
		})
	}
}

func TestRemoveStopsFrames(t *testing.T) {
	p := prompt(t, prompts.MusicOnHold)
	m := NewMusic(p)
	var gone, stays recorder
	l := m.Add(withCodec{&gone, media.PCMU})
	m.Add(withCodec{&stays, media.PCMU})
	m.Tick()
	m.Remove(l)
	m.Remove(l) // a second time does nothing
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}
	m.Tick()
	m.Tick()
	if gone.len() != 1 {
		t.Errorf("removed listener got %d frames, want 1", gone.len())
	}
	if stays.len() != 3 {
		t.Errorf("remaining listener got %d frames, want 3", stays.len())
	}
	stays.check(t, "stays", 2, p, media.PCMU, 2)
}

// blockingSink blocks in WriteFrame until released, to hold a tick open.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
}

func (s *blockingSink) WriteFrame([]byte) error {
	s.entered <- struct{}{}
	<-s.release
	return nil
}

func TestRemoveWaitsForTickInProgress(t *testing.T) {
	m := NewMusic(prompt(t, prompts.MusicOnHold))
	s := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	l := m.Add(withCodec{s, media.PCMU})
	ticked := make(chan struct{})
	go func() { m.Tick(); close(ticked) }()
	<-s.entered // the tick is inside WriteFrame

	removed := make(chan struct{})
	go func() { m.Remove(l); close(removed) }()
	select {
	case <-removed:
		t.Fatal("Remove returned while a tick was writing to the listener")
	case <-time.After(50 * time.Millisecond):
	}
	close(s.release)
	<-ticked
	select {
	case <-removed:
	case <-time.After(5 * time.Second):
		t.Fatal("Remove did not return after the tick ended")
	}
	m.Tick() // must not reach s: it would block forever on entered
}

// guardedSink fails the test if written to after its listener was removed.
type guardedSink struct {
	t       *testing.T
	removed atomic.Bool
	writes  atomic.Int64
}

func (s *guardedSink) WriteFrame(p []byte) error {
	if s.removed.Load() {
		s.t.Error("frame written after Remove returned")
	}
	if len(p) != media.FrameBytes {
		s.t.Errorf("frame of %d bytes, want %d", len(p), media.FrameBytes)
	}
	s.writes.Add(1)
	return nil
}

func TestConcurrentAddRemoveWhileTicking(t *testing.T) {
	m := NewMusic(prompt(t, prompts.Star))
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				m.Tick()
			}
		}
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				s := &guardedSink{t: t}
				c := media.PCMU
				if (g+i)%2 == 1 {
					c = media.PCMA
				}
				l := m.Add(withCodec{s, c})
				_ = m.Len()
				m.Remove(l)
				s.removed.Store(true)
			}
		})
	}
	wg.Wait()
	close(stop)
	ticker.Wait()
	if m.Len() != 0 {
		t.Fatalf("Len = %d after removing everyone, want 0", m.Len())
	}
}

func TestTickAllocatesNothing(t *testing.T) {
	m := NewMusic(prompt(t, prompts.MusicOnHold))
	for i := range 1000 {
		c := media.PCMU
		if i%2 == 1 {
			c = media.PCMA
		}
		m.Add(&nopSink{c})
	}
	if n := testing.AllocsPerRun(10000, m.Tick); n != 0 {
		t.Fatalf("Tick allocates %v times, want 0", n)
	}
}

func TestNewMusicRefusesEmptyPrompt(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewMusic accepted a prompt without frames")
		}
	}()
	NewMusic(&media.Prompt{})
}

func BenchmarkMusicTick(b *testing.B) {
	p := prompt(b, prompts.MusicOnHold)
	for _, n := range []int{10, 200, 1000} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			m := NewMusic(p)
			for i := range n {
				c := media.PCMU
				if i%2 == 1 {
					c = media.PCMA
				}
				m.Add(&nopSink{c})
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Tick()
			}
			perTick := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perTick, "ns/tick")
			b.ReportMetric(perTick/float64(n), "ns/listener")
		})
	}
}

// switchingSink is a call whose codec a re-INVITE changes.
type switchingSink struct {
	recorder
	codec atomic.Uint32
}

func (s *switchingSink) Codec() media.Codec { return media.Codec(s.codec.Load()) }

func TestMusicFollowsTheSinksCodec(t *testing.T) {
	p := prompt(t, prompts.MusicOnHold)
	m := NewMusic(p)
	s := &switchingSink{}
	s.codec.Store(uint32(media.PCMU))
	m.Add(s)
	m.Tick()
	s.codec.Store(uint32(media.PCMA))
	m.Tick()
	s.check(t, "before", 0, p, media.PCMU, 0)
	s.check(t, "after", 1, p, media.PCMA, 1)
}
