package api

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/totpvault/totpvault/internal/store"
)

// Limits on what an endpoint carries besides its secret.
const (
	maxLabels      = 32
	maxLabelKeyLen = 63
	maxTextLen     = 255
)

// checkName refuses a name that cannot be an endpoint's.
func checkName(name string) error {
	if store.ValidName(name) {
		return nil
	}
	return fail(codeInvalidName, fmt.Sprintf(
		"name must be 1 to %d characters of A-Z a-z 0-9 . _ -, starting with a letter "+
			"or digit (got %d characters)", store.MaxNameLen, len(name)))
}

// checkText refuses a descriptive field that is too long or holds control
// characters.
func checkText(field, s string) error {
	if utf8.RuneCountInString(s) > maxTextLen {
		return fail(codeInvalidRequest, fmt.Sprintf(
			"%s must be at most %d characters", field, maxTextLen))
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fail(codeInvalidRequest, fmt.Sprintf(
			"%s must be UTF-8 text without control characters", field))
	}
	return nil
}

// checkLabels refuses a label map over the limits.
func checkLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return fail(codeInvalidRequest, fmt.Sprintf(
			"labels may hold at most %d pairs (got %d)", maxLabels, len(labels)))
	}

	for k, v := range labels {
		if err := checkLabelKey(k); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("label %q", k), v); err != nil {
			return err
		}
	}
	return nil
}

// checkLabelKey refuses a key that could not be matched by ?label=key:value.
func checkLabelKey(k string) error {
	n := utf8.RuneCountInString(k)
	if n == 0 || n > maxLabelKeyLen || strings.Contains(k, ":") {
		return fail(codeInvalidRequest, fmt.Sprintf(
			"label keys must be 1 to %d characters without ':' (%q is not)",
			maxLabelKeyLen, truncate(k, 64)))
	}
	return checkText("a label key", k)
}
