package totp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// hello is the secret "Hello!" followed by 0xDEADBEEF, JBSWY3DPEHPK3PXP in base32: the
// example of Google Authenticator's documentation, and exactly MinSecretBytes long.
var hello = []byte("Hello!\xde\xad\xbe\xef")

func TestParseSecret(t *testing.T) {
	t.Parallel()

	sixteen := []byte("1234567890123456")
	longest := bytes.Repeat([]byte{0xA5}, MaxSecretBytes)
	tooLong := bytes.Repeat([]byte{0xA5}, MaxSecretBytes+1)

	tests := []struct {
		name string
		text string
		want []byte
		err  error
	}{
		{"upper case without padding decodes", "JBSWY3DPEHPK3PXP", hello, nil},
		{"Entra's lower-case groups of four decode", "jbsw y3dp ehpk 3pxp", hello, nil},
		{"hyphens between groups are ignored", "JBSW-Y3DP-EHPK-3PXP", hello, nil},
		{"mixed case decodes", "JbSwY3dPeHpK3pXp", hello, nil},
		{"tabs, non-breaking spaces and a line break are ignored",
			"\tJBSW\u00a0Y3DP EHPK 3PXP\n", hello, nil},
		{"padding present decodes", "GEZDGNBVGY3TQOJQGEZDGNBVGY======", sixteen, nil},
		{"padding absent decodes", "GEZDGNBVGY3TQOJQGEZDGNBVGY", sixteen, nil},
		{"padding followed by spaces decodes", "gezd gnbv gy3t qojq gezd gnbv gy== ==== ",
			sixteen, nil},
		{"exactly 10 bytes is long enough", "GEZDGNBVGY3TQOJQ", []byte("1234567890"), nil},
		{"exactly 128 bytes is not too long", b32.EncodeToString(longest), longest, nil},
		{"9 bytes is too short", "GEZDGNBVGY3TQOI", nil, ErrSecretTooShort},
		{"9 bytes with padding is too short", "GEZDGNBVGY3TQOI=", nil, ErrSecretTooShort},
		{"129 bytes is too long", b32.EncodeToString(tooLong), nil, ErrInvalidSecret},
		{"a megabyte of base32 is too long", strings.Repeat("A", 1<<20), nil,
			ErrInvalidSecret},
		{"the digit 1 is not base32", "JBSWY3DPEHPK3PX1", nil, ErrInvalidSecret},
		{"the digit 0 is not base32", "JBSWY3DP0HPK3PXP", nil, ErrInvalidSecret},
		{"an accented letter is not base32", "JBSWY3DPÉHPK3PXP", nil, ErrInvalidSecret},
		{"an underscore is not a separator", "JBSW_Y3DP_EHPK_3PXP", nil, ErrInvalidSecret},
		{"padding in the middle is refused", "JBSWY3DP=EHPK3PXP", nil, ErrInvalidSecret},
		{"a length no bytes encode to is refused", "GEZDGNBVGY3TQOJQG", nil,
			ErrInvalidSecret},
		{"an empty secret is refused", "", nil, ErrInvalidSecret},
		{"a secret of only spaces and hyphens is refused", " - - ", nil, ErrInvalidSecret},
		{"padding alone is refused", "========", nil, ErrInvalidSecret},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := ParseSecret(tt.text)
			assertSentinel(t, err, tt.err)
			assertNoEcho(t, err, tt.text)
			assertNoEcho(t, err, strings.ToUpper(strings.TrimSpace(tt.text)))

			if !bytes.Equal(got, tt.want) {
				t.Errorf("ParseSecret = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestParseSecretErrorsSayWhereButNotWhat(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		text string
		want string
	}{
		{"a bad character is counted from 1", "JBSWY3DPEHPK3PX1", "character 16 "},
		{"spaces count as characters", "jbsw y3dp ehpk 3px!", "character 19 "},
		{"a non-ASCII space counts as one character", "\u00a0\u00a0JBSWY3DPEHPK3PX8",
			"character 18 "},
		{"a short secret gives its decoded length", "GEZDGNBVGY3TQOI", "decodes to 9 bytes"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := ParseSecret(tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v does not say %q", err, tt.want)
			}
		})
	}
}

func TestParseSecretErrorsDoNotTellWhichCharacterWasBad(t *testing.T) {
	t.Parallel()

	_, first := ParseSecret("JBSWY3DPEHPK3PX1")
	for _, bad := range []string{"0", "8", "9", "!", "é", "_", "\x00"} {
		t.Run("the text for "+strconv.Quote(bad)+" is the text for 1", func(t *testing.T) {
			_, err := ParseSecret("JBSWY3DPEHPK3PX" + bad)
			if err == nil || err.Error() != first.Error() {
				t.Fatalf("error %q differs from %q", err, first)
			}
		})
	}
}
