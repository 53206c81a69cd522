package totp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"math"
	"time"
)

// Code is the code of one time step.
type Code struct {
	// Counter is the time step T of RFC 6238, floor(unix time / period).
	Counter uint64

	// Value is the code, zero-padded to the key's Digits.
	Value string

	// ValidFrom is the start of the time step, Counter*Period seconds after the epoch, in
	// UTC.
	ValidFrom time.Time

	// ValidUntil is the end of the time step and the start of the next one, in UTC.
	ValidUntil time.Time
}

// Counter returns the time step that holds t. A time before 1970 is in step 0, and so is
// every time for a key whose Period is not positive (which Validate refuses).
func (k Key) Counter(t time.Time) uint64 {
	sec := t.Unix()
	if sec < 0 || k.Period <= 0 {
		return 0
	}

	return uint64(sec) / uint64(k.Period)
}

// At returns the code of time step counter. It fails with the error of Validate when k
// does not validate, and with an error wrapping ErrInvalidParameter when the step would
// end past the largest Unix time in seconds that an int64 holds.
func (k Key) At(counter uint64) (Code, error) {
	if err := k.check(counter); err != nil {
		return Code{}, err
	}

	mac := k.mac()
	return k.code(&mac, counter), nil
}

// AtAndNext returns the codes of time step counter and of the step after it, as two
// calls of At would, with one HMAC key schedule for both: what every code read needs.
func (k Key) AtAndNext(counter uint64) (current, next Code, err error) {
	if err := k.check(counter + 1); err != nil {
		return Code{}, Code{}, err
	}

	mac := k.mac()
	return k.code(&mac, counter), k.code(&mac, counter+1), nil
}

// check returns the error that At gives for k and counter, if any.
func (k Key) check(counter uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}

	if counter > lastCounter(k.Period) {
		return fail(ErrInvalidParameter, "time step %d is too far in the future", counter)
	}
	return nil
}

// code returns the code of step counter for a valid k, computed with mac.
func (k Key) code(mac *macKey, counter uint64) Code {
	from := time.Unix(int64(counter)*int64(k.Period), 0).UTC()

	return Code{
		Counter:    counter,
		Value:      k.value(mac, counter),
		ValidFrom:  from,
		ValidUntil: from.Add(time.Duration(k.Period) * time.Second),
	}
}

// lastCounter is the last time step whose end, in Unix seconds, fits an int64.
func lastCounter(period int) uint64 {
	return uint64(math.MaxInt64/int64(period)) - 1
}

// Verify reports whether code is the code of the time step that holds t, or of the step
// before or after it, and at which offset it matched: -1, 0 or +1. The current step wins
// when several match, then the one before. A code that is not exactly Digits ASCII
// decimal digits (one padded with spaces, say) never matches, nor does any code of a key
// that does not validate. The three codes are all computed and compared in constant
// time, so the time taken does not tell which step, if any, matched.
func (k Key) Verify(code string, t time.Time) (offset int, ok bool) {
	if k.Validate() != nil || !isCode(code, k.Digits) {
		return 0, false
	}

	current, mac := k.Counter(t), k.mac()
	previous := k.matches(&mac, code, current, -1)
	now := k.matches(&mac, code, current, 0)
	next := k.matches(&mac, code, current, +1)

	switch {
	case now:
		return 0, true
	case previous:
		return -1, true
	case next:
		return +1, true
	}

	return 0, false
}

// matches reports in constant time whether code is the code of step current+offset. A
// step before 0 or past lastCounter does not exist and matches nothing.
func (k Key) matches(mac *macKey, code string, current uint64, offset int) bool {
	if (offset < 0 && current == 0) || (offset > 0 && current >= lastCounter(k.Period)) {
		return false
	}

	want := k.value(mac, current+uint64(int64(offset)))
	return subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
}

// isCode reports whether code is exactly digits ASCII decimal digits.
func isCode(code string, digits int) bool {
	if len(code) != digits {
		return false
	}

	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}

	return true
}

// mac returns the HMAC key of a valid k.
func (k Key) mac() macKey {
	return newMACKey(k.Algorithm, k.Secret)
}

// value computes the code of step counter for a valid k, with mac: the HOTP value of RFC 4226,
// section 5.3, the dynamic truncation of HMAC(secret, counter) to Digits decimal
// digits. It is computed here rather than through pquerna/otp, which takes the secret
// as base32 and decodes it again on every call: on the path of every code read that
// cost as much as the HMACs themselves. The tests hold it to the RFC's vectors, to
// oathtool and to pquerna/otp.
func (k Key) value(mac *macKey, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)

	var out [sha512.Size]byte
	sum := mac.sum(msg[:], &out)

	offset := sum[len(sum)-1] & 0x0f
	truncated := binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff

	return decimal(truncated, k.Digits)
}

// macKey is a secret made ready for HMAC (RFC 2104) with one algorithm: the
// inner and outer padded keys. crypto/hmac would do the same work, but
// allocates its hash states on every code read; sum works on the stack.
type macKey struct {
	alg        Algorithm
	block      int
	ipad, opad [sha512.BlockSize]byte
}

// newMACKey pads secret, or its digest when it is longer than a block, to
// the block size of alg, and XORs it with RFC 2104's ipad and opad.
func newMACKey(alg Algorithm, secret []byte) macKey {
	m := macKey{alg: alg, block: alg.blockSize()}
	if len(secret) > m.block {
		var d [sha512.Size]byte
		secret = alg.digest(&d, secret)
	}

	for i := range m.block {
		var b byte
		if i < len(secret) {
			b = secret[i]
		}
		m.ipad[i], m.opad[i] = b^0x36, b^0x5c
	}
	return m
}

// sum returns HMAC(key, msg) = H(opad || H(ipad || msg)) in out, for a msg
// of at most 8 bytes (a counter).
func (m *macKey) sum(msg []byte, out *[sha512.Size]byte) []byte {
	var buf [sha512.BlockSize + sha512.Size]byte

	n := copy(buf[:], m.ipad[:m.block])
	n += copy(buf[n:], msg)
	inner := m.alg.digest(out, buf[:n])

	n = copy(buf[:], m.opad[:m.block])
	n += copy(buf[n:], inner)
	return m.alg.digest(out, buf[:n])
}

// digest returns the hash of data under a valid a, in out.
func (a Algorithm) digest(out *[sha512.Size]byte, data []byte) []byte {
	switch a {
	case SHA256:
		d := sha256.Sum256(data)
		return out[:copy(out[:], d[:])]
	case SHA512:
		d := sha512.Sum512(data)
		return out[:copy(out[:], d[:])]
	default:
		d := sha1.Sum(data)
		return out[:copy(out[:], d[:])]
	}
}

// blockSize returns the block size of the hash of a valid a.
func (a Algorithm) blockSize() int {
	if a == SHA512 {
		return sha512.BlockSize
	}
	return sha1.BlockSize
}

// decimal returns the last digits decimal digits of v, zero-padded.
func decimal(v uint32, digits int) string {
	var b [MaxDigits]byte
	for i := digits - 1; i >= 0; i-- {
		b[i] = '0' + byte(v%10)
		v /= 10
	}
	return string(b[:digits])
}
