// Package access mints and checks bearer tokens and decides which endpoint
// names a runner token's scopes reach. It keeps no state: the store holds
// token hashes, and the API asks this package what they allow.
package access

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// Prefix starts every token value, so that leaked tokens are easy to recognise
// (secret scanners look for it).
const Prefix = "tvt_"

// tokenBytes is how much randomness a minted token carries: 256 bits, far past
// any guessing, and enough that a fast unsalted hash is a safe way to store it.
const tokenBytes = 32

// minTokenValue is the shortest token value an operator may choose.
const minTokenValue = 16

// Mint returns a new token value, Prefix followed by the unpadded base64url
// encoding of 32 bytes read from rand, and the value's Hash. Pass
// crypto/rand.Reader outside tests.
func Mint(rand io.Reader) (value string, hash []byte, err error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", nil, fmt.Errorf("access: read random token: %w", err)
	}

	value = Prefix + base64.RawURLEncoding.EncodeToString(b)

	return value, Hash(value), nil
}

// Hash returns the SHA-256 of a presented token value: what the store keeps
// and looks tokens up by, so that the database never holds a usable token.
//
// A fast unsalted hash suits minted tokens, whose 256 random bits no one can
// search. A token value that an operator chose is only as strong as its
// choice; CheckTokenValue refuses just the shortest. Looking a hash up by
// equality leaks nothing useful through timing: a prefix of a hash says
// nothing about the value that would give it.
func Hash(value string) []byte {
	sum := sha256.Sum256([]byte(value))

	return sum[:]
}

// CheckTokenValue reports whether value may serve as a token that an operator
// chose, such as TOTPVAULT_BOOTSTRAP_TOKEN: at least 16 characters of printable
// ASCII without spaces. The error says what the rule is and never contains the
// value, which is a secret.
func CheckTokenValue(value string) error {
	if len(value) < minTokenValue {
		return fmt.Errorf("token value is %d characters long; use at least %d characters "+
			"of printable ASCII without spaces", len(value), minTokenValue)
	}

	for i := range len(value) {
		if c := value[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("token value has a space, control or non-ASCII character "+
				"at byte %d; use only printable ASCII without spaces", i+1)
		}
	}

	return nil
}
