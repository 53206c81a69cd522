package access

import (
	"errors"
	"fmt"
	"path"
	"unicode"
	"unicode/utf8"
)

// maxScope is the longest scope in characters; the longest name is as long.
const maxScope = 128

// CheckScope reports whether pattern is a usable runner scope: 1 to 128
// characters, none of them control characters, in Go path.Match syntax. The
// error is written for an API client: it says what is wrong and how to fix it.
func CheckScope(pattern string) error {
	if pattern == "" {
		return errors.New(`scope is empty; give an endpoint name or a glob such as "o365-*"`)
	}

	if !utf8.ValidString(pattern) {
		return errors.New("scope is not valid UTF-8; endpoint names use only A-Z a-z 0-9 . _ -")
	}

	if n := utf8.RuneCountInString(pattern); n > maxScope {
		return fmt.Errorf("scope is %d characters long; shorten it to at most %d", n, maxScope)
	}

	for i, r := range []rune(pattern) {
		if unicode.IsControl(r) {
			return fmt.Errorf("scope has a control character at position %d; remove it", i+1)
		}
	}

	// path.Match checks the rest of the pattern even after the name stops
	// matching, so any name shows up a malformed pattern.
	if _, err := path.Match(pattern, ""); err != nil {
		return errors.New(`scope is not a valid glob: each "[...]" needs at least one ` +
			`character and a closing "]", and a "\" must not end the scope (Go path.Match syntax)`)
	}

	return nil
}

// Permits reports whether any of scopes matches name under path.Match. No
// scopes permit nothing. A malformed scope, which CheckScope keeps out of the
// store, matches nothing rather than failing the request.
func Permits(scopes []string, name string) bool {
	for _, scope := range scopes {
		if ok, err := path.Match(scope, name); ok && err == nil {
			return true
		}
	}

	return false
}
