package totp

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseSecret checks that ParseSecret never panics, that what it accepts is a valid
// secret that survives a trip through base32, and that its errors wrap one of its two
// sentinels and do not repeat the input.
func FuzzParseSecret(f *testing.F) {
	for _, seed := range []string{
		"JBSWY3DPEHPK3PXP",
		"jbsw y3dp ehpk 3pxp",
		"JBSW-Y3DP-EHPK-3PXP",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY======",
		"GEZDGNBVGY3TQOI",
		"JBSWY3DP=EHPK3PXP",
		"JBSWY3DPEHPK3PX1",
		"\u00a0JBSWY3DPÉHPK3PXP\n",
		"",
		strings.Repeat("A", maxSecretChars),
		strings.Repeat("A", maxSecretChars+3),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, text string) {
		secret, err := ParseSecret(text)
		if err != nil {
			assertSecretError(t, err, text)
			return
		}

		if err := defaultKey(secret).Validate(); err != nil {
			t.Fatalf("accepted secret does not validate: %v", err)
		}

		again, err := ParseSecret(b32.EncodeToString(secret))
		if err != nil || !bytes.Equal(again, secret) {
			t.Fatalf("secret %x does not survive base32: %x, %v", secret, again, err)
		}
	})
}

// assertSecretError checks an error of ParseSecret for the input text.
func assertSecretError(t *testing.T, err error, text string) {
	t.Helper()

	if !errors.Is(err, ErrInvalidSecret) && !errors.Is(err, ErrSecretTooShort) {
		t.Fatalf("error %v wraps neither secret sentinel", err)
	}

	assertOneSentinelNoEcho(t, err, text)
}

// assertOneSentinelNoEcho checks that err wraps exactly one sentinel and, for an input
// of 8 characters or more, does not repeat it.
func assertOneSentinelNoEcho(t *testing.T, err error, input string) {
	t.Helper()

	if n := countSentinels(err); n != 1 {
		t.Fatalf("error %v wraps %d sentinels, want exactly one", err, n)
	}

	if len(input) >= 8 {
		assertNoEcho(t, err, input)
	}
}

// FuzzFromURI checks that FromURI never panics, that what it accepts validates, keeps the
// explicit settings and survives a trip through URI, and that its errors wrap exactly
// one sentinel and do not repeat the input.
func FuzzFromURI(f *testing.F) {
	seeds := []struct {
		uri       string
		algorithm string
		digits    int
		period    int
	}{
		{"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
			"", 0, 0},
		{"otpauth://totp/ACME%20Co%3A%20john%40example.com?secret=" + rfc20 +
			"&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60", "", 0, 0},
		{"OTPAUTH://TOTP/A:B:alice?secret=gezd-gnbv+gy3t%20qojq&issuer=A%3AB", "sha512", 7, 45},
		{"otpauth://totp/x?secret=" + rfc20 + "&algorithm=MD5&digits=9&period=0",
			"SHA1", 6, 30},
		{"otpauth://totp/x?secret=" + rfc20 + "&algorithm=MD5", "", 0, 0},
		{"otpauth://totp/:a:b?secret=" + rfc20 + "&image=x&secret=Y", "", 5, 301},
		{"otpauth://hotp/x?secret=" + rfc20 + "&counter=1", "", 0, 0},
		{"otpauth:///x?secret=" + rfc20, "", 0, 0},
		{"otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8", "", 0, 0},
		{"https://example.com/?secret=" + rfc20, "", 0, 0},
		{"otpauth://totp/a%zz?secret=GEZDGNBVGY3TQOI", "", 0, 0},
		{"", "", 0, 0},
	}
	for _, s := range seeds {
		f.Add(s.uri, s.algorithm, s.digits, s.period)
	}

	f.Fuzz(func(t *testing.T, uri, algorithm string, digits, period int) {
		p := Params{Algorithm: Algorithm(algorithm), Digits: digits, Period: period}

		k, err := FromURI(uri, p)
		if err != nil {
			assertOneSentinelNoEcho(t, err, uri)
			return
		}

		assertKeepsParams(t, k, p)
		assertRoundTrip(t, k)
	})
}

// assertKeepsParams checks that k has each setting that p gives.
func assertKeepsParams(t *testing.T, k Key, p Params) {
	t.Helper()

	want := k
	if err := p.override(&want); err != nil {
		t.Fatalf("accepted params %+v are refused on their own: %v", p, err)
	}

	if !reflect.DeepEqual(k, want) {
		t.Fatalf("key %+v does not keep params %+v", k, p)
	}
}
