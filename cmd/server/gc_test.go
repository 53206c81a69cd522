package main

import (
	"runtime/debug"
	"testing"
)

func TestTheCollectorRunsAtGCPercentUnlessGOGCIsSet(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	tuneGC(environment{getenv: func(string) string { return "" }})
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC the collector runs at %d, want %d", got, gcPercent)
	}

	tuneGC(environment{getenv: func(name string) string {
		if name == "GOGC" {
			return "50"
		}
		return ""
	}})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set the collector was changed to %d", got)
	}
}
