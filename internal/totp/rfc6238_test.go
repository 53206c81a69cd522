package totp

import (
	"strings"
	"testing"
	"time"
)

// rfcSeed returns the seed that RFC 6238 Appendix B uses for an algorithm: the ASCII
// digits "1234567890" repeated to the length of the hash output.
func rfcSeed(a Algorithm) []byte {
	n := map[Algorithm]int{SHA1: 20, SHA256: 32, SHA512: 64}[a]
	return []byte(strings.Repeat("1234567890", 7)[:n])
}

// TestRFC6238Vectors checks the test vectors of RFC 6238 Appendix B, copied from the
// RFC's table: 8 digits, 30-second steps, at six fixed instants.
func TestRFC6238Vectors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		unix    int64
		counter uint64
		want    map[Algorithm]string
	}{
		{59, 0x1, map[Algorithm]string{
			SHA1: "94287082", SHA256: "46119246", SHA512: "90693936"}},
		{1111111109, 0x23523EC, map[Algorithm]string{
			SHA1: "07081804", SHA256: "68084774", SHA512: "25091201"}},
		{1111111111, 0x23523ED, map[Algorithm]string{
			SHA1: "14050471", SHA256: "67062674", SHA512: "99943326"}},
		{1234567890, 0x273EF07, map[Algorithm]string{
			SHA1: "89005924", SHA256: "91819424", SHA512: "93441116"}},
		{2000000000, 0x3F940AA, map[Algorithm]string{
			SHA1: "69279037", SHA256: "90698825", SHA512: "38618901"}},
		{20000000000, 0x27BC86AA, map[Algorithm]string{
			SHA1: "65353130", SHA256: "77737706", SHA512: "47863826"}},
	}

	for _, tt := range tests {
		for _, a := range []Algorithm{SHA1, SHA256, SHA512} {
			at := time.Unix(tt.unix, 0).UTC()
			name := string(a) + " at " + at.Format(time.RFC3339) + " gives " + tt.want[a]

			t.Run(name, func(t *testing.T) {
				k := Key{Secret: rfcSeed(a), Algorithm: a, Digits: 8, Period: 30}
				assertCodeAt(t, k, at, tt.counter, tt.want[a])
			})
		}
	}
}

// assertCodeAt checks the step that k gives at, its code and its bounds, and that
// Verify accepts the code at that instant.
func assertCodeAt(t *testing.T, k Key, at time.Time, counter uint64, want string) {
	t.Helper()

	if got := k.Counter(at); got != counter {
		t.Fatalf("Counter = %#x, want %#x", got, counter)
	}

	c, err := k.At(counter)
	if err != nil {
		t.Fatalf("At: %v", err)
	}

	if c.Value != want {
		t.Errorf("code = %s, want %s", c.Value, want)
	}

	if at.Before(c.ValidFrom) || !at.Before(c.ValidUntil) {
		t.Errorf("step [%v, %v) does not hold %v", c.ValidFrom, c.ValidUntil, at)
	}

	if offset, ok := k.Verify(want, at); !ok || offset != 0 {
		t.Errorf("Verify = %d, %v, want 0, true", offset, ok)
	}
}
