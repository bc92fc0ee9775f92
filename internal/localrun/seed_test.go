package localrun

import (
	"bytes"
	"reflect"
	"testing"
)

func TestSampleSetDeterministic(t *testing.T) {
	a, b := DemoSamples.Objects(), DemoSamples.Objects()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("got two different object lists from one seed, want the same")
	}
	if n := len(a); n < 200 || n > 400 {
		t.Errorf("got %d objects, want a few hundred", n)
	}
	seen := map[string]bool{}
	var large int
	for _, o := range a {
		if seen[o.Key] {
			t.Errorf("got duplicate key %s", o.Key)
		}
		seen[o.Key] = true
		if o.Size >= 20<<20 {
			large++
		}
	}
	if large != 2 {
		t.Errorf("got %d objects ≥ 20 MiB, want 2", large)
	}
	o := a[0]
	if first, second := o.Body(), o.Body(); !bytes.Equal(first, second) || len(o.Body()) != int(o.Size) {
		t.Error("got different bodies for one object, want deterministic content")
	}
}
