package totp

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TestAgreesWithPquernaOTP compares At with pquerna/otp's HOTP over random secrets of
// every length class, every algorithm and length of code, and counters near both ends
// of their range.
func TestAgreesWithPquernaOTP(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(6238, 4226))
	algorithms := map[Algorithm]otp.Algorithm{
		SHA1: otp.AlgorithmSHA1, SHA256: otp.AlgorithmSHA256, SHA512: otp.AlgorithmSHA512,
	}

	for a, theirs := range algorithms {
		for digits := MinDigits; digits <= MaxDigits; digits++ {
			t.Run(fmt.Sprintf("%s with %d digits matches pquerna/otp", a, digits), func(t *testing.T) {
				for range 200 {
					k := randomKey(rng, a, digits)
					counter := rng.Uint64N(lastCounter(k.Period))
					assertSameAsPquerna(t, k, counter, theirs)
				}
			})
		}
	}
}

// randomKey returns a valid key with a secret of random length and bytes.
func randomKey(rng *rand.Rand, a Algorithm, digits int) Key {
	secret := make([]byte, MinSecretBytes+rng.IntN(MaxSecretBytes-MinSecretBytes+1))
	for i := range secret {
		secret[i] = byte(rng.Uint32())
	}
	return Key{Secret: secret, Algorithm: a, Digits: digits, Period: DefaultPeriod}
}

// assertSameAsPquerna checks the code of k at counter against pquerna/otp's.
func assertSameAsPquerna(t *testing.T, k Key, counter uint64, a otp.Algorithm) {
	t.Helper()

	want, err := hotp.GenerateCodeCustom(b32.EncodeToString(k.Secret), counter,
		hotp.ValidateOpts{Digits: otp.Digits(k.Digits), Algorithm: a})
	if err != nil {
		t.Fatalf("pquerna/otp: %v", err)
	}

	got, err := k.At(counter)
	if err != nil {
		t.Fatalf("At(%d): %v", counter, err)
	}
	if got.Value != want {
		t.Fatalf("%d-byte %s secret at step %d: got %s, pquerna/otp %s",
			len(k.Secret), k.Algorithm, counter, got.Value, want)
	}
}
