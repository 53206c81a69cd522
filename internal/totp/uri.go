package totp

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// The errors about the shape of an otpauth URI. None of them quotes the URI, since it
// holds the secret, and none spells out the scheme either: a fragment of the scheme
// sent alone would then be echoed back, which the fuzz tests rightly count as a leak.
var (
	errNotURI = fail(ErrInvalidURI, "this is not a TOTP key URI of the kind that "+
		"authenticator set-up pages offer (Key Uri Format); give the whole URI, or the "+
		"secret on its own")
	errMigration = fail(ErrInvalidURI, "this is a Google Authenticator export of several "+
		"accounts, not the URI of one key; show or export each account on its own and "+
		"give its URI or its secret")
	errMalformed = fail(ErrInvalidURI, "the URI cannot be parsed; check that it was "+
		"copied completely and that every '%%' is followed by two hexadecimal digits")
	errNoType = fail(ErrInvalidURI, "the URI has no OTP type; it must be totp, right "+
		"after the scheme")
	errNotTOTP = fail(ErrUnsupportedType, "the URI is not of type totp; only time-based "+
		"keys are supported, not counter-based (hotp) ones")
	errNoSecret = fail(ErrInvalidURI, "the URI has no secret parameter")
)

// FromURI returns the key of an otpauth URI in the Key Uri Format of Google
// Authenticator: otpauth://totp/LABEL?secret=...&issuer=...&algorithm=...&digits=...
// &period=... The scheme and type are matched in any case. The label is "issuer:account"
// or "account", percent-encoded; the separator may be written %3A and spaces around it
// are dropped. An issuer parameter wins over the label's issuer. Unknown parameters,
// such as image, are ignored.
//
// The secret is judged as ParseSecret judges it (ErrInvalidSecret, ErrSecretTooShort); a
// URI without one gives ErrInvalidURI, and a type other than totp ErrUnsupportedType.
// Each field that p gives overrides the URI and is checked itself (ErrInvalidParameter);
// a bad algorithm, digits or period parameter that p does not override gives
// ErrInvalidURI, and so does a secret, algorithm, digits or period parameter given twice.
func FromURI(uri string, p Params) (Key, error) {
	u, err := parseOTPAuth(uri)
	if err != nil {
		return Key{}, err
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Key{}, errMalformed
	}

	k, err := uriKey(u.Path, q)
	if err != nil {
		return Key{}, err
	}

	if err := uriSettings(&k, q, p); err != nil {
		return Key{}, err
	}

	return p.applyTo(k)
}

// parseOTPAuth parses uri and checks its scheme and type. Its errors never wrap the
// error of url.Parse, whose text quotes the URI.
func parseOTPAuth(uri string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		return nil, errMalformed
	}

	switch {
	case u.Scheme == "otpauth-migration":
		return nil, errMigration
	case u.Scheme != "otpauth" || u.Opaque != "":
		return nil, errNotURI
	case u.Host == "":
		return nil, errNoType
	case !strings.EqualFold(u.Host, "totp"):
		return nil, errNotTOTP
	}

	return u, nil
}

// uriKey returns a key with the secret, issuer and account of a URI, and the default
// settings.
func uriKey(path string, q url.Values) (Key, error) {
	text, _, err := uriParam(q, "secret")
	if err != nil {
		return Key{}, err
	}

	if text == "" {
		return Key{}, errNoSecret
	}

	secret, err := parseSecret(text, "the secret in the URI")
	if err != nil {
		return Key{}, err
	}

	k := defaultKey(secret)
	label := strings.TrimPrefix(path, "/")
	k.Issuer, k.Account = splitLabel(label, strings.TrimSpace(q.Get("issuer")))

	return k, nil
}

