package main

import (
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
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

// keyWarning is the warning of a start that made the embedded store's key.
const keyWarning = "made a master key beside the embedded store: whoever copies the data " +
	"folder can open every secret in it; move the key elsewhere and point " +
	"TOTPVAULT_MASTER_KEY_FILE at it"

// checkLogged fails t unless s logged msg at level with these attributes.
func checkLogged(t *testing.T, s *server, level, msg string, attrs map[string]string) {
	t.Helper()

	for _, line := range logLines(t, s.errOut.String()) {
		if line["msg"] != msg || line["level"] != level {
			continue
		}
		for k, want := range attrs {
			if got, _ := line[k].(string); got != want {
				t.Errorf("%q logged %s=%q, want %q", msg, k, got, want)
			}
		}
		return
	}
	t.Errorf("no %s line %q:\n%s", level, msg, s.errOut)
}

func TestTheEmbeddedStoreStartsWithNothingConfiguredAndKeepsItsState(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	first, admin := startEmbedded(t, dir)
	if admin == "" {
		t.Fatalf("no bootstrap token printed:\n%s", first.errOut)
	}
	keyFile := filepath.Join(dir, embeddedKeyFile)
	checkLogged(t, first, "WARN", keyWarning, map[string]string{"key_file": keyFile})
	checkLogged(t, first, "INFO", "embedded store", map[string]string{
		"store_file": filepath.Join(dir, embeddedFile), "key_file": keyFile})
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
	if strings.Contains(second.errOut.String(), keyWarning) {
		t.Error("a restart made another master key")
	}

	keyAfter, err := os.ReadFile(filepath.Join(dir, embeddedKeyFile))
	if err != nil || string(keyAfter) != string(keyBefore) {
		t.Errorf("the restart changed the master key (%v)", err)
	}
}

func TestCommandsBeforeTheFirstServeLeaveItAbleToStart(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
	}{
		{"migrate", []string{"migrate"}},
		{"token create", []string{"token", "create", "--name", "ops", "--role", "admin"}},
	}

	for _, tt := range tests {
		t.Run(tt.name+" on an empty folder, then serve, makes the key and serves", func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			vars := map[string]string{"TOTPVAULT_DATA_DIR": dir}

			if r := run(t, vars, tt.args...); r.code != 0 {
				t.Fatalf("%s: exit %d\n%s", tt.name, r.code, r.errOut)
			}
			s := startServe(t, vars)

			checkLogged(t, s, "WARN", keyWarning,
				map[string]string{"key_file": filepath.Join(dir, embeddedKeyFile)})
			if status, _ := get(t, s.url+"/readyz", ""); status != http.StatusOK {
				t.Errorf("/readyz answered %d", status)
			}
		})
	}
}

func TestServeRefusesAStoreWithEndpointsWhoseKeyIsGone(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	s, admin := startEmbedded(t, dir)
	enrollKnown(t, s, admin, "o365-alice")
	s.stop(t)
	if err := os.Remove(filepath.Join(dir, embeddedKeyFile)); err != nil {
		t.Fatal(err)
	}

	r := run(t, map[string]string{"TOTPVAULT_DATA_DIR": dir}, "serve", "--listen", "127.0.0.1:0")

	if r.code != 1 || !strings.Contains(r.errOut, "may hold secrets sealed under it") {
		t.Errorf("exit %d, want 1 and a refusal:\n%s", r.code, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, embeddedKeyFile)); err == nil {
		t.Error("serve made a new key for a store whose secrets it cannot open")
	}
}

func TestServeWarnsOfADataFolderOthersMayRead(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	s, _ := startEmbedded(t, dir)

	checkLogged(t, s, "WARN", "other users may read or enter the data folder; make it "+
		"the owner's alone with chmod 700", map[string]string{"data_dir": dir, "mode": "-rwxr-xr-x"})
}

func TestStartsAtOnceMakeOneWholeKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, embeddedKeyFile)

	const starts = 8
	keys := make([]string, starts)
	errs := make([]error, starts)
	var wg sync.WaitGroup
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = makeEmbeddedKey(path, log)
		}()
	}
	wg.Wait()

	for i := range starts {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("start %d returned another key than start 0", i)
		}
	}
	if n := strings.Count(logged.String(), "made a master key"); n != 1 {
		t.Errorf("%d starts said they made the key, want 1", n)
	}

	content, err := os.ReadFile(path)
	if err != nil || string(content) != keys[0]+"\n" {
		t.Errorf("the key file holds another key than the one returned (%v)", err)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("the key file has mode %v, want 0600", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("the data folder holds %d entries, want the key alone (%v)", len(entries), err)
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

// The embedded store's blocking file I/O needs a second Go processor on a
// single CPU; an operator's GOMAXPROCS is left alone.
func TestEmbeddedStoreKeepsTwoProcessors(t *testing.T) {
	was := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })

	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	keepProcsForFileIO(fakeEnv(nil), log)
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("with one processor and no GOMAXPROCS: %d processors, want 2", got)
	}
	if !strings.Contains(logs.String(), "two Go processors") {
		t.Errorf("the change is not logged: %q", logs.String())
	}

	for _, procs := range []int{1, 3} {
		runtime.GOMAXPROCS(procs)
		keepProcsForFileIO(fakeEnv(map[string]string{"GOMAXPROCS": strconv.Itoa(procs)}), log)
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("with GOMAXPROCS=%d set: %d processors", procs, got)
		}
	}

	runtime.GOMAXPROCS(3)
	keepProcsForFileIO(fakeEnv(nil), log)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("with three processors: %d, want them kept", got)
	}
}
