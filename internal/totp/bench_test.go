package totp

import (
	"testing"
	"time"
)

// benchKey is a key like most that get enrolled: a 20-byte secret, SHA1, 6 digits, 30 s.
var benchKey = Key{Secret: rfcSeed(SHA1), Algorithm: SHA1, Digits: 6, Period: 30}

// benchNow is a fixed instant, so every run computes the same steps.
var benchNow = time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)

// BenchmarkCurrentAndNext measures what a code request costs this package: the step of
// now and the codes of it and the next one.
func BenchmarkCurrentAndNext(b *testing.B) {
	for _, a := range []Algorithm{SHA1, SHA256, SHA512} {
		k := benchKey
		k.Algorithm = a

		b.Run(string(a), func(b *testing.B) {
			b.ReportAllocs()

			for b.Loop() {
				if _, _, err := k.AtAndNext(k.Counter(benchNow)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures a verification, which computes three codes whatever the
// outcome.
func BenchmarkVerify(b *testing.B) {
	b.ReportAllocs()

	for b.Loop() {
		if _, ok := benchKey.Verify("000000", benchNow); ok {
			b.Fatal("000000 should not match")
		}
	}
}
