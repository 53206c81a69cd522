package store

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"o365-alice", true},
		{"a", true},
		{"9lives", true},
		{"Bank_Portal.eu-1", true},
		{strings.Repeat("a", MaxNameLen), true},
		{strings.Repeat("a", MaxNameLen+1), false},
		{"", false},
		{"-leading-hyphen", false},
		{".hidden", false},
		{"_under", false},
		{"has space", false},
		{"slash/inside", false},
		{"colon:inside", false},
		{"ümlaut", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidName(tt.name); got != tt.ok {
				t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.ok)
			}
		})
	}
}

func TestNewIDsSortByCreation(t *testing.T) {
	prev := NewID()
	for range 100 {
		id := NewID()
		if id <= prev {
			t.Fatalf("%s does not sort after %s", id, prev)
		}
		prev = id
	}
}
