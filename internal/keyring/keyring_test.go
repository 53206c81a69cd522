package keyring

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/chacha20poly1305"
)

// secret is a 20-byte TOTP secret, the size the service generates.
var secret = []byte("12345678901234567890")

// ad stands for the endpoint row a secret is sealed for.
var ad = []byte("endpoint 42")

// testKey returns a key of KeySize bytes counting up from first, so that keys
// made from different first bytes differ.
func testKey(first byte) []byte {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = first + byte(i)
	}

	return key
}

// newKeyring builds a keyring or stops the test.
func newKeyring(t testing.TB, primary []byte, old ...[]byte) *Keyring {
	t.Helper()

	k, err := New(primary, old...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	return k
}

// seal seals plaintext under k or stops the test.
func seal(t testing.TB, k *Keyring, plaintext, ad []byte) []byte {
	t.Helper()

	sealed, err := k.Seal(plaintext, ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	return sealed
}

func TestSealOpen(t *testing.T) {
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"a 20-byte secret opens with its associated data", secret, ad},
		{"an empty plaintext opens", nil, ad},
		{"a 128-byte secret opens", bytes.Repeat([]byte{0xa5}, 128), ad},
		{"nil associated data opens as nil", secret, nil},
	}

	k := newKeyring(t, testKey(0))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := seal(t, k, tt.plaintext, tt.ad)
			if want := minSealed + len(tt.plaintext); len(sealed) != want {
				t.Errorf("sealed length = %d, want %d", len(sealed), want)
			}

			got, err := k.Open(sealed, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %x, want %x", got, tt.plaintext)
			}
		})
	}
}

func TestSealUsesAFreshNonceEachTime(t *testing.T) {
	k := newKeyring(t, testKey(0))

	first := seal(t, k, secret, ad)
	second := seal(t, k, secret, ad)

	if bytes.Equal(first[authSize:headerSize], second[authSize:headerSize]) {
		t.Error("two seals used the same nonce")
	}
	if bytes.Equal(first, second) {
		t.Error("two seals of the same plaintext are equal")
	}
}

// TestSealFormat pins format version 1 byte for byte, building the expected
// value straight from the AEAD so that the package doc's table is what is
// tested. Stored secrets depend on this never changing by accident.
func TestSealFormat(t *testing.T) {
	key := testKey(0)
	nonce := bytes.Repeat([]byte{0x07}, chacha20poly1305.NonceSizeX)
	k := newKeyring(t, key)
	k.rand = bytes.NewReader(nonce)

	got := seal(t, k, secret, ad)

	// HMAC-SHA256 of "totpvault key id v1" under bytes 00..1f, from:
	// printf %s "totpvault key id v1" | openssl dgst -sha256 -mac HMAC -macopt hexkey:0001..1f
	id, _ := hex.DecodeString("6e4cb46d26ac1b26")
	header := slices.Concat([]byte{1}, id)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		t.Fatal(err)
	}
	want := aead.Seal(slices.Concat(header, nonce), nonce, secret, slices.Concat(header, ad))

	if !bytes.Equal(got, want) {
		t.Errorf("sealed =\n%x\nwant\n%x", got, want)
	}
	if got := k.ID().String(); got != "6e4cb46d26ac1b26" {
		t.Errorf("ID = %s, want 6e4cb46d26ac1b26", got)
	}
}

func TestSealFailsWithoutRandomness(t *testing.T) {
	k := newKeyring(t, testKey(0))
	k.rand = iotest.ErrReader(errors.New("entropy source gone"))

	_, err := k.Seal(secret, ad)
	if err == nil {
		t.Fatal("Seal succeeded without a nonce")
	}
	if errors.Is(err, ErrOpen) {
		t.Errorf("Seal error %q wraps ErrOpen", err)
	}
}

func TestOpenRejects(t *testing.T) {
	k := newKeyring(t, testKey(0))
	sealed := seal(t, k, secret, ad)
	other := seal(t, newKeyring(t, testKey(100)), secret, ad)

	tests := []struct {
		name   string
		sealed []byte
		ad     []byte
		want   error
	}{
		{"a value copied onto another row fails", sealed, []byte("endpoint 43"), ErrOpen},
		{"a value opened without its associated data fails", sealed, nil, ErrOpen},
		{"an empty value fails", nil, ad, ErrOpen},
		{"a lone version byte fails", sealed[:1], ad, ErrOpen},
		{"a header without ciphertext fails", sealed[:headerSize], ad, ErrOpen},
		{"a value one byte short of a tag fails", sealed[:minSealed-1], ad, ErrOpen},
		{"a value missing its last byte fails", sealed[:len(sealed)-1], ad, ErrOpen},
		{"a value with a byte appended fails", append(slices.Clone(sealed), 0), ad, ErrOpen},
		{"an unknown format version fails", withByte(sealed, 0, 2), ad, ErrOpen},
		{"a value sealed under an unknown key fails", other, ad, ErrUnknownKey},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(tt.sealed, tt.ad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %x along with its error", got)
			}
		})
	}
}

