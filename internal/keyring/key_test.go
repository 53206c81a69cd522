package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// Two keys written in base64: counting holds bytes 00..1f, which read the same
// in both alphabets; signs holds fb ff repeated, which needs "+/" or "-_".
const (
	countingStd = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	signsStd    = "+//7//v/+//7//v/+//7//v/+//7//v/+//7//v/+/8="
	signsURL    = "-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-_8="
)

// strayBits is countingStd unpadded with its last character one higher: the
// same bytes, plus a set bit that base64 of 32 bytes leaves unused.
const strayBits = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"

// signs is the key that signsStd and signsURL encode.
var signs = bytes.Repeat([]byte{0xfb, 0xff}, 16)

// std encodes b in standard, padded base64.
func std(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []byte
	}{
		{"the standard alphabet with padding is read", signsStd, signs},
		{"the URL alphabet with padding is read", signsURL, signs},
		{"the standard alphabet without padding is read", strings.TrimSuffix(signsStd, "="), signs},
		{"the URL alphabet without padding is read", strings.TrimSuffix(signsURL, "="), signs},
		{"a key file's trailing newline is trimmed", countingStd + "\n", testKey(0)},
		{"surrounding spaces and tabs are trimmed", " \t" + countingStd + "\r\n", testKey(0)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.input)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("ParseKey = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
		says  string
	}{
		{"an empty key is refused", "", "empty"},
		{"white space alone is refused", " \n", "empty"},
		{"a 31-byte key is refused", std(testKey(0)[:31]), "31 bytes"},
		{"a 33-byte key is refused", std(append(testKey(0), 0)), "33 bytes"},
		{"a hex key is refused", strings.Repeat("0f", 32), "48 bytes"},
		{"text that is not base64 is refused", "correct horse battery staple!", "not base64"},
		{"a key mixing both alphabets is refused", "+_" + signsStd[2:], "not base64"},
		{"wrong padding is refused", signsStd + "=", "not base64"},
		{"stray bits in the last character are refused", strayBits, "not base64"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseKey(tt.input)
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ParseKey = %x, %v; want ErrInvalidKey", key, err)
			}

			msg := err.Error()
			if !strings.Contains(msg, tt.says) || !strings.Contains(msg, "totpvault keygen") {
				t.Errorf("error %q should say %q and how to make a key", msg, tt.says)
			}
			if in := strings.TrimSpace(tt.input); in != "" && strings.Contains(msg, in) {
				t.Errorf("error %q contains the key text", msg)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  [][]byte
	}{
		{"an empty list gives no keys", "", nil},
		{"a list of commas and spaces gives no keys", " , ,", nil},
		{"one key is read", countingStd, [][]byte{testKey(0)}},
		{"keys keep their order", signsURL + "," + countingStd, [][]byte{signs, testKey(0)}},
		{
			"spaces and empty items are skipped",
			" " + countingStd + " ,, " + signsStd + ",\n",
			[][]byte{testKey(0), signs},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKeys(tt.input)
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseKeys gave %d keys, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("key %d = %x, want %x", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseKeysNamesTheBadItem(t *testing.T) {
	bad := "QUJD"

	_, err := ParseKeys(countingStd + ",," + bad)
	if !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("ParseKeys error = %v, want ErrInvalidKey", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "key 3") || strings.Contains(msg, bad) {
		t.Errorf("error %q should name key 3 and not contain it", msg)
	}
}

func TestNewKey(t *testing.T) {
	t.Run("a key is base64 of the bytes read", func(t *testing.T) {
		got, err := NewKey(bytes.NewReader(testKey(0)))
		if err != nil || got != countingStd {
			t.Fatalf("NewKey = %q, %v; want %q", got, err, countingStd)
		}
	})

	t.Run("a new key parses and builds a keyring", func(t *testing.T) {
		text, err := NewKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, err := ParseKey(text)
		if err != nil {
			t.Fatalf("ParseKey(NewKey()): %v", err)
		}
		newKeyring(t, key)
	})

	t.Run("a failing random source is reported", func(t *testing.T) {
		_, err := NewKey(iotest.ErrReader(errors.New("entropy source gone")))
		if err == nil {
			t.Fatal("NewKey succeeded without randomness")
		}
	})

	t.Run("a short random source is reported", func(t *testing.T) {
		_, err := NewKey(bytes.NewReader(make([]byte, KeySize-1)))
		if err == nil {
			t.Fatal("NewKey succeeded with 31 random bytes")
		}
	})
}

// TestErrorsHoldNoKeyMaterial drives every failure that has a key or a secret
// at hand and checks that none of their text leaks into the error.
func TestErrorsHoldNoKeyMaterial(t *testing.T) {
	key := signs
	k := newKeyring(t, key)
	sealed := seal(t, k, secret, ad)
	errs := []error{
		second(New(key[:31])),
		second(New(testKey(0), key[:31])),
		second(ParseKey(signsStd[:40])),
		second(k.Open(sealed, []byte("another row"))),
		second(k.Open(sealed[:len(sealed)-1], ad)),
		second(newKeyring(t, testKey(0)).Open(sealed, ad)),
	}

	leaks := []string{
		signsStd[:8], signsURL[:8], string(key[:8]), string(secret[:8]),
		"fbfffbff", "FBFFFBFF", "3132333435", // key and secret in hex
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("a failure gave no error")
		}
		for _, leak := range leaks {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("error %q contains %q", err, leak)
			}
		}
	}
}

// second returns the error of a two-value call.
func second[T any](_ T, err error) error {
	return err
}
