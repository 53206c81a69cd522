// Package totp builds, checks and reads TOTP keys (RFC 6238): it parses secrets and
// otpauth URIs as people paste them, applies explicit settings, and computes and
// verifies codes. It does no I/O and keeps no state.
package totp

import (
	"fmt"
	"io"
	"strings"
)

// Algorithm is the hash function of a key's HMAC.
type Algorithm string

// The algorithms of RFC 6238. SHA1 is what nearly every authenticator app expects.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Limits and defaults of a key's settings.
const (
	// MinSecretBytes is the shortest secret accepted, the 80 bits that RFC 4226 asks
	// for at the least.
	MinSecretBytes = 10

	// MaxSecretBytes is the longest secret accepted, twice the 64-byte block of
	// SHA-512, beyond which HMAC would only hash the key down.
	MaxSecretBytes = 128

	// MinDigits and MaxDigits bound the length of a code.
	MinDigits = 6
	MaxDigits = 8

	// DefaultDigits is the length of a code when none is given.
	DefaultDigits = 6

	// MinPeriod and MaxPeriod bound the length of a time step, in seconds.
	MinPeriod = 10
	MaxPeriod = 300

	// DefaultPeriod is the length of a time step, in seconds, when none is given.
	DefaultPeriod = 30

	// DefaultAlgorithm is the algorithm when none is given.
	DefaultAlgorithm = SHA1

	// GeneratedSecretBytes is the length of a secret that Generate makes: 160 bits,
	// the size RFC 4226 recommends and the length of a SHA-1 output.
	GeneratedSecretBytes = 20
)

// ParseAlgorithm returns the algorithm that s names, in any case ("sha256" is SHA256).
// Any other name gives an error wrapping ErrInvalidParameter.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range []Algorithm{SHA1, SHA256, SHA512} {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}

	return "", fail(ErrInvalidParameter, "the algorithm must be SHA1, SHA256 or SHA512")
}

// Params are the explicit settings that come with a secret. A zero field means that the
// setting was not given: the key then takes it from the otpauth URI, if any, or else
// from the default. Issuer and Account have surrounding white space removed.
type Params struct {
	Issuer  string
	Account string

	// Algorithm is matched in any case; "" means not given.
	Algorithm Algorithm

	// Digits is the length of a code; 0 means not given.
	Digits int

	// Period is the length of a time step in seconds; 0 means not given.
	Period int
}

// Key is a complete TOTP key. The constructors of this package return only keys that
// Validate accepts; a Key built by hand should be checked with Validate.
type Key struct {
	Secret  []byte
	Issuer  string
	Account string

	// Algorithm is one of SHA1, SHA256 and SHA512, spelled exactly so.
	Algorithm Algorithm

	// Digits is the length of a code, MinDigits to MaxDigits.
	Digits int

	// Period is the length of a time step in seconds, MinPeriod to MaxPeriod.
	Period int
}

// defaultKey returns a key with secret and the default settings.
func defaultKey(secret []byte) Key {
	return Key{
		Secret:    secret,
		Algorithm: DefaultAlgorithm,
		Digits:    DefaultDigits,
		Period:    DefaultPeriod,
	}
}

// FromSecret returns the key of a base32 secret (read as ParseSecret reads it) with the
// settings of p, and the defaults for those that p does not give. Its errors wrap
// ErrInvalidSecret, ErrSecretTooShort or ErrInvalidParameter.
func FromSecret(text string, p Params) (Key, error) {
	secret, err := ParseSecret(text)
	if err != nil {
		return Key{}, err
	}

	return p.applyTo(defaultKey(secret))
}

// Generate returns a key with a new secret of GeneratedSecretBytes bytes read from rand
// (crypto/rand.Reader in production) and the settings of p, or the defaults. A bad
// setting gives an error wrapping ErrInvalidParameter. When rand fails, the error wraps
// rand's error and none of the sentinels, because it is a fault of the server, not of
// the request.
func Generate(rand io.Reader, p Params) (Key, error) {
	secret := make([]byte, GeneratedSecretBytes)
	if _, err := io.ReadFull(rand, secret); err != nil {
		return Key{}, fmt.Errorf("read random secret: %w", err)
	}

	return p.applyTo(defaultKey(secret))
}

// applyTo returns k with the settings that p gives, after checking them.
func (p Params) applyTo(k Key) (Key, error) {
	if err := p.override(&k); err != nil {
		return Key{}, err
	}

	if err := k.Validate(); err != nil {
		return Key{}, err
	}

	return k, nil
}

// override sets the fields of k that p gives. It reads the algorithm by its name and
// leaves the ranges of digits and period to Validate, which applyTo runs next.
func (p Params) override(k *Key) error {
	if s := strings.TrimSpace(p.Issuer); s != "" {
		k.Issuer = s
	}

	if s := strings.TrimSpace(p.Account); s != "" {
		k.Account = s
	}

	if p.Algorithm != "" {
		a, err := ParseAlgorithm(string(p.Algorithm))
		if err != nil {
			return err
		}
		k.Algorithm = a
	}

	if p.Digits != 0 {
		k.Digits = p.Digits
	}

	if p.Period != 0 {
		k.Period = p.Period
	}

	return nil
}

// Validate reports whether k is complete and in range. A bad secret length gives an
// error wrapping ErrSecretTooShort or ErrInvalidSecret; any other bad field, one
// wrapping ErrInvalidParameter. An Issuer or Account with surrounding white space is
// refused, because an otpauth URI cannot carry it and URI would not give k back.
func (k Key) Validate() error {
	if err := checkSecretLength(len(k.Secret), "the secret"); err != nil {
		return err
	}

	if !k.Algorithm.valid() {
		return fail(ErrInvalidParameter, "the algorithm must be SHA1, SHA256 or SHA512")
	}

	if err := checkDigits(k.Digits); err != nil {
		return err
	}

	if err := checkPeriod(k.Period); err != nil {
		return err
	}

	if err := checkName(k.Issuer, "issuer"); err != nil {
		return err
	}

	return checkName(k.Account, "account")
}

// valid reports whether a is one of the three algorithms, spelled exactly so.
func (a Algorithm) valid() bool {
	return a == SHA1 || a == SHA256 || a == SHA512
}

// checkDigits checks the length of a code. The message leaves out the refused value,
// because callers may stand in a sentinel such as -1 for a value the client wrote
// otherwise.
func checkDigits(n int) error {
	if n < MinDigits || n > MaxDigits {
		return fail(ErrInvalidParameter, "digits must be a whole number from %d to %d",
			MinDigits, MaxDigits)
	}

	return nil
}

// checkPeriod checks the length of a time step; like checkDigits, it does not repeat
// the refused value.
func checkPeriod(n int) error {
	if n < MinPeriod || n > MaxPeriod {
		return fail(ErrInvalidParameter, "the period must be a whole number of seconds "+
			"from %d to %d", MinPeriod, MaxPeriod)
	}

	return nil
}

// checkName checks an issuer or account name.
func checkName(s, field string) error {
	if s != strings.TrimSpace(s) {
		return fail(ErrInvalidParameter, "the %s must not start or end with white space", field)
	}

	return nil
}
