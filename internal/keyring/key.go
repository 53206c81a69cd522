package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// idLabel is the message whose HMAC under a key gives the key's ID. Changing it
// changes every ID and so orphans every sealed value: it is part of format v1.
const idLabel = "totpvault key id v1"

// howToMake ends every ErrInvalidKey from parsing, so an operator knows the fix.
const howToMake = `; make a key with "totpvault keygen"`

// KeyID names a master key in sealed data, so Open knows which key to use
// without trying each. It is not secret: every sealed value carries it.
type KeyID [8]byte

// String returns the ID in lower-case hex, as logs and commands show it.
func (id KeyID) String() string {
	return hex.EncodeToString(id[:])
}

// idOf derives key's ID as the first 8 bytes of HMAC-SHA256(key, idLabel).
//
// Anyone holding a sealed value can test a guessed key against it, by trial
// decryption, at the cost of one small XChaCha20-Poly1305 open. The ID must not
// make that any cheaper or tell more: a keyed PRF of a fixed label is one hash
// per guess too, reveals nothing else about the key, and, unlike a bare hash
// of the key, matches no digest the key might be given elsewhere.
func idOf(key []byte) KeyID {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(idLabel))

	return KeyID(mac.Sum(nil))
}

// ParseKey decodes a base64 master key. It takes the standard or the URL-safe
// alphabet, with or without padding, and trims surrounding white space such as
// a key file's trailing newline. Errors wrap ErrInvalidKey, say how to make a
// key, and never contain the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty"+howToMake, ErrInvalidKey)
	}

	// Strict refuses stray bits in the last character, so one key has one text.
	key, err := encodingOf(s).Strict().DecodeString(s)
	if err != nil {
		// The decoder's error is not wrapped: it carries an offset into the key.
		return nil, fmt.Errorf("%w: not base64"+howToMake, ErrInvalidKey)
	}

	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes after base64 decoding, want %d"+howToMake,
			ErrInvalidKey, len(key), KeySize)
	}

	return key, nil
}

// encodingOf picks the base64 variant that s is written in. A text mixing the
// two alphabets fails to decode under either, which is the right answer.
func encodingOf(s string) *base64.Encoding {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}

	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}

	return enc
}

// ParseKeys parses a comma-separated list of keys, as TOTPVAULT_OLD_MASTER_KEYS
// holds, skipping empty items (so "" and a trailing comma are fine). An error
// names the item by its 1-based place in the list and wraps ErrInvalidKey.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}

		key, err := ParseKey(item)
		if err != nil {
			return nil, fmt.Errorf("key %d in list: %w", i+1, err)
		}
		keys = append(keys, key)
	}

	return keys, nil
}

// NewKey returns a fresh master key of KeySize bytes read from rand, encoded
// in standard, padded base64. Pass crypto/rand.Reader outside tests.
func NewKey(rand io.Reader) (string, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return "", fmt.Errorf("keyring: read random key: %w", err)
	}

	return base64.StdEncoding.EncodeToString(key), nil
}
