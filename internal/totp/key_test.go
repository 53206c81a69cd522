package totp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
	"testing/iotest"
)

func TestParseAlgorithm(t *testing.T) {
	t.Parallel()

	tests := []struct {
		text string
		want Algorithm
		err  error
	}{
		{"SHA1", SHA1, nil},
		{"sha1", SHA1, nil},
		{"Sha256", SHA256, nil},
		{"sha512", SHA512, nil},
		{"MD5", "", ErrInvalidParameter},
		{"SHA-256", "", ErrInvalidParameter},
		{" SHA1", "", ErrInvalidParameter},
		{"", "", ErrInvalidParameter},
	}

	for _, tt := range tests {
		t.Run(strconv.Quote(tt.text)+" gives "+strconv.Quote(string(tt.want)), func(t *testing.T) {
			t.Parallel()

			got, err := ParseAlgorithm(tt.text)
			assertSentinel(t, err, tt.err)

			if got != tt.want {
				t.Errorf("ParseAlgorithm = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFromSecret(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		p    Params
		want Key
		err  error
	}{
		{"no params give the defaults", Params{},
			Key{Secret: hello, Algorithm: SHA1, Digits: 6, Period: 30}, nil},
		{"explicit params are kept, the algorithm in any case",
			Params{Issuer: "ACME", Account: "alice", Algorithm: "sha512", Digits: 8, Period: 60},
			Key{hello, "ACME", "alice", SHA512, 8, 60}, nil},
		{"seven digits are allowed", Params{Digits: 7},
			Key{Secret: hello, Algorithm: SHA1, Digits: 7, Period: 30}, nil},
		{"the shortest and longest periods are allowed", Params{Period: MinPeriod},
			Key{Secret: hello, Algorithm: SHA1, Digits: 6, Period: 10}, nil},
		{"issuer and account lose surrounding spaces",
			Params{Issuer: " ACME Co ", Account: "\talice\n"},
			Key{hello, "ACME Co", "alice", SHA1, 6, 30}, nil},
		{"an unknown algorithm is refused", Params{Algorithm: "MD5"}, Key{},
			ErrInvalidParameter},
		{"5 digits are refused", Params{Digits: 5}, Key{}, ErrInvalidParameter},
		{"9 digits are refused", Params{Digits: 9}, Key{}, ErrInvalidParameter},
		{"negative digits are refused", Params{Digits: -6}, Key{}, ErrInvalidParameter},
		{"a 9-second period is refused", Params{Period: 9}, Key{}, ErrInvalidParameter},
		{"a 301-second period is refused", Params{Period: 301}, Key{}, ErrInvalidParameter},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := FromSecret("JBSWY3DPEHPK3PXP", tt.p)
			assertSentinel(t, err, tt.err)

			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromSecret = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFromSecretJudgesTheSecretFirst(t *testing.T) {
	t.Parallel()

	_, err := FromSecret("GEZDGNBVGY3TQOI", Params{Digits: 9})
	assertSentinel(t, err, ErrSecretTooShort)
}

func TestGenerate(t *testing.T) {
	t.Parallel()

	t.Run("the secret is the first 20 bytes of rand", func(t *testing.T) {
		random := bytes.Repeat([]byte{1, 2, 3, 4, 5}, 10)

		k, err := Generate(bytes.NewReader(random), Params{Account: "alice", Digits: 8})
		assertSentinel(t, err, nil)

		want := Key{random[:GeneratedSecretBytes], "", "alice", SHA1, 8, 30}
		if !reflect.DeepEqual(k, want) {
			t.Errorf("Generate = %+v, want %+v", k, want)
		}
	})

	t.Run("a bad param is refused", func(t *testing.T) {
		_, err := Generate(bytes.NewReader(make([]byte, 20)), Params{Period: 1})
		assertSentinel(t, err, ErrInvalidParameter)
	})

	t.Run("a failing rand is a server fault, not a sentinel", func(t *testing.T) {
		broken := errors.New("entropy exhausted")

		_, err := Generate(iotest.ErrReader(broken), Params{})
		if !errors.Is(err, broken) || countSentinels(err) != 0 {
			t.Fatalf("error %v should wrap the reader's error and no sentinel", err)
		}
	})

	t.Run("a rand that runs dry is a server fault", func(t *testing.T) {
		_, err := Generate(bytes.NewReader(make([]byte, 19)), Params{})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error %v should wrap io.ErrUnexpectedEOF", err)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()

	valid := Key{hello, "ACME", "alice", SHA256, 8, 60}
	change := func(f func(*Key)) Key {
		k := valid
		f(&k)
		return k
	}

	tests := []struct {
		name string
		key  Key
		err  error
	}{
		{"a complete key is valid", valid, nil},
		{"an empty issuer and account are valid",
			change(func(k *Key) { k.Issuer, k.Account = "", "" }), nil},
		{"the zero key has too short a secret", Key{}, ErrSecretTooShort},
		{"a 9-byte secret is too short", change(func(k *Key) { k.Secret = hello[:9] }),
			ErrSecretTooShort},
		{"a 129-byte secret is invalid",
			change(func(k *Key) { k.Secret = make([]byte, MaxSecretBytes+1) }), ErrInvalidSecret},
		{"a lower-case algorithm is not canonical",
			change(func(k *Key) { k.Algorithm = "sha256" }), ErrInvalidParameter},
		{"an empty algorithm is invalid", change(func(k *Key) { k.Algorithm = "" }),
			ErrInvalidParameter},
		{"0 digits are invalid", change(func(k *Key) { k.Digits = 0 }), ErrInvalidParameter},
		{"a 0-second period is invalid", change(func(k *Key) { k.Period = 0 }),
			ErrInvalidParameter},
		{"an issuer with a trailing space is invalid",
			change(func(k *Key) { k.Issuer = "ACME " }), ErrInvalidParameter},
		{"an account with a leading tab is invalid",
			change(func(k *Key) { k.Account = "\talice" }), ErrInvalidParameter},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertSentinel(t, tt.key.Validate(), tt.err)
		})
	}
}
