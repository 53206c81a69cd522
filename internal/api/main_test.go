package api_test

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// TestMain runs the tests on a database of their own, then searches all
// that the servers logged during the run for every secret, code and token
// value the tests saw: none may appear.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)

	if leaked := sensitive.foundIn(runLog.String()); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d secret, code or token values appear in the server's log\n",
			len(leaked))
		code = 1
	}
	os.Exit(code)
}

// minSearched is the length under which a secret's form is not searched
// for: the log search would find short strings by chance.
const minSearched = 8

// noteSent remembers the secrets of a request body: its secret field and
// the secret parameter of its otpauth_uri, in every form addSecret knows.
func (s *valueSet) noteSent(body any) {
	walkJSON(body, func(key string, v string) {
		switch key {
		case "secret":
			s.addSecret(v)
		case "otpauth_uri":
			s.addURI(v)
		}
	})
}

// noteReceived remembers what an answer shows once: codes, token values
// and the otpauth URI of a generated secret.
func (s *valueSet) noteReceived(body []byte) {
	walkJSON(body, func(key string, v string) {
		switch {
		case key == "code" && v != "" && strings.Trim(v, "0123456789") == "":
			s.add(v)
		case key == "token" && strings.HasPrefix(v, access.Prefix):
			s.add(v)
		case key == "otpauth_uri":
			s.addURI(v)
		}
	})
}

// addURI remembers an otpauth URI and each secret parameter in it, also
// when the URI is malformed on purpose.
func (s *valueSet) addURI(uri string) {
	s.add(uri)

	_, query, _ := strings.Cut(uri, "?")
	q, _ := url.ParseQuery(query)
	for _, secret := range q["secret"] {
		s.addSecret(secret)
	}
}

// addSecret remembers a base32 secret as typed and in the forms a log line
// could hold it in: normalised (upper case, without spaces, hyphens and
// padding) and, when it decodes, the hex and base64 of its bytes.
func (s *valueSet) addSecret(typed string) {
	norm := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "=", "").Replace(typed))
	forms := []string{typed, norm}

	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(norm); err == nil {
		h := hex.EncodeToString(raw)
		forms = append(forms, h, strings.ToUpper(h),
			base64.RawStdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw))
	}

	for _, f := range forms {
		if len(f) >= minSearched {
			s.add(f)
		}
	}
}

// walkJSON calls found for every string value in a JSON body, with the key
// it is under. body is JSON text ([]byte or string) or a value to marshal;
// a body that is not JSON has nothing to walk.
func walkJSON(body any, found func(key, value string)) {
	var text []byte
	switch b := body.(type) {
	case nil:
		return
	case []byte:
		text = b
	case string:
		text = []byte(b)
	default:
		text, _ = json.Marshal(b)
	}

	var v any
	if json.Unmarshal(text, &v) == nil {
		walkValue("", v, found)
	}
}

// walkValue is walkJSON's walk through one decoded value.
func walkValue(key string, v any, found func(key, value string)) {
	switch v := v.(type) {
	case string:
		found(key, v)
	case map[string]any:
		for k, inner := range v {
			walkValue(k, inner, found)
		}
	case []any:
		for _, inner := range v {
			walkValue(key, inner, found)
		}
	}
}
