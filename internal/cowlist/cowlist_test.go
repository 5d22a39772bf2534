package cowlist

import (
	"slices"
	"testing"
)

func TestAddRemove(t *testing.T) {
	var l List[int]
	if l.Len() != 0 || l.Load() != nil {
		t.Fatal("zero list not empty")
	}
	l.Add(1)
	l.Add(2)
	l.Add(3)
	before := l.Load()
	if !l.Remove(2) || l.Remove(9) {
		t.Fatal("Remove reported wrongly")
	}
	if got := l.Load(); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("got %v", got)
	}
	if !slices.Equal(before, []int{1, 2, 3}) {
		t.Fatalf("a reader's snapshot changed: %v", before)
	}
}
