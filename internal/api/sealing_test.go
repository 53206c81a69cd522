package api_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// execSQL runs SQL on the package's database; on the embedded store, in
// its SQLite form (see sqliteForms).
func execSQL(t *testing.T, sql string, args ...any) {
	t.Helper()
	if onSQLite {
		sqliteExec(t, sql, args...)
		return
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// rowText returns the whole endpoints row of name as text.
func rowText(t *testing.T, name string) string {
	t.Helper()
	if onSQLite {
		return sqliteRowText(t, name)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var text string
	err = conn.QueryRow(ctx, `SELECT e::text FROM endpoints e WHERE name = $1`, name).Scan(&text)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestTheStoredRowHoldsNoPlaintextSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	secret := []byte("plaintext-secret-123")
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	e := h.enroll(map[string]any{"name": h.name("plain"), "secret": b32})

	row := rowText(t, e.Name)
	for _, form := range []string{string(secret), b32, strings.ToLower(b32), hex.EncodeToString(secret)} {
		if strings.Contains(row, form) {
			t.Errorf("the stored row holds the secret as %q: %s", form, row)
		}
	}
}

func TestASealedSecretThatFailsToOpenGives500AndNoCode(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		tamper func(t *testing.T, victim, donor string)
	}{
		{"a ciphertext moved onto another endpoint", func(t *testing.T, victim, donor string) {
			execSQL(t, `UPDATE endpoints SET sealed_secret =
				(SELECT sealed_secret FROM endpoints WHERE name = $2) WHERE name = $1`, victim, donor)
		}},
		{"a flipped byte", func(t *testing.T, victim, _ string) {
			execSQL(t, `UPDATE endpoints SET sealed_secret =
				set_byte(sealed_secret, 40, get_byte(sealed_secret, 40) # 1) WHERE name = $1`, victim)
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			victim := h.enroll(map[string]any{"name": h.name("victim"), "generate": true})
			donor := h.enroll(map[string]any{"name": h.name("donor"), "generate": true})
			tt.tamper(t, victim.Name, donor.Name)

			for _, path := range []string{"/code", "/verify"} {
				req := request{method: "GET", path: "/v1/endpoints/" + victim.Name + path, token: h.admin}
				if path == "/verify" {
					req.method, req.body = "POST", map[string]string{"code": "123456"}
				}

				resp := h.do(req)
				resp.expect(t, http.StatusInternalServerError, "internal")
				if bytes.Contains(resp.body, []byte(`"next"`)) {
					t.Errorf("the refusal carries a code: %s", resp.body)
				}
			}

			logs := h.logs.String()
			if !strings.Contains(logs, victim.Name) || !strings.Contains(logs, "integrity") {
				t.Errorf("no log line names %s and the integrity failure:\n%s", victim.Name, logs)
			}
			h.code(donor.Name) // the donor is untouched
		})
	}
}

func TestRowsSealedUnderAnOldKeyOpenAfterRotation(t *testing.T) {
	t.Parallel()
	before := newHarness(t)
	e := before.enroll(map[string]any{"name": before.name("rotate"), "secret": entraSecret})
	want := before.code(e.Name)

	newKey := bytes.Repeat([]byte{0x07}, 32)
	rotated := newHarness(t, func(c *api.Config) { c.Sealer = newKeyring(t, newKey, masterKey) })
	rotated.admin = before.admin
	if got := rotated.code(e.Name); got.Code != want.Code {
		t.Errorf("after rotation the code is %s, want %s", got.Code, want.Code)
	}

	e2 := rotated.enroll(map[string]any{"name": rotated.name("sealed-new"), "generate": true})
	withoutOld := newHarness(t, func(c *api.Config) { c.Sealer = newKeyring(t, newKey) })
	withoutOld.admin = before.admin
	withoutOld.code(e2.Name)

	resp := withoutOld.do(request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code",
		token: before.admin})
	resp.expect(t, http.StatusInternalServerError, "internal")
}
