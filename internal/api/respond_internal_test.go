package api

import (
	"encoding/json"
	"testing"
	"time"
)

// The code answer writes its own JSON; encoding/json, given the same
// value, is the oracle it must match byte for byte.

// jsonNames are endpoint names that exercise every escape.
var jsonNames = []string{
	"o365-monitor",
	"",
	`quote " and backslash \`,
	"html <b>&</b>",
	"controls \x01\x07\b\f\n\r\t\x1f\x7f",
	"line separators \u2028 \u2029",
	"not UTF-8 \xff\xfe and a cut rune \xe2\x82",
	"multi-byte é 漢字 🙂",
}

func TestCodeJSONMatchesEncodingJSON(t *testing.T) {
	from := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	for _, name := range jsonNames {
		for _, next := range []bool{false, true} {
			checkCodeJSON(t, sampleCode(name, from, next))
		}
	}

	// A time with a fraction and one outside UTC, which the server never
	// sends, are still written as encoding/json writes them.
	odd := sampleCode("odd", time.Date(2026, 1, 2, 3, 4, 5, 600_000_000,
		time.FixedZone("", 5*3600+1800)), true)
	checkCodeJSON(t, odd)
}

func FuzzCodeJSON(f *testing.F) {
	for _, name := range jsonNames {
		f.Add(name, "287082", int64(1_764_784_800), uint64(59_492_826), true)
	}
	f.Fuzz(func(t *testing.T, name, code string, unix int64, counter uint64, next bool) {
		// encoding/json refuses years before 0 and past 9999, and the
		// server's clock never reaches them: keep to 1970 through 9999.
		unix = int64(uint64(unix) % 253_402_300_800)
		c := sampleCode(name, time.Unix(unix, 0).UTC(), next)
		c.Code, c.Counter = code, counter
		checkCodeJSON(t, c)
	})
}

// sampleCode returns a code answer for name whose step starts at from.
func sampleCode(name string, from time.Time, next bool) codeResponse {
	c := codeResponse{
		Name: name, Code: "287082", Digits: 6, Period: 30, Counter: 59_492_826,
		ValidFrom: from, ValidUntil: from.Add(30 * time.Second), SecondsRemaining: 17,
	}
	if next {
		c.Next = &codeJSON{Code: "359152", ValidFrom: c.ValidUntil,
			ValidUntil: c.ValidUntil.Add(30 * time.Second)}
	}
	return c
}

// checkCodeJSON fails when c.appendJSON differs from json.Marshal(c).
func checkCodeJSON(t *testing.T, c codeResponse) {
	t.Helper()

	want, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if got := c.appendJSON(nil); string(got) != string(want) {
		t.Errorf("appendJSON of %q:\n got %s\nwant %s", c.Name, got, want)
	}
}
