package access

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

// counting is 32 bytes 00..1f, a random source whose token is known.
var counting = []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f")

// countingToken is the token minted from counting.
const countingToken = "tvt_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

// tokenShape is what every minted token looks like: 43 base64url characters
// carry 32 bytes without padding.
var tokenShape = regexp.MustCompile(`^tvt_[A-Za-z0-9_-]{43}$`)

func TestMint(t *testing.T) {
	t.Run("a token is the prefix and base64url of the bytes read", func(t *testing.T) {
		value, hash, err := Mint(bytes.NewReader(counting))
		if err != nil || value != countingToken {
			t.Fatalf("Mint = %q, %v; want %q", value, err, countingToken)
		}
		if !bytes.Equal(hash, Hash(value)) {
			t.Errorf("Mint's hash %x is not Hash(value) %x", hash, Hash(value))
		}
	})

	t.Run("a minted token has the documented shape and passes the check", func(t *testing.T) {
		value, _, err := Mint(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !tokenShape.MatchString(value) {
			t.Errorf("token %q does not look like %s", value, tokenShape)
		}
		if err := CheckTokenValue(value); err != nil {
			t.Errorf("CheckTokenValue(minted token): %v", err)
		}
	})

	t.Run("a thousand minted tokens are all different", func(t *testing.T) {
		seen := make(map[string]bool)
		for range 1000 {
			value, _, err := Mint(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if seen[value] {
				t.Fatalf("token %q minted twice", value)
			}
			seen[value] = true
		}
	})

	t.Run("a failing random source is reported", func(t *testing.T) {
		value, hash, err := Mint(iotest.ErrReader(errors.New("entropy source gone")))
		if err == nil || value != "" || hash != nil {
			t.Fatalf("Mint = %q, %x, %v; want an error alone", value, hash, err)
		}
	})

	t.Run("a short random source is reported", func(t *testing.T) {
		if _, _, err := Mint(bytes.NewReader(counting[:31])); err == nil {
			t.Fatal("Mint succeeded with 31 random bytes")
		}
	})
}

func TestHash(t *testing.T) {
	// Each want is from: printf %s VALUE | sha256sum
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{
			"a minted token hashes to its SHA-256",
			countingToken,
			"3edd2160e8ed1bb5e8901ff8b57c7604343ce5d42080c666b8228bbb97a814b3",
		},
		{
			"an operator's token hashes to its SHA-256",
			"correct-horse-battery",
			"62249369389075490555a758353aec61500c6218fa597252d52dc4bd0148f12d",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(Hash(tt.value)); got != tt.want {
				t.Errorf("Hash = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCheckTokenValue(t *testing.T) {
	tests := []struct {
		name  string
		value string
		ok    bool
	}{
		{"16 printable characters are accepted", "abcdefghijklmnop", true},
		{"punctuation is accepted", "!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~", true},
		{"a minted token is accepted", countingToken, true},
		{"an empty value is refused", "", false},
		{"15 characters are refused", "abcdefghijklmno", false},
		{"a space is refused", "abcdefgh ijklmnop", false},
		{"a trailing newline is refused", "abcdefghijklmnop\n", false},
		{"a tab is refused", "abcdefgh\tijklmnop", false},
		{"DEL is refused", "abcdefghijklmnop\x7f", false},
		{"non-ASCII letters are refused", "abcdefghijklmnopé", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTokenValue(tt.value)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckTokenValue = %v, want ok %v", err, tt.ok)
			}
			if err == nil {
				return
			}

			msg := err.Error()
			if !strings.Contains(msg, "printable ASCII without spaces") {
				t.Errorf("error %q does not say the rule", msg)
			}
			if len(tt.value) >= 4 && strings.Contains(msg, tt.value[:4]) {
				t.Errorf("error %q contains the token value", msg)
			}
		})
	}
}