// splitLabel returns the issuer and account of a decoded label. The issuer parameter,
// when there is one, wins, and is also looked for at the start of the label: an issuer
// may itself hold a colon, which only the parameter can tell from the separator.
func splitLabel(label, issuer string) (string, string) {
	label = strings.TrimSpace(label)

	if account, ok := cutIssuer(label, issuer); ok {
		return issuer, account
	}

	before, account, found := strings.Cut(label, ":")
	if !found {
		return issuer, label
	}

	if issuer == "" {
		issuer = strings.TrimSpace(before)
	}

	return issuer, strings.TrimSpace(account)
}

// cutIssuer returns the account of a label that starts with issuer and a colon, with or
// without spaces before the colon.
func cutIssuer(label, issuer string) (string, bool) {
	rest, ok := strings.CutPrefix(label, issuer)
	if !ok || issuer == "" {
		return "", false
	}

	account, ok := strings.CutPrefix(strings.TrimLeftFunc(rest, unicode.IsSpace), ":")
	return strings.TrimSpace(account), ok
}

// uriSettings sets the algorithm, digits and period that a URI gives, except those that
// p gives: a URI parameter that p overrides is not even read, so a bad one does no harm.
func uriSettings(k *Key, q url.Values, p Params) error {
	if p.Algorithm == "" {
		if err := uriAlgorithm(k, q); err != nil {
			return err
		}
	}

	if p.Digits == 0 {
		if err := uriNumber(&k.Digits, q, "digits", MinDigits, MaxDigits); err != nil {
			return err
		}
	}

	if p.Period == 0 {
		return uriNumber(&k.Period, q, "period", MinPeriod, MaxPeriod)
	}

	return nil
}

// uriAlgorithm sets the algorithm of k from the algorithm parameter, if there is one.
func uriAlgorithm(k *Key, q url.Values) error {
	text, given, err := uriParam(q, "algorithm")
	if err != nil || !given {
		return err
	}

	a, err := ParseAlgorithm(text)
	if err != nil {
		return fail(ErrInvalidURI, "the algorithm parameter of the URI must be "+
			"SHA1, SHA256 or SHA512")
	}

	k.Algorithm = a
	return nil
}

// uriNumber sets *n from the whole-number parameter name, if there is one, and checks
// that it lies from low to high.
func uriNumber(n *int, q url.Values, name string, low, high int) error {
	text, given, err := uriParam(q, name)
	if err != nil || !given {
		return err
	}

	v, err := strconv.Atoi(text)
	if err != nil || v < low || v > high {
		return fail(ErrInvalidURI, "the %s parameter of the URI must be a whole "+
			"number from %d to %d", name, low, high)
	}

	*n = v
	return nil
}

// uriParam returns the value of the parameter name and whether the URI has it. A
// parameter given twice is refused, because the two values may disagree.
func uriParam(q url.Values, name string) (string, bool, error) {
	values := q[name]
	if len(values) > 1 {
		return "", true, fail(ErrInvalidURI, "the URI has more than one %s parameter",
			name)
	}

	if len(values) == 0 {
		return "", false, nil
	}

	return values[0], true, nil
}

// URI returns the otpauth URI of k in the Key Uri Format, with the label
// "issuer:account" percent-encoded, the secret in base32 without padding, and the
// issuer, algorithm, digits and period parameters. For a valid k, FromURI(k.URI(),
// Params{}) gives k back, so the URI can go into a QR code or an authenticator app.
func (k Key) URI() string {
	var b strings.Builder

	b.WriteString("otpauth://totp/")
	b.WriteString(url.PathEscape(k.label()))
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString(k.Secret))

	if k.Issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(queryEscape(k.Issuer))
	}

	b.WriteString("&algorithm=")
	b.WriteString(queryEscape(string(k.Algorithm)))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(k.Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(k.Period))

	return b.String()
}

// label returns the label of k before encoding. An account with a colon and no issuer
// gets an empty issuer in front, so that its own colon is not read as the separator.
func (k Key) label() string {
	if k.Issuer != "" || strings.Contains(k.Account, ":") {
		return k.Issuer + ":" + k.Account
	}

	return k.Account
}

// queryEscape escapes a query value with %20 for a space: every authenticator app reads
// %20, while a few show a '+' as it is.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
