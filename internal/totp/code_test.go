package totp

import (
	"errors"
	"math"
	"testing"
	"time"
)

// rfcKey is the SHA1 key of RFC 6238 Appendix B.
func rfcKey() Key {
	return Key{Secret: rfcSeed(SHA1), Algorithm: SHA1, Digits: 8, Period: 30}
}

func TestCounter(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		period int
		at     time.Time
		want   uint64
	}{
		{"the epoch is step 0", 30, time.Unix(0, 0), 0},
		{"the last nanosecond of a step belongs to it", 30, time.Unix(29, 999999999), 0},
		{"a step's first instant belongs to it", 30, time.Unix(30, 0), 1},
		{"a 60-second period halves the step", 60, time.Unix(1111111109, 0), 18518518},
		{"a time before 1970 is step 0", 30, time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), 0},
		{"half a second before 1970 is step 0", 30, time.Unix(0, -500000000), 0},
		{"the zone of the time does not matter", 30,
			time.Unix(1111111109, 0).In(time.FixedZone("UTC+14", 14*3600)), 0x23523EC},
		{"a key without a period has only step 0", 0, time.Unix(1111111109, 0), 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			k := Key{Period: tt.period}
			if got := k.Counter(tt.at); got != tt.want {
				t.Errorf("Counter = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAt(t *testing.T) {
	t.Parallel()

	t.Run("a 6-digit code keeps its leading zero", func(t *testing.T) {
		k := rfcKey()
		k.Digits = 6

		c, err := k.At(0x23523EC)
		assertSentinel(t, err, nil)

		if c.Value != "081804" {
			t.Errorf("code = %q, want 081804 (the last six digits of RFC's 07081804)", c.Value)
		}
	})

	t.Run("the step's bounds are in UTC and one period apart", func(t *testing.T) {
		k := rfcKey()
		k.Period = 60

		c, err := k.At(3)
		assertSentinel(t, err, nil)

		from, until := time.Unix(180, 0).UTC(), time.Unix(240, 0).UTC()
		if c.Counter != 3 || !c.ValidFrom.Equal(from) || !c.ValidUntil.Equal(until) {
			t.Errorf("At(3) = %+v, want step 3 from %v until %v", c, from, until)
		}

		if c.ValidFrom.Location() != time.UTC || c.ValidUntil.Location() != time.UTC {
			t.Errorf("bounds are in %v and %v, want UTC", c.ValidFrom.Location(),
				c.ValidUntil.Location())
		}
	})

	t.Run("the last step that fits a time is computed", func(t *testing.T) {
		k := rfcKey()

		c, err := k.At(lastCounter(k.Period))
		assertSentinel(t, err, nil)

		if c.ValidUntil.Unix() != math.MaxInt64/30*30 {
			t.Errorf("ValidUntil = %d, want %d", c.ValidUntil.Unix(), math.MaxInt64/30*30)
		}
	})

	t.Run("a step past the last is refused", func(t *testing.T) {
		k := rfcKey()

		_, err := k.At(lastCounter(k.Period) + 1)
		assertSentinel(t, err, ErrInvalidParameter)

		_, err = k.At(math.MaxUint64)
		assertSentinel(t, err, ErrInvalidParameter)
	})

	t.Run("an invalid key gives no code", func(t *testing.T) {
		_, err := Key{}.At(1)
		assertSentinel(t, err, ErrSecretTooShort)

		k := rfcKey()
		k.Digits = 10
		_, err = k.At(1)
		assertSentinel(t, err, ErrInvalidParameter)
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()

	k := rfcKey()
	step := k.Counter(time.Unix(1111111109, 0))
	start := time.Unix(int64(step)*30, 0)

	tests := []struct {
		name       string
		code       string
		at         time.Time
		wantOffset int
		wantOK     bool
	}{
		{"the current code matches at offset 0", "07081804", start, 0, true},
		{"the previous code matches at offset -1", codeOf(t, k, step-1), start, -1, true},
		{"the next code matches at offset +1", codeOf(t, k, step+1), start, +1, true},
		{"the code two steps back does not match", codeOf(t, k, step-2), start, 0, false},
		{"the code two steps ahead does not match", codeOf(t, k, step+2), start, 0, false},
		{"at the first instant of a step its code is current", "07081804", start, 0, true},
		{"at the last instant of a step its code is still current", "07081804",
			start.Add(30*time.Second - time.Nanosecond), 0, true},
		{"at the first instant of the next step the code is one step old", "07081804",
			start.Add(30 * time.Second), -1, true},
		{"just before a step begins its code is one step ahead", "07081804",
			start.Add(-time.Nanosecond), +1, true},
		{"a code with a leading space does not match", " 7081804", start, 0, false},
		{"a code with a trailing space does not match", "07081804 ", start, 0, false},
		{"a code with a space inside does not match", "0708 1804", start, 0, false},
		{"a code one digit short does not match", "7081804", start, 0, false},
		{"a code one digit long does not match", "070818040", start, 0, false},
		{"a code with a letter does not match", "0708180A", start, 0, false},
		{"a code of Arabic-Indic digits does not match", "٠٧٠٨١٨٠٤", start, 0, false},
		{"an empty code does not match", "", start, 0, false},
		{"a wrong code does not match", "12345678", start, 0, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			offset, ok := k.Verify(tt.code, tt.at)
			if offset != tt.wantOffset || ok != tt.wantOK {
				t.Errorf("Verify(%q) = %d, %v, want %d, %v", tt.code, offset, ok,
					tt.wantOffset, tt.wantOK)
			}
		})
	}
}

func TestVerifyAtTheEdges(t *testing.T) {
	t.Parallel()

	k := rfcKey()

	t.Run("at step 0 there is no step before", func(t *testing.T) {
		offset, ok := k.Verify(codeOf(t, k, 0), time.Unix(0, 0))
		if !ok || offset != 0 {
			t.Errorf("Verify = %d, %v, want 0, true", offset, ok)
		}

		if _, ok := k.Verify(codeOf(t, k, 1), time.Unix(0, 0)); !ok {
			t.Error("the code of step 1 should match at offset +1")
		}
	})

	t.Run("when two steps share a code the current one wins", func(t *testing.T) {
		// Steps 910737 and 910738 of the 6-digit RFC key both give 911617; found by
		// searching the first eight million steps.
		six := k
		six.Digits = 6
		assertSameCode(t, six, 910737, 910738, "911617")

		for _, step := range []int64{910737, 910738} {
			offset, ok := six.Verify("911617", time.Unix(step*30, 0))
			if !ok || offset != 0 {
				t.Errorf("in step %d: Verify = %d, %v, want 0, true", step, offset, ok)
			}
		}
	})

	t.Run("when the steps around share a code the one before wins", func(t *testing.T) {
		// Steps 153567 and 153569 of the 6-digit RFC key both give 468457, and step
		// 153568 does not.
		six := k
		six.Digits = 6
		assertSameCode(t, six, 153567, 153569, "468457")

		offset, ok := six.Verify("468457", time.Unix(153568*30, 0))
		if !ok || offset != -1 {
			t.Errorf("Verify = %d, %v, want -1, true", offset, ok)
		}
	})

	t.Run("an invalid key matches nothing", func(t *testing.T) {
		bad := k
		bad.Algorithm = "MD5"

		if _, ok := bad.Verify(codeOf(t, k, 1), time.Unix(30, 0)); ok {
			t.Error("a key with a bad algorithm verified a code")
		}
	})
}

// assertSameCode checks that steps a and b of k both give code.
func assertSameCode(t *testing.T, k Key, a, b uint64, code string) {
	t.Helper()

	if codeOf(t, k, a) != code || codeOf(t, k, b) != code {
		t.Fatalf("steps %d and %d do not both give %s", a, b, code)
	}
}

// codeOf returns the code of step counter of k.
func codeOf(t *testing.T, k Key, counter uint64) string {
	t.Helper()

	c, err := k.At(counter)
	if err != nil {
		t.Fatalf("At(%d): %v", counter, err)
	}

	return c.Value
}

func TestAtAndNextIsAtOfTwoSteps(t *testing.T) {
	t.Parallel()

	for _, a := range []Algorithm{SHA1, SHA256, SHA512} {
		k := Key{Secret: rfcSeed(a), Algorithm: a, Digits: 8, Period: 30}
		for _, counter := range []uint64{0, 1, 59102640, lastCounter(30) - 1} {
			cur, next, err := k.AtAndNext(counter)
			if err != nil {
				t.Fatalf("%s AtAndNext(%d): %v", a, counter, err)
			}
			wantCur, _ := k.At(counter)
			wantNext, _ := k.At(counter + 1)
			if cur != wantCur || next != wantNext {
				t.Errorf("%s AtAndNext(%d) = %+v, %+v; want %+v, %+v",
					a, counter, cur, next, wantCur, wantNext)
			}
		}
	}

	k := Key{Secret: rfcSeed(SHA1), Algorithm: SHA1, Digits: 6, Period: 30}
	if _, _, err := k.AtAndNext(lastCounter(30)); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("AtAndNext of the last step = %v, want ErrInvalidParameter: its next step "+
			"does not exist", err)
	}
}
