package access

import (
	"strings"
	"testing"
)

func TestCheckScope(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		says    string // part of the error; empty when the scope is good
	}{
		{"a prefix glob is good", "o365-*", ""},
		{"a character class is good", "[a-c]*", ""},
		{"an exact name is good", "exact-name", ""},
		{"a negated class and a '?' are good", "[^x]?-eu.*", ""},
		{"an escaped star is good", `literal\*`, ""},
		{"128 characters are good", strings.Repeat("a", 128), ""},
		{"128 non-ASCII characters are good", strings.Repeat("é", 128), ""},
		{"an empty scope is refused", "", "empty"},
		{"an unclosed class is refused", "[", "not a valid glob"},
		{"an empty class is refused", "o365-[]", "not a valid glob"},
		{"a trailing backslash is refused", `a\`, "not a valid glob"},
		{"129 characters are refused", strings.Repeat("a", 129), "129 characters"},
		{"a newline is refused", "o365-*\n", "control character at position 7"},
		{"a NUL is refused", "a\x00b", "control character at position 2"},
		{"a C1 control is refused", "a\u0085", "control character"},
		{"invalid UTF-8 is refused", "o365-\xff", "UTF-8"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckScope(tt.pattern)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("CheckScope(%q) = %v, want nil", tt.pattern, err)
				}
				return
			}

			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("CheckScope(%q) = %v, want an error saying %q", tt.pattern, err, tt.says)
			}
		})
	}
}

func TestPermits(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		target string
		want   bool
	}{
		{"no scopes permit nothing", nil, "o365-alice", false},
		{"an empty scope list permits nothing", []string{}, "o365-alice", false},
		{"an exact scope permits its name", []string{"o365-alice"}, "o365-alice", true},
		{"an exact scope refuses a longer name", []string{"o365-alice"}, "o365-alice2", false},
		{"a star permits any rest of the name", []string{"o365-*"}, "o365-alice", true},
		{"a star must still match the whole name", []string{"o365-*"}, "eu-o365-alice", false},
		{"any of several scopes can permit", []string{"gsuite-*", "o365-*"}, "o365-bob", true},
		{"none of several scopes may permit", []string{"gsuite-*", "okta-*"}, "o365-bob", false},
		{"a '?' stands for one character", []string{"runner-?"}, "runner-7", true},
		{"a '?' does not stand for two", []string{"runner-?"}, "runner-42", false},
		{"a class permits a name in it", []string{"[a-c]*"}, "bob", true},
		{"a class refuses a name outside it", []string{"[a-c]*"}, "dave", false},
		{"a star crosses dots", []string{"o365-*"}, "o365-alice.eu.prod", true},
		{"a dot in a scope is literal", []string{"o365.eu"}, "o365-eu", false},
		{"a dotted name matches its exact scope", []string{"o365.eu"}, "o365.eu", true},
		{"a malformed scope permits nothing", []string{"["}, "[", false},
		{"a malformed scope does not block a good one", []string{"[", "o365-*"}, "o365-a", true},
		{"matching is case sensitive", []string{"O365-*"}, "o365-alice", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Permits(tt.scopes, tt.target); got != tt.want {
				t.Errorf("Permits(%q, %q) = %v, want %v", tt.scopes, tt.target, got, tt.want)
			}
		})
	}
}
