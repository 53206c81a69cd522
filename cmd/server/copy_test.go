package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// targetRows counts the endpoints, tokens and audit events in the
// PostgreSQL database at url, migrating it first so that a copy that
// stopped before its migration counts as empty too.
func targetRows(t *testing.T, url string) int {
	t.Helper()

	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())

	var n int
	err = conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM endpoints) +
		(SELECT count(*) FROM tokens) + (SELECT count(*) FROM audit_events)`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// execOnStore runs a statement on the embedded store file in dir, which no
// server may hold open.
func execOnStore(t *testing.T, dir, statement string, args ...any) {
	t.Helper()

	db, err := sql.Open("sqlite", filepath.Join(dir, embeddedFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	if _, err := db.ExecContext(t.Context(), statement, args...); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// populatedStore starts serve on an embedded store in a fresh folder,
// enrolls names there and stops it. It returns the folder and the admin
// token.
func populatedStore(t *testing.T, names ...string) (dir, admin string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")

	s, admin := startEmbedded(t, dir)
	for _, name := range names {
		enrollKnown(t, s, admin, name)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	return dir, admin
}

func TestCopyRefusesWhereNoEmbeddedStoreIs(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		setUp func(t *testing.T, dir string)
	}{
		{"a data folder that does not exist is not made", func(*testing.T, string) {}},
		{"an empty data folder is left empty", func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			tt.setUp(t, dir)
			before, _ := os.ReadDir(dir)

			r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir},
				"copy", "--to", unreachableDatabase)

			want := "no embedded store at " + filepath.Join(dir, embeddedFile) +
				"; run copy where the server's data folder is or set --data-dir"
			if r.code != 1 || !strings.Contains(r.errOut, want) {
				t.Errorf("exit %d, want 1 and %q:\n%s", r.code, want, r.errOut)
			}
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("copy made %d files in the data folder", len(after)-len(before))
			}
		})
	}
}

func TestAFailedCopyWritesNothing(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		// spoil breaks the copy of the store in dir and returns the
		// settings of the copy.
		spoil func(t *testing.T, dir string) map[string]string
	}{
		{"a wrong source key", func(t *testing.T, dir string) map[string]string {
			return map[string]string{"TOTPVAULT_DATA_DIR": dir,
				"TOTPVAULT_MASTER_KEY": newMasterKey(t)}
		}},
		{"a secret that does not open, after one that does", func(t *testing.T,
			dir string) map[string]string {
			execOnStore(t, dir, `UPDATE endpoints
				SET sealed_secret = zeroblob(length(sealed_secret)) WHERE name = 'bravo'`)
			return map[string]string{"TOTPVAULT_DATA_DIR": dir}
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name+" exits 1 and leaves the target empty", func(t *testing.T) {
			t.Parallel()
			dir, _ := populatedStore(t, "alpha", "bravo")
			target := pgtest.NewDatabase(t)

			r := run(t, tt.spoil(t, dir), "copy", "--to", target)

			if r.code != 1 || !strings.Contains(r.errOut, "does not open") {
				t.Errorf("copy: exit %d, want 1 and a secret that does not open:\n%s",
					r.code, r.errOut)
			}
			if n := targetRows(t, target); n != 0 {
				t.Errorf("the failed copy left %d rows in the target", n)
			}
		})
	}
}

func TestACopyThatFailedCanRunAgain(t *testing.T) {
	t.Parallel()
	dir, admin := populatedStore(t, "o365-alice")
	target := pgtest.NewDatabase(t)

	wrong := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir,
		"TOTPVAULT_MASTER_KEY": newMasterKey(t)}, "copy", "--to", target)
	if wrong.code != 1 {
		t.Fatalf("copy with a wrong key: exit %d\n%s", wrong.code, wrong.errOut)
	}

	r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "copy", "--to", target)
	if r.code != 0 || !strings.Contains(r.out, "copied 1 endpoints and 1 tokens") {
		t.Fatalf("copy again: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	onPostgres := startServe(t, map[string]string{
		"TOTPVAULT_DATABASE_URL":    target,
		"TOTPVAULT_MASTER_KEY_FILE": filepath.Join(dir, embeddedKeyFile),
	})
	checkCode(t, onPostgres, admin, "o365-alice")
}

func TestCopyRefusesATargetThatIsNotEmpty(t *testing.T) {
	t.Parallel()
	dir, _ := populatedStore(t, "o365-alice")

	tests := []struct {
		name  string
		setUp func(t *testing.T, url string)
	}{
		{"a target holding a runner token only", func(t *testing.T, url string) {
			createToken(t, url, "--name", "eu-runners", "--role", "runner", "--scope", "o365-*")
		}},
		{"a target holding a revoked token only", func(t *testing.T, url string) {
			value := createToken(t, url, "--name", "gone", "--role", "admin")
			revokeToken(t, url, value)
		}},
		{"a target that a server started on", func(t *testing.T, url string) {
			startServe(t, map[string]string{"TOTPVAULT_DATABASE_URL": url,
				"TOTPVAULT_MASTER_KEY": newMasterKey(t)}).stop(t)
		}},
	}

	// Not parallel: copies of one source migrate it, which SQLite does not
	// let two connections do at once.
	for _, tt := range tests {
		t.Run(tt.name+" is refused and left as it was", func(t *testing.T) {
			target := pgtest.NewDatabase(t)
			tt.setUp(t, target)
			before := targetRows(t, target)

			r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "copy", "--to", target)

			if r.code != 1 || !strings.Contains(r.errOut, "copy into an empty database") {
				t.Errorf("copy: exit %d, want 1 and a refusal:\n%s", r.code, r.errOut)
			}
			if after := targetRows(t, target); after != before {
				t.Errorf("the target had %d rows and has %d", before, after)
			}
		})
	}
}

// revokeToken revokes the token whose value is value in the database at
// url.
func revokeToken(t *testing.T, url, value string) {
	t.Helper()

	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	tok, err := db.TokenByHash(t.Context(), access.Hash(value))
	if err == nil {
		ev := commandEvent(store.ActionTokenRevoke, "revoked by a test")
		err = db.RevokeToken(t.Context(), tok.ID, time.Now(), ev)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestCopyResealsRowsOfAnOldKeyUnderThePrimary(t *testing.T) {
	t.Parallel()
	dir, admin := populatedStore(t, "bank-bot")
	oldKey, err := os.ReadFile(filepath.Join(dir, embeddedKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	primary := newMasterKey(t)

	target := pgtest.NewDatabase(t)
	r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir, "TOTPVAULT_MASTER_KEY": primary,
		"TOTPVAULT_OLD_MASTER_KEYS": strings.TrimSpace(string(oldKey))}, "copy", "--to", target)
	if r.code != 0 {
		t.Fatalf("copy: exit %d\n%s", r.code, r.errOut)
	}

	onPostgres := startServe(t, map[string]string{
		"TOTPVAULT_DATABASE_URL": target,
		"TOTPVAULT_MASTER_KEY":   primary,
	})
	checkCode(t, onPostgres, admin, "bank-bot")
}

// claim claims a code of name on s without waiting and returns the status
// and the time step of the code, 0 when there is none.
func claim(t *testing.T, s *server, token, name string) (int, uint64) {
	t.Helper()

	status, body, err := send(t.Context(), http.MethodPost,
		s.url+"/v1/endpoints/"+name+"/claim", token, `{"wait": "0s"}`)
	if err != nil {
		t.Fatal(err)
	}

	var got struct{ Counter uint64 }
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
	}
	return status, got.Counter
}

func TestCopyKeepsTheStepsThatWereClaimed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	// A long period, so that the claims on both stores fall in one step
	// unless the copy takes five minutes.
	embedded, admin := startEmbedded(t, dir)
	status, body, err := send(t.Context(), http.MethodPost, embedded.url+"/v1/endpoints", admin,
		`{"name": "o365-alice", "secret": "`+knownSecret+`", "period": 300}`)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("enroll: %d %v %s", status, err, body)
	}
	status, claimed := claim(t, embedded, admin, "o365-alice")
	if status != http.StatusOK {
		t.Fatalf("claim on the embedded store: %d", status)
	}
	embedded.stop(t)

	target := pgtest.NewDatabase(t)
	if r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "copy", "--to", target); r.code != 0 {
		t.Fatalf("copy: exit %d\n%s", r.code, r.errOut)
	}

	onPostgres := startServe(t, map[string]string{
		"TOTPVAULT_DATABASE_URL":    target,
		"TOTPVAULT_MASTER_KEY_FILE": filepath.Join(dir, embeddedKeyFile),
	})
	status, again := claim(t, onPostgres, admin, "o365-alice")
	if status == http.StatusOK && again <= claimed {
		t.Errorf("step %d, claimed on the embedded store, was claimed again after the copy",
			again)
	}
	if status != http.StatusOK && status != http.StatusConflict {
		t.Errorf("claim after the copy answered %d", status)
	}
}
