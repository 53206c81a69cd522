package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
	"github.com/totpvault/totpvault/internal/totp"
)

// knownSecret is the secret the tests enroll, so that they can compute
// the codes it must give.
const knownSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// enrollKnown enrolls knownSecret as name through s's API.
func enrollKnown(t *testing.T, s *server, admin, name string) {
	t.Helper()

	status, body, err := send(t.Context(), http.MethodPost, s.url+"/v1/endpoints", admin,
		`{"name": "`+name+`", "secret": "`+knownSecret+`"}`)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("enroll %s: %d %v %s", name, status, err, body)
	}
}

// checkCode reads name's code with token and checks it against the code
// that knownSecret gives for the same time step.
func checkCode(t *testing.T, s *server, token, name string) {
	t.Helper()

	status, body := get(t, s.url+"/v1/endpoints/"+name+"/code", token)
	if status != http.StatusOK {
		t.Fatalf("code of %s: %d %s", name, status, body)
	}

	var got struct {
		Code    string `json:"code"`
		Counter uint64 `json:"counter"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}

	key, err := totp.FromSecret(knownSecret, totp.Params{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := key.At(got.Counter)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != want.Value {
		t.Errorf("code %s at step %d, the secret gives %s", got.Code, got.Counter, want.Value)
	}
}

// startEmbedded starts serve on the embedded store in dir and returns it
// with the bootstrap token it printed, or "" when it printed none.
func startEmbedded(t *testing.T, dir string) (*server, string) {
	t.Helper()

	s := startServe(t, map[string]string{"TOTPVAULT_DATA_DIR": dir})
	token, _, _ := bootstrapToken(s.errOut.String())
	return s, token
}

// mode returns the permission bits of path.
func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestTheEmbeddedStoreStartsWithNothingConfiguredAndKeepsItsState(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	first, admin := startEmbedded(t, dir)
	if admin == "" {
		t.Fatalf("no bootstrap token printed:\n%s", first.errOut)
	}
	if !strings.Contains(first.errOut.String(), "made a master key beside the embedded store") {
		t.Errorf("no warning that the key lies beside the data:\n%s", first.errOut)
	}
	if status, _ := get(t, first.url+"/readyz", ""); status != http.StatusOK {
		t.Errorf("/readyz answered %d", status)
	}
	enrollKnown(t, first, admin, "o365-alice")
	checkCode(t, first, admin, "o365-alice")

	keyBefore, err := os.ReadFile(filepath.Join(dir, embeddedKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		dir: 0o700, filepath.Join(dir, embeddedKeyFile): 0o600,
		filepath.Join(dir, embeddedFile): 0o600,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
	}
	if code := first.stop(t); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}

	second, again := startEmbedded(t, dir)
	if again != "" {
		t.Error("a restart printed another bootstrap token")
	}
	checkCode(t, second, admin, "o365-alice")

	keyAfter, err := os.ReadFile(filepath.Join(dir, embeddedKeyFile))
	if err != nil || string(keyAfter) != string(keyBefore) {
		t.Errorf("the restart changed the master key (%v)", err)
	}
}

func TestCopyMovesTheEmbeddedStoreIntoPostgreSQL(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	embedded, admin := startEmbedded(t, dir)
	enrollKnown(t, embedded, admin, "o365-alice")
	status, body, err := send(t.Context(), http.MethodPost, embedded.url+"/v1/tokens", admin,
		`{"name": "eu-runners", "role": "runner", "scopes": ["o365-*"]}`)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create runner token: %d %v %s", status, err, body)
	}
	var runner struct{ Token string }
	if err := json.Unmarshal(body, &runner); err != nil {
		t.Fatal(err)
	}
	embedded.stop(t)

	target := pgtest.NewDatabase(t)
	r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "copy", "--to", target)
	if r.code != 0 || !strings.Contains(r.out, "copied 1 endpoints and 2 tokens") {
		t.Fatalf("copy: exit %d\n%s%s", r.code, r.out, r.errOut)
	}

	onPostgres := startServe(t, map[string]string{
		"TOTPVAULT_DATABASE_URL":    target,
		"TOTPVAULT_MASTER_KEY_FILE": filepath.Join(dir, embeddedKeyFile),
	})
	checkCode(t, onPostgres, admin, "o365-alice")
	checkCode(t, onPostgres, runner.Token, "o365-alice")

	again := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "copy", "--to", target)
	if again.code == 0 || !strings.Contains(again.errOut, "empty database") {
		t.Errorf("a copy into a database that holds records: exit %d\n%s", again.code, again.errOut)
	}
}

func TestCopyResealsUnderTheTargetsKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	embedded, admin := startEmbedded(t, dir)
	enrollKnown(t, embedded, admin, "bank-bot")
	embedded.stop(t)

	keyFile := filepath.Join(t.TempDir(), "target.key")
	if err := os.WriteFile(keyFile, []byte(newMasterKey(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := pgtest.NewDatabase(t)
	r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "copy", "--to", target,
		"--to-master-key-file", keyFile)
	if r.code != 0 {
		t.Fatalf("copy: exit %d\n%s", r.code, r.errOut)
	}

	onPostgres := startServe(t, map[string]string{
		"TOTPVAULT_DATABASE_URL":    target,
		"TOTPVAULT_MASTER_KEY_FILE": keyFile,
	})
	checkCode(t, onPostgres, admin, "bank-bot")
}
