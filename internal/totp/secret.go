package totp

import (
	"encoding/base32"
	"strings"
	"unicode"
)

// b32 is the base32 alphabet of RFC 4648 without padding. Set-up pages and otpauth URIs
// mostly leave the '=' out, so the package strips it before decoding and never writes it.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// maxSecretChars is the length of the base32 text of MaxSecretBytes bytes. Longer text
// is refused before anything is decoded, so a huge input costs one short scan.
const maxSecretChars = (MaxSecretBytes*8 + 4) / 5

// base32Hint tells a person which characters a secret may hold. It names none of theirs.
const base32Hint = "use only the letters A to Z and the digits 2 to 7 " +
	"(spaces, hyphens and '=' padding at the end are ignored)"

// ParseSecret decodes a TOTP secret written in base32 the way set-up pages show it: in
// any case, with spaces (such as groups of four, "abcd efgh ijkl mnop") and hyphens
// anywhere, and with or without '=' padding at the end. The secret must decode to
// MinSecretBytes to MaxSecretBytes bytes. A shorter one gives an error wrapping
// ErrSecretTooShort; a longer one, an empty one or one that is not base32 gives an error
// wrapping ErrInvalidSecret.
func ParseSecret(text string) ([]byte, error) {
	return parseSecret(text, "the secret")
}

// parseSecret is ParseSecret with the noun that its errors use for the secret, so that
// a secret inside an otpauth URI is named as such.
func parseSecret(text, what string) ([]byte, error) {
	clean, err := normalizeSecret(text, what)
	if err != nil {
		return nil, err
	}

	if err := checkEncodedLength(len(clean), what); err != nil {
		return nil, err
	}

	secret, err := b32.DecodeString(clean)
	if err != nil {
		// normalizeSecret and checkEncodedLength let through only text that decodes,
		// so this is a safety net; the decoder's own message would quote the input.
		return nil, fail(ErrInvalidSecret, "%s is not valid base32; %s", what, base32Hint)
	}

	if err := checkSecretLength(len(secret), what); err != nil {
		return nil, err
	}

	return secret, nil
}

// normalizeSecret returns the base32 characters of text in upper case, without the
// spaces, hyphens and trailing padding that people and set-up pages add.
func normalizeSecret(text, what string) (string, error) {
	var b strings.Builder
	padded := false
	position := 0

	for _, r := range text {
		position++

		switch {
		case unicode.IsSpace(r) || r == '-':
			continue
		case r == '=':
			padded = true
			continue
		case padded:
			return "", fail(ErrInvalidSecret,
				"%s has base32 after its '=' padding (character %d); padding may only end it",
				what, position)
		case !isBase32(r):
			return "", fail(ErrInvalidSecret, "character %d of %s is not base32: %s",
				position, what, base32Hint)
		case b.Len() == maxSecretChars:
			return "", tooLong(what)
		}

		b.WriteRune(unicode.ToUpper(r))
	}

	return b.String(), nil
}

// isBase32 reports whether r belongs to the base32 alphabet, in either case.
func isBase32(r rune) bool {
	return ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') || ('2' <= r && r <= '7')
}

// checkEncodedLength refuses empty text and text whose length no whole number of bytes
// encodes to (1, 3 or 6 characters past a multiple of 8), which is almost always a
// secret that lost characters on the way.
func checkEncodedLength(n int, what string) error {
	if n == 0 {
		return fail(ErrInvalidSecret, "%s is empty; give the base32 text that the set-up "+
			"page shows", what)
	}

	switch n % 8 {
	case 1, 3, 6:
		return fail(ErrInvalidSecret, "%s has %d base32 characters, a length that no "+
			"whole number of bytes has; check that it was copied completely", what, n)
	}

	return nil
}

// checkSecretLength checks the decoded length of a secret.
func checkSecretLength(n int, what string) error {
	if n > MaxSecretBytes {
		return tooLong(what)
	}

	if n < MinSecretBytes {
		return fail(ErrSecretTooShort, "%s decodes to %d bytes, but a TOTP secret needs at "+
			"least %d (%d base32 characters); check that it was copied completely",
			what, n, MinSecretBytes, (MinSecretBytes*8+4)/5)
	}

	return nil
}

// tooLong is the error for a secret over MaxSecretBytes bytes.
func tooLong(what string) error {
	return fail(ErrInvalidSecret, "%s is longer than %d bytes (%d base32 characters), "+
		"the most a TOTP secret may have here", what, MaxSecretBytes, maxSecretChars)
}
