package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

func TestKeygenPrintsAFreshKey(t *testing.T) {
	t.Parallel()

	first := keygen(t)
	second := keygen(t)

	if first == second {
		t.Errorf("two runs printed the same key %q", first)
	}
}

// keygen runs keygen, checks it printed one key that keyring.ParseKey
// accepts, and returns it.
func keygen(t *testing.T) string {
	t.Helper()

	r := run(t, nil, "keygen")
	if r.code != 0 {
		t.Fatalf("keygen: exit code %d; want 0; errOut:\n%s", r.code, r.errOut)
	}

	key, ok := strings.CutSuffix(r.out, "\n")
	if !ok || key == "" || strings.Contains(key, "\n") {
		t.Fatalf("keygen printed %q; want one line", r.out)
	}
	if _, err := keyring.ParseKey(key); err != nil {
		t.Fatalf("keygen printed %q, which ParseKey refuses: %v", key, err)
	}
	return key
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
		says string
	}{
		{"an unknown command exits 2 with the usage", []string{"frobnicate"},
			"usage: totpvault [command]"},
		{"keygen with an argument exits 2 instead of printing a key", []string{"keygen", "master.key"},
			`unexpected argument "master.key"`},
		{"keygen with an unknown flag exits 2", []string{"keygen", "--out", "master.key"},
			"usage: totpvault keygen"},
		{"token without a subcommand exits 2 with its usage", []string{"token"},
			"usage: totpvault token create"},
		{"token with an unknown subcommand exits 2 with its usage", []string{"token", "delete"},
			"usage: totpvault token create"},
		{"serve with a stray argument exits 2", []string{"serve", "now"},
			`unexpected argument "now"`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r := run(t, nil, tt.args...)

			if r.code != 2 {
				t.Errorf("exit code %d; want 2", r.code)
			}
			if !strings.Contains(r.errOut, tt.says) {
				t.Errorf("errOut does not say %q:\n%s", tt.says, r.errOut)
			}
			if r.out != "" {
				t.Errorf("out = %q; want nothing", r.out)
			}
		})
	}
}

func TestUnknownCommandListsTheCommands(t *testing.T) {
	t.Parallel()

	r := run(t, nil, "frobnicate")

	wants := []string{`unknown command "frobnicate"`, "serve", "migrate", "keygen", "token"}
	for _, want := range wants {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("errOut does not mention %s:\n%s", want, r.errOut)
		}
	}
}

func TestMigrateBringsAFreshDatabaseToTheCurrentSchema(t *testing.T) {
	t.Parallel()

	url := pgtest.NewDatabase(t)

	for _, attempt := range []string{"first", "second"} {
		r := run(t, nil, "migrate", "--database-url", url)

		if r.code != 0 {
			t.Fatalf("%s migrate: exit code %d; errOut:\n%s", attempt, r.code, r.errOut)
		}
		if r.out != "the database schema is current\n" {
			t.Errorf("%s migrate printed %q", attempt, r.out)
		}
	}

	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(t.Context()); err != nil {
		t.Errorf("after migrate the store is not ready: %v", err)
	}
}

func TestMigrateWithoutADatabaseURLMigratesTheEmbeddedStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "migrate")

	if r.code != 0 {
		t.Fatalf("exit code %d; want 0:\n%s", r.code, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, embeddedFile)); err != nil {
		t.Errorf("no embedded store in %s: %v", dir, err)
	}
}
