package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// createToken runs "token create" with args against the database at url
// and returns the value it printed.
func createToken(t *testing.T, url string, args ...string) string {
	t.Helper()

	args = append([]string{"token", "create", "--database-url", url}, args...)
	r := run(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("%s: exit code %d; errOut:\n%s", strings.Join(args, " "), r.code, r.errOut)
	}

	value, ok := strings.CutSuffix(r.out, "\n")
	if !ok || value == "" || strings.Contains(value, "\n") {
		t.Fatalf("token create printed %q; want one line", r.out)
	}
	if strings.Contains(r.errOut, value) {
		t.Errorf("token create wrote the token on errOut:\n%s", r.errOut)
	}
	return value
}

// lookUpToken returns the stored token whose value is value.
func lookUpToken(t *testing.T, url, value string) store.Token {
	t.Helper()

	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	tok, err := db.TokenByHash(t.Context(), access.Hash(value))
	if err != nil {
		t.Fatalf("look the printed token up: %v", err)
	}
	return tok
}

func TestTokenCreateMakesTokensThatWork(t *testing.T) {
	t.Parallel()

	url := pgtest.NewDatabase(t)
	admin := createToken(t, url, "--name", "ops", "--role", "admin")

	t.Run("an admin token lets one in and serve mints no other", func(t *testing.T) {
		s := startServe(t, map[string]string{
			"TOTPVAULT_DATABASE_URL": url,
			"TOTPVAULT_MASTER_KEY":   newMasterKey(t),
		})

		if status := listEndpoints(t, s, admin); status != http.StatusOK {
			t.Errorf("GET /v1/endpoints with it: %d; want 200", status)
		}
		if status, _ := get(t, s.url+"/v1/tokens", admin); status != http.StatusOK {
			t.Errorf("GET /v1/tokens, which needs an admin, with it: %d; want 200", status)
		}
		if _, _, printed := bootstrapToken(s.errOut.String()); printed {
			t.Errorf("serve printed a bootstrap token although an admin token exists:\n%s",
				s.errOut)
		}
		assertNoTokenInLog(t, s.errOut.String(), s.errOut.String(), admin)
	})

	t.Run("a runner token is stored with its name, scopes and expiry", func(t *testing.T) {
		before := time.Now()
		runner := createToken(t, url, "--name", "eu-runners", "--role", "runner",
			"--scope", "o365-*", "--scope", "azure-*", "--ttl", "720h")

		tok := lookUpToken(t, url, runner)

		if tok.Name != "eu-runners" || tok.Role != store.RoleRunner {
			t.Errorf("stored name %q role %q; want eu-runners runner", tok.Name, tok.Role)
		}
		if !slices.Equal(tok.Scopes, []string{"o365-*", "azure-*"}) {
			t.Errorf("stored scopes %q; want [o365-* azure-*]", tok.Scopes)
		}
		if lifetime := tok.ExpiresAt.Sub(before); lifetime < 720*time.Hour || lifetime > 721*time.Hour {
			t.Errorf("expires %v after the command started; want 720h", lifetime)
		}
	})

	t.Run("two runs print different tokens", func(t *testing.T) {
		other := createToken(t, url, "--name", "ops", "--role", "admin")

		if other == admin {
			t.Errorf("token create printed %q twice", other)
		}
	})
}

func TestTokenCreateRefusesBadFlags(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
		says string
	}{
		{"a runner without a scope is refused", []string{"--name", "r", "--role", "runner"},
			"a runner token needs 1 to"},
		{"an admin with a scope is refused", []string{"--name", "a", "--role", "admin", "--scope", "x-*"},
			"admin tokens reach every endpoint"},
		{"a missing name is refused", []string{"--role", "admin"},
			"--name"},
		{"a missing role is refused", []string{"--name", "ops"},
			`role must be "admin" or "runner"`},
		{"a negative lifetime is refused", []string{"--name", "ops", "--role", "admin", "--ttl", "-1h"},
			"--ttl must not be negative"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			args := append([]string{"token", "create", "--database-url", unreachableDatabase},
				tt.args...)
			r := run(t, nil, args...)

			if r.code != 1 {
				t.Errorf("exit code %d; want 1", r.code)
			}
			if !strings.Contains(r.errOut, tt.says) {
				t.Errorf("errOut does not say %q:\n%s", tt.says, r.errOut)
			}
			if r.out != "" {
				t.Errorf("out = %q; want no token", r.out)
			}
		})
	}
}
