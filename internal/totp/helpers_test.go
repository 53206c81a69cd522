package totp

import (
	"errors"
	"strings"
	"testing"
)

// sentinels lists every sentinel error, so that a test can check that an error wraps
// exactly the one it should.
var sentinels = []error{
	ErrInvalidSecret,
	ErrSecretTooShort,
	ErrInvalidURI,
	ErrUnsupportedType,
	ErrInvalidParameter,
}

// assertSentinel fails t unless err wraps want and no other sentinel. A nil want asks
// for no error at all.
func assertSentinel(t *testing.T, err, want error) {
	t.Helper()

	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}

	if !errors.Is(err, want) {
		t.Fatalf("error %v does not wrap %q", err, want)
	}

	if n := countSentinels(err); n != 1 {
		t.Fatalf("error %v wraps %d sentinels, want exactly one", err, n)
	}
}

// countSentinels returns how many sentinels err wraps.
func countSentinels(err error) int {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}

	return n
}

// assertNoEcho fails t when the text of err contains secret, which a client would then
// see in a response.
func assertNoEcho(t *testing.T, err error, secret string) {
	t.Helper()

	if secret != "" && err != nil && strings.Contains(err.Error(), secret) {
		t.Fatalf("error text %q repeats the input %q", err, secret)
	}
}

// mustKey returns the key of a base32 secret with p, and fails t when there is none.
func mustKey(t testing.TB, secret string, p Params) Key {
	t.Helper()

	k, err := FromSecret(secret, p)
	if err != nil {
		t.Fatalf("FromSecret: %v", err)
	}

	return k
}