// withByte returns a copy of b with b[i] set to v.
func withByte(b []byte, i int, v byte) []byte {
	b = slices.Clone(b)
	b[i] = v

	return b
}

func TestOpenRejectsEveryFlippedBit(t *testing.T) {
	k := newKeyring(t, testKey(0))
	sealed := seal(t, k, secret, ad)

	for i := range sealed {
		for bit := range 8 {
			flipped := withByte(sealed, i, sealed[i]^(1<<bit))

			_, err := k.Open(flipped, ad)
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("byte %d bit %d flipped: Open error = %v, want ErrOpen", i, bit, err)
			}

			// A changed key ID names a key the keyring does not have.
			inID := i >= 1 && i < authSize
			if inID != errors.Is(err, ErrUnknownKey) {
				t.Errorf("byte %d bit %d flipped: Open error = %v", i, bit, err)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	keyA, keyB := testKey(0), testKey(100)
	sealedA := seal(t, newKeyring(t, keyA), secret, ad)

	t.Run("data sealed under an old key opens", func(t *testing.T) {
		got, err := newKeyring(t, keyB, keyA).Open(sealedA, ad)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Open = %x, %v; want %x", got, err, secret)
		}
	})

	t.Run("data sealed under a dropped key fails as unknown", func(t *testing.T) {
		_, err := newKeyring(t, keyB).Open(sealedA, ad)
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("Open error = %v, want ErrUnknownKey", err)
		}
	})

	t.Run("new data is sealed under the new primary key", func(t *testing.T) {
		k := newKeyring(t, keyB, keyA)
		id, err := SealedBy(seal(t, k, secret, ad))
		if err != nil || id != k.ID() || id != idOf(keyB) {
			t.Fatalf("SealedBy = %s, %v; want %s", id, err, idOf(keyB))
		}
	})

	t.Run("SealedBy names the old key that sealed old data", func(t *testing.T) {
		id, err := SealedBy(sealedA)
		if err != nil || id != idOf(keyA) {
			t.Fatalf("SealedBy = %s, %v; want %s", id, err, idOf(keyA))
		}
	})

	t.Run("the primary key repeated among the old keys is harmless", func(t *testing.T) {
		got, err := newKeyring(t, keyA, keyB, keyA).Open(sealedA, ad)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Open = %x, %v; want %x", got, err, secret)
		}
	})
}

func TestNewRejectsKeysOfTheWrongSize(t *testing.T) {
	tests := []struct {
		name    string
		primary []byte
		old     [][]byte
	}{
		{"a missing primary key is refused", nil, nil},
		{"a 31-byte primary key is refused", testKey(0)[:31], nil},
		{"a 33-byte primary key is refused", append(testKey(0), 0), nil},
		{"a short old key is refused", testKey(0), [][]byte{testKey(1), testKey(2)[:16]}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.primary, tt.old...)
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("New error = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestNewCopiesKeys(t *testing.T) {
	primary, old := testKey(0), testKey(100)
	k := newKeyring(t, primary, old)
	sealedOld := seal(t, newKeyring(t, testKey(100)), secret, ad)
	id := k.ID()

	// The caller wipes its copies, as careful callers do.
	clear(primary)
	clear(old)

	if k.ID() != id {
		t.Error("ID changed with the caller's key slice")
	}
	if _, err := k.Open(seal(t, k, secret, ad), ad); err != nil {
		t.Errorf("Open under the primary key after the caller changed it: %v", err)
	}
	if _, err := k.Open(sealedOld, ad); err != nil {
		t.Errorf("Open under the old key after the caller changed it: %v", err)
	}
}

func TestKeyringIsSafeForConcurrentUse(t *testing.T) {
	k := newKeyring(t, testKey(0), testKey(100))

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			plaintext := fmt.Appendf(nil, "secret of goroutine %d", g)
			for range 50 {
				sealed, err := k.Seal(plaintext, ad)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := k.Open(sealed, ad)
				if err != nil || !bytes.Equal(got, plaintext) {
					t.Errorf("Open = %q, %v; want %q", got, err, plaintext)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkOpen(b *testing.B) {
	k := newKeyring(b, testKey(0), testKey(100))
	sealed := seal(b, k, secret, ad)
	b.ReportAllocs()

	for b.Loop() {
		if _, err := k.Open(sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}
