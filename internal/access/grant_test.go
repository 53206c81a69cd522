package access

import "testing"

func TestCheckGrant(t *testing.T) {
	many := make([]string, MaxScopes+1)
	for i := range many {
		many[i] = "o365-*"
	}

	tests := []struct {
		name   string
		role   string
		scopes []string
		ok     bool
	}{
		{"an admin without scopes is accepted", RoleAdmin, nil, true},
		{"an admin with scopes is refused", RoleAdmin, []string{"o365-*"}, false},
		{"a runner with one scope is accepted", RoleRunner, []string{"o365-*"}, true},
		{"a runner with the most scopes is accepted", RoleRunner, many[:MaxScopes], true},
		{"a runner with too many scopes is refused", RoleRunner, many, false},
		{"a runner without scopes is refused", RoleRunner, nil, false},
		{"a runner with a bad glob is refused", RoleRunner, []string{"o365-*", "["}, false},
		{"an unknown role is refused", "owner", nil, false},
		{"an empty role is refused", "", nil, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckGrant(tt.role, tt.scopes)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckGrant(%q, %d scopes) = %v, want ok=%v", tt.role, len(tt.scopes), err, tt.ok)
			}
		})
	}
}

func TestCheckTokenName(t *testing.T) {
	long := make([]byte, MaxTokenName+1)
	for i := range long {
		long[i] = 'a'
	}

	tests := []struct {
		name  string
		value string
		ok    bool
	}{
		{"a plain name is accepted", "eu-runners", true},
		{"spaces and accents are accepted", "équipe de nuit", true},
		{"the longest name is accepted", string(long[:MaxTokenName]), true},
		{"an empty name is refused", "", false},
		{"a name one too long is refused", string(long), false},
		{"a newline is refused", "a\nb", false},
		{"invalid UTF-8 is refused", "a\xffb", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckTokenName(tt.value); (err == nil) != tt.ok {
				t.Fatalf("CheckTokenName(%q) = %v, want ok=%v", tt.value, err, tt.ok)
			}
		})
	}
}
