package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/totp"
)

// secretSource is the part of an enrollment, or of a secret replacement,
// that says where the secret comes from and how codes are made from it.
type secretSource struct {
	Secret     *string `json:"secret"`
	OTPAuthURI *string `json:"otpauth_uri"`
	QRImage    *string `json:"qr_image"`
	Generate   *bool   `json:"generate"`

	Issuer    *string `json:"issuer"`
	Account   *string `json:"account"`
	Algorithm *string `json:"algorithm"`
	Digits    *int    `json:"digits"`
	Period    *int    `json:"period"`
}

// errOneSource is the problem when a request names no secret, or several.
var errOneSource = fail(codeInvalidRequest, `give exactly one of "secret" (base32), `+
	`"otpauth_uri", "qr_image" (base64 of a PNG, JPEG or GIF) or "generate": true`)

// key turns the source into a TOTP key: the secret parsed, explicit fields
// winning over what a URI says, defaults for the rest.
func (s *Server) key(ctx context.Context, src secretSource) (totp.Key, error) {
	if src.count() != 1 {
		return totp.Key{}, errOneSource
	}

	params, err := src.params()
	if err != nil {
		return totp.Key{}, err
	}

	var key totp.Key
	switch {
	case src.Secret != nil:
		key, err = totp.FromSecret(*src.Secret, params)
	case src.OTPAuthURI != nil:
		key, err = totp.FromURI(*src.OTPAuthURI, params)
	case src.QRImage != nil:
		key, err = keyFromQR(ctx, *src.QRImage, params)
	default:
		key, err = totp.Generate(s.random, params)
	}
	if err != nil {
		return totp.Key{}, keyError(err)
	}
	return key, checkURIText(key)
}

// checkURIText refuses an issuer or account that a URI or QR code gave and
// that would be refused as an explicit field: too long, a control
// character, bytes that are not UTF-8. Explicit fields were checked
// already, and a value that one of them overrode is gone from key.
func checkURIText(key totp.Key) error {
	for _, f := range []struct{ name, value string }{
		{"issuer", key.Issuer}, {"account", key.Account},
	} {
		if checkText(f.name, f.value) != nil {
			return fail(codeInvalidOTPAuthURI, fmt.Sprintf("the %s that the otpauth URI "+
				"gives must be UTF-8 text of at most %d characters without control "+
				"characters; fix the URI, or give %q to override it", f.name, maxTextLen, f.name))
		}
	}
	return nil
}

// describe says, for the audit trail, where the secret came from and
// which settings were given; never the secret.
func (src secretSource) describe() string {
	from := "typed secret"
	switch {
	case src.OTPAuthURI != nil:
		from = "otpauth URI"
	case src.QRImage != nil:
		from = "QR image"
	case src.Generate != nil && *src.Generate:
		from = "generated secret"
	}
	return "from a " + from
}

// count returns how many sources the request names; "generate": false
// names none.
func (src secretSource) count() int {
	n := 0
	if src.Secret != nil {
		n++
	}
	if src.OTPAuthURI != nil {
		n++
	}
	if src.QRImage != nil {
		n++
	}
	if src.Generate != nil && *src.Generate {
		n++
	}
	return n
}

// params gathers the explicit fields, checking the descriptive ones here and
// leaving the ranges of the rest to the totp package.
func (src secretSource) params() (totp.Params, error) {
	var p totp.Params

	for _, f := range []struct {
		name string
		in   *string
		out  *string
	}{{"issuer", src.Issuer, &p.Issuer}, {"account", src.Account, &p.Account}} {
		if f.in == nil {
			continue
		}
		if err := checkText(f.name, *f.in); err != nil {
			return p, err
		}
		*f.out = *f.in
	}

	if src.Algorithm != nil {
		alg, err := totp.ParseAlgorithm(*src.Algorithm)
		if err != nil {
			return p, keyError(err)
		}
		p.Algorithm = alg
	}

	p.Digits = explicit(src.Digits)
	p.Period = explicit(src.Period)
	return p, nil
}

// explicit maps an optional number onto totp.Params, where 0 means "not
// given": an explicit 0 becomes -1, so that totp refuses it as out of range
// instead of taking the default.
func explicit(n *int) int {
	switch {
	case n == nil:
		return 0
	case *n == 0:
		return -1
	}
	return *n
}

// keyError turns an error of the totp package into a problem. Its messages
// are written for clients and never hold the secret.
func keyError(err error) error {
	codes := []struct {
		err  error
		code errorCode
	}{
		{totp.ErrSecretTooShort, codeSecretTooShort},
		{totp.ErrInvalidSecret, codeInvalidSecret},
		{totp.ErrUnsupportedType, codeUnsupportedOTPType},
		{totp.ErrInvalidURI, codeInvalidOTPAuthURI},
		{totp.ErrInvalidParameter, codeInvalidRequest},
	}

	if _, ok := asProblem(err); ok || err == nil {
		return err
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return fail(c.code, err.Error())
		}
	}
	return fmt.Errorf("make key: %w", err)
}

// seal seals key's secret for endpoint e and copies the key's settings into e.
func (s *Server) seal(e *store.Endpoint, key totp.Key) error {
	sealed, err := s.sealer.Seal(key.Secret, e.SecretAD())
	if err != nil {
		return fmt.Errorf("seal secret: %w", err)
	}

	e.SealedSecret = sealed
	e.Issuer = key.Issuer
	e.Account = key.Account
	e.Algorithm = string(key.Algorithm)
	e.Digits = key.Digits
	e.Period = key.Period
	return nil
}

// open opens e's sealed secret into a TOTP key. A failure here means the
// stored row was tampered with or moved, or was sealed under a master key
// this server does not hold: it is logged by endpoint name, and the client
// gets a 500 with no code.
func (s *Server) open(r *http.Request, e store.Endpoint) (totp.Key, error) {
	secret, err := s.sealer.Open(e.SealedSecret, e.SecretAD())
	if err != nil {
		s.log.ErrorContext(r.Context(), "sealed secret failed to open: integrity check "+
			"failed, or the master key that sealed it is not configured",
			slog.String("endpoint", e.Name),
			slog.String("request_id", requestID(r.Context())),
			slog.String("error", err.Error()))
		return totp.Key{}, fail(codeInternal, internalDetail)
	}

	return totp.Key{
		Secret:    secret,
		Issuer:    e.Issuer,
		Account:   e.Account,
		Algorithm: totp.Algorithm(e.Algorithm),
		Digits:    e.Digits,
		Period:    e.Period,
	}, nil
}
