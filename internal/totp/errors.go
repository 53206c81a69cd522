package totp

import (
	"errors"
	"fmt"
)

// The sentinel errors. Every error that the package returns for bad input wraps exactly
// one of them, so that callers can pick a response with errors.Is. The text of such an
// error is written for the person who sent the input: it says what was wrong and how to
// put it right, and it never repeats the secret or any part of it.
var (
	// ErrInvalidSecret means a secret is not base32 or decodes to more than
	// MaxSecretBytes bytes.
	ErrInvalidSecret = errors.New("invalid secret")

	// ErrSecretTooShort means a secret decodes to fewer than MinSecretBytes bytes.
	ErrSecretTooShort = errors.New("secret too short")

	// ErrInvalidURI means a text is not an otpauth URI, has no secret, or has an
	// algorithm, digits or period parameter that is not valid and that no explicit
	// Params field overrides.
	ErrInvalidURI = errors.New("invalid otpauth URI")

	// ErrUnsupportedType means an otpauth URI is of a type other than totp, such as
	// hotp.
	ErrUnsupportedType = errors.New("unsupported OTP type")

	// ErrInvalidParameter means an explicit setting (an algorithm, a number of digits,
	// a period, an issuer or an account) or a Key field is out of range.
	ErrInvalidParameter = errors.New("invalid parameter")
)

// failure is an error with a message for a person and a sentinel for a program. Its
// message stands on its own, so the sentinel's short text is not appended to it.
type failure struct {
	kind error
	msg  string
}

// Error returns the message written for the person who sent the input.
func (f *failure) Error() string { return f.msg }

// Unwrap returns the sentinel, so that errors.Is matches it.
func (f *failure) Unwrap() error { return f.kind }

// fail makes a failure of the given kind. Callers format only numbers and fixed words
// into the message, never the input that was refused.
func fail(kind error, format string, args ...any) error {
	return &failure{kind: kind, msg: fmt.Sprintf(format, args...)}
}
