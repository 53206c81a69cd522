package totp

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// rfc20 is the 20-byte RFC 6238 seed in base32.
const rfc20 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestFromURI(t *testing.T) {
	t.Parallel()

	seed := []byte("12345678901234567890")
	key := func(issuer, account string, a Algorithm, digits, period int) Key {
		return Key{seed, issuer, account, a, digits, period}
	}

	tests := []struct {
		name string
		uri  string
		p    Params
		want Key
		err  error
	}{
		{"a Google-style URI gives issuer, account and defaults",
			"otpauth://totp/Example:alice@google.com?secret=" + rfc20 + "&issuer=Example",
			Params{}, key("Example", "alice@google.com", SHA1, 6, 30), nil},
		{"every parameter is read",
			"otpauth://totp/ACME%20Co:john.doe@email.com?secret=" + rfc20 +
				"&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60",
			Params{}, key("ACME Co", "john.doe@email.com", SHA256, 8, 60), nil},
		{"an encoded separator with spaces around it splits the label",
			"otpauth://totp/ACME%20Co%3A%20john%40example.com?secret=" + rfc20,
			Params{}, key("ACME Co", "john@example.com", SHA1, 6, 30), nil},
		{"a label without a colon is the account", "otpauth://totp/alice?secret=" + rfc20,
			Params{}, key("", "alice", SHA1, 6, 30), nil},
		{"a URI without a label has no account", "otpauth://totp/?secret=" + rfc20,
			Params{}, key("", "", SHA1, 6, 30), nil},
		{"the issuer parameter wins over the label's",
			"otpauth://totp/Old:alice?secret=" + rfc20 + "&issuer=New",
			Params{}, key("New", "alice", SHA1, 6, 30), nil},
		{"an issuer parameter with a colon is cut off the label whole",
			"otpauth://totp/A:B:alice?secret=" + rfc20 + "&issuer=A%3AB",
			Params{}, key("A:B", "alice", SHA1, 6, 30), nil},
		{"an empty issuer parameter leaves the label's",
			"otpauth://totp/ACME:alice?secret=" + rfc20 + "&issuer=",
			Params{}, key("ACME", "alice", SHA1, 6, 30), nil},
		{"a plus sign in the label stays a plus sign",
			"otpauth://totp/alice+totp@example.com?secret=" + rfc20,
			Params{}, key("", "alice+totp@example.com", SHA1, 6, 30), nil},
		{"scheme, type and algorithm are read in any case",
			"OTPAUTH://TOTP/x?secret=" + strings.ToLower(rfc20) + "&algorithm=sha512",
			Params{}, key("", "x", SHA512, 6, 30), nil},
		{"unknown parameters such as image are ignored",
			"otpauth://totp/x?secret=" + rfc20 + "&image=https%3A%2F%2Fexample.com%2Fa.png" +
				"&counter=5", Params{}, key("", "x", SHA1, 6, 30), nil},
		{"a secret with spaces and padding is read like ParseSecret reads it",
			"otpauth://totp/x?secret=GEZD%20GNBV+GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ%3D%3D", Params{},
			key("", "x", SHA1, 6, 30), nil},
		{"surrounding white space is ignored",
			"  otpauth://totp/x?secret=" + rfc20 + "\n", Params{}, key("", "x", SHA1, 6, 30), nil},
		{"explicit params override the URI",
			"otpauth://totp/Old:bob?secret=" + rfc20 + "&issuer=Old&algorithm=SHA256" +
				"&digits=8&period=60",
			Params{Issuer: "New", Account: "alice", Algorithm: "sha1", Digits: 6, Period: 30},
			key("New", "alice", SHA1, 6, 30), nil},

		{"a missing secret is an invalid URI", "otpauth://totp/x?issuer=ACME", Params{},
			Key{}, ErrInvalidURI},
		{"an empty secret is an invalid URI", "otpauth://totp/x?secret=", Params{},
			Key{}, ErrInvalidURI},
		{"a repeated secret is an invalid URI",
			"otpauth://totp/x?secret=" + rfc20 + "&secret=JBSWY3DPEHPK3PXP", Params{},
			Key{}, ErrInvalidURI},
		{"a secret that is not base32 is an invalid secret",
			"otpauth://totp/x?secret=JBSWY3DPEHPK3PX1", Params{}, Key{}, ErrInvalidSecret},
		{"a short secret is too short", "otpauth://totp/x?secret=GEZDGNBVGY3TQOI",
			Params{}, Key{}, ErrSecretTooShort},
		{"an hotp URI is unsupported",
			"otpauth://hotp/x?secret=" + rfc20 + "&counter=0", Params{}, Key{},
			ErrUnsupportedType},
		{"any other type is unsupported", "otpauth://steam/x?secret=" + rfc20, Params{},
			Key{}, ErrUnsupportedType},
		{"a URI without a type is invalid", "otpauth:///x?secret=" + rfc20, Params{},
			Key{}, ErrInvalidURI},
		{"a bad algorithm is an invalid URI", "otpauth://totp/x?secret=" + rfc20 +
			"&algorithm=MD5", Params{}, Key{}, ErrInvalidURI},
		{"an empty algorithm is an invalid URI", "otpauth://totp/x?secret=" + rfc20 +
			"&algorithm=", Params{}, Key{}, ErrInvalidURI},
		{"9 digits are an invalid URI", "otpauth://totp/x?secret=" + rfc20 + "&digits=9",
			Params{}, Key{}, ErrInvalidURI},
		{"digits in words are an invalid URI", "otpauth://totp/x?secret=" + rfc20 +
			"&digits=six", Params{}, Key{}, ErrInvalidURI},
		{"a 301-second period is an invalid URI", "otpauth://totp/x?secret=" + rfc20 +
			"&period=301", Params{}, Key{}, ErrInvalidURI},
		{"a period in words is an invalid URI", "otpauth://totp/x?secret=" + rfc20 +
			"&period=thirty", Params{}, Key{}, ErrInvalidURI},
		{"a repeated period is an invalid URI", "otpauth://totp/x?secret=" + rfc20 +
			"&period=30&period=60", Params{}, Key{}, ErrInvalidURI},
		{"an explicit algorithm overrides a bad one", "otpauth://totp/x?secret=" + rfc20 +
			"&algorithm=MD5", Params{Algorithm: SHA256}, key("", "x", SHA256, 6, 30), nil},
		{"explicit digits override bad ones", "otpauth://totp/x?secret=" + rfc20 +
			"&digits=six", Params{Digits: 7}, key("", "x", SHA1, 7, 30), nil},
		{"an explicit period overrides a bad one", "otpauth://totp/x?secret=" + rfc20 +
			"&period=301&period=5", Params{Period: 45}, key("", "x", SHA1, 6, 45), nil},
		{"a bad explicit algorithm is an invalid parameter", "otpauth://totp/x?secret=" +
			rfc20 + "&algorithm=MD5", Params{Algorithm: "MD4"}, Key{}, ErrInvalidParameter},
		{"bad explicit digits over good ones are an invalid parameter",
			"otpauth://totp/x?secret=" + rfc20 + "&digits=8", Params{Digits: 10}, Key{},
			ErrInvalidParameter},
		{"a bad explicit period is an invalid parameter", "otpauth://totp/x?secret=" +
			rfc20, Params{Period: 5}, Key{}, ErrInvalidParameter},

		{"a bare secret is not a URI", rfc20, Params{}, Key{}, ErrInvalidURI},
		{"an empty text is not a URI", "", Params{}, Key{}, ErrInvalidURI},
		{"a web address is not an otpauth URI",
			"https://example.com/totp/x?secret=" + rfc20, Params{}, Key{}, ErrInvalidURI},
		{"a Google Authenticator export is not an otpauth URI",
			"otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8", Params{}, Key{},
			ErrInvalidURI},
		{"an opaque otpauth URI is invalid", "otpauth:totp/x?secret=" + rfc20, Params{},
			Key{}, ErrInvalidURI},
		{"a bad percent escape in the label is invalid",
			"otpauth://totp/a%zzb?secret=" + rfc20, Params{}, Key{}, ErrInvalidURI},
		{"a bad percent escape in the query is invalid",
			"otpauth://totp/x?secret=" + rfc20 + "&issuer=%zz", Params{}, Key{}, ErrInvalidURI},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := FromURI(tt.uri, tt.p)
			assertSentinel(t, err, tt.err)
			assertNoEcho(t, err, tt.uri)
			assertNoEcho(t, err, "GEZDGNBV")
			assertNoEcho(t, err, "JBSWY3DP")

			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromURI = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestURI(t *testing.T) {
	t.Parallel()

	k := Key{hello, "ACME Co", "alice@example.com", SHA1, 6, 30}
	want := "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP" +
		"&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"

	if got := k.URI(); got != want {
		t.Errorf("URI =\n%s\nwant\n%s", got, want)
	}
}

func TestURIRoundTrips(t *testing.T) {
	t.Parallel()

	base := Key{hello, "ACME", "alice", SHA1, 6, 30}
	change := func(f func(*Key)) Key {
		k := base
		f(&k)
		return k
	}

	tests := []struct {
		name string
		key  Key
	}{
		{"a plain key", base},
		{"a key without issuer", change(func(k *Key) { k.Issuer = "" })},
		{"a key without issuer or account", change(func(k *Key) { k.Issuer, k.Account = "", "" })},
		{"a key with an issuer but no account", change(func(k *Key) { k.Account = "" })},
		{"an issuer with a colon and spaces", change(func(k *Key) { k.Issuer = "A: B" })},
		{"an account with a colon and no issuer",
			change(func(k *Key) { k.Issuer, k.Account = "", "alice:work" })},
		{"an account that starts with a colon", change(func(k *Key) { k.Account = ":alice" })},
		{"issuer equal to the account", change(func(k *Key) { k.Account = "ACME" })},
		{"URL-special characters in the names",
			change(func(k *Key) { k.Issuer, k.Account = "A&B=C?#%/+", "a b+c@d/e?f#g%h&i" })},
		{"non-ASCII names", change(func(k *Key) { k.Issuer, k.Account = "Zürich AG", "jörg" })},
		{"the longest secret and the largest settings",
			Key{bytes.Repeat([]byte{0xFF}, MaxSecretBytes), "X", "y", SHA512, 8, 300}},
		{"seven digits and the shortest period",
			Key{hello, "X", "y", SHA256, 7, MinPeriod}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertRoundTrip(t, tt.key)
		})
	}
}

// assertRoundTrip checks that the URI of a valid k gives k back.
func assertRoundTrip(t *testing.T, k Key) {
	t.Helper()

	if err := k.Validate(); err != nil {
		t.Fatalf("key %+v does not validate: %v", k, err)
	}

	got, err := FromURI(k.URI(), Params{})
	if err != nil {
		t.Fatalf("FromURI(%q): %v", k.URI(), err)
	}

	if !reflect.DeepEqual(got, k) {
		t.Fatalf("FromURI(%q) = %+v, want %+v", k.URI(), got, k)
	}
}
