// Package keyring seals TOTP secrets under a master key and opens them again,
// under the current (primary) key or any older key kept for rotation.
//
// Sealing uses XChaCha20-Poly1305 with a fresh random 24-byte nonce each time.
// A sealed value, format version 1, is laid out as:
//
//	offset  size     field
//	0       1        format version, 0x01
//	1       8        key ID of the sealing key (see KeyID)
//	9       24       nonce
//	33      n + 16   ciphertext of the n-byte plaintext, then the Poly1305 tag
//
// The AEAD's associated data is the first 9 bytes (version and key ID) followed
// by the caller's associated data, so a value whose version or key ID was
// changed, or that is opened with other associated data, fails to open. Callers pass as associated data whatever names the
// place a value is stored (an endpoint's ID, say): a value copied onto another
// row then fails to open instead of handing out the wrong account's secret.
// Nil and empty associated data are the same.
//
// A Keyring is safe for concurrent use.
package keyring

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length in bytes of a master key.
const KeySize = 32

// The layout of a sealed value; the package doc shows it as a table.
const (
	version    = 1
	idSize     = len(KeyID{})
	authSize   = 1 + idSize // version and key ID, which go into the associated data
	headerSize = authSize + chacha20poly1305.NonceSizeX
	minSealed  = headerSize + chacha20poly1305.Overhead
)

var (
	// ErrOpen means sealed data could not be opened: the associated data was
	// not the one it was sealed with, it was altered or cut short, or it is not
	// in a format this package knows.
	ErrOpen = errors.New("keyring: sealed data cannot be opened")

	// ErrUnknownKey means data was sealed under a key that is neither the
	// primary key nor one of the old keys. It wraps ErrOpen, because from the
	// outside an altered key ID looks just like a missing key: test for
	// ErrUnknownKey first when the two need telling apart.
	ErrUnknownKey = fmt.Errorf("%w: sealed under an unknown master key", ErrOpen)

	// ErrInvalidKey means a master key is not base64 of exactly KeySize bytes.
	ErrInvalidKey = errors.New("keyring: invalid master key")
)

// Keyring seals under one primary key and opens under the primary or old keys.
// Build one with New; the zero value is not usable.
type Keyring struct {
	primary KeyID
	aeads   map[KeyID]cipher.AEAD

	// rand supplies nonces; nil means crypto/rand. Tests set it to pin a nonce.
	rand io.Reader
}

// New returns a keyring that seals with primary and opens data sealed under
// primary or any of old. Each key must be KeySize bytes, else the error wraps
// ErrInvalidKey. The keys are copied, so later changes to the caller's slices
// do not reach the keyring. Repeating a key, such as leaving the primary in
// the old list after a rotation, is harmless.
func New(primary []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[KeyID]cipher.AEAD, 1+len(old))}

	id, err := k.add(primary)
	if err != nil {
		return nil, fmt.Errorf("primary key: %w", err)
	}
	k.primary = id

	for i, key := range old {
		if _, err := k.add(key); err != nil {
			return nil, fmt.Errorf("old key %d: %w", i+1, err)
		}
	}

	return k, nil
}

// add makes an AEAD for key and files it under the key's ID. When an ID is
// already filed the first key keeps it: for two different keys that is a 2^-64
// chance, and data sealed under the second would then fail to open, never open
// under the wrong key.
func (k *Keyring) add(key []byte) (KeyID, error) {
	if len(key) != KeySize {
		return KeyID{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidKey, len(key), KeySize)
	}

	// Our own copy: NewX is not documented to copy the key it is given.
	key = slices.Clone(key)
	id := idOf(key)
	if _, ok := k.aeads[id]; ok {
		return id, nil
	}

	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return KeyID{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	k.aeads[id] = aead

	return id, nil
}

// ID returns the ID of the primary key, the one Seal uses.
func (k *Keyring) ID() KeyID {
	return k.primary
}

// Seal encrypts plaintext under the primary key with a fresh random nonce and
// binds it to ad, which Open must be given again. It fails only when no random
// nonce can be read.
func (k *Keyring) Seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, headerSize, minSealed+len(plaintext))
	out[0] = version
	copy(out[1:authSize], k.primary[:])

	nonce := out[authSize:headerSize]
	if _, err := io.ReadFull(k.random(), nonce); err != nil {
		return nil, fmt.Errorf("keyring: read nonce: %w", err)
	}

	aead := k.aeads[k.primary]
	return aead.Seal(out, nonce, plaintext, slices.Concat(out[:authSize], ad)), nil
}

// Open decrypts what Seal made, under whichever known key sealed it, given the
// same ad. Failures wrap ErrOpen, or ErrUnknownKey when the key that sealed the
// data is not in the keyring.
func (k *Keyring) Open(sealed, ad []byte) ([]byte, error) {
	id, err := SealedBy(sealed)
	if err != nil {
		return nil, err
	}

	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %s", ErrUnknownKey, id)
	}

	nonce, ciphertext := sealed[authSize:headerSize], sealed[headerSize:]
	plaintext, err := aead.Open(nil, nonce, ciphertext, slices.Concat(sealed[:authSize], ad))
	if err != nil {
		// The AEAD's own error says no more than this; ours says what to suspect.
		return nil, fmt.Errorf("%w: authentication failed: the data was altered, "+
			"or belongs with other associated data", ErrOpen)
	}

	return plaintext, nil
}

// SealedBy reports the ID of the key that sealed data, without opening it, so
// that a re-seal command can find what an old key still holds. Data too short
// to be sealed, or of an unknown format version, gives an error wrapping
// ErrOpen. The ID is not authenticated until the data is opened.
func SealedBy(sealed []byte) (KeyID, error) {
	if len(sealed) < minSealed {
		return KeyID{}, fmt.Errorf("%w: %d bytes, shorter than any sealed value (%d)",
			ErrOpen, len(sealed), minSealed)
	}

	if sealed[0] != version {
		return KeyID{}, fmt.Errorf("%w: unknown format version %d", ErrOpen, sealed[0])
	}

	return KeyID(sealed[1:authSize]), nil
}

// random returns the source of nonces.
func (k *Keyring) random() io.Reader {
	if k.rand == nil {
		return rand.Reader
	}

	return k.rand
}
