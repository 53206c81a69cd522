package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// startTimeout bounds how long a server may take to migrate and listen.
const startTimeout = 30 * time.Second

// stopSlack is how much longer than the drain bound serve may take to
// return, for closing the database after the drain.
const stopSlack = 5 * time.Second

// pollInterval is how often the test looks for the server's "serving" line.
// It waits for a log line, not for a time boundary.
const pollInterval = 10 * time.Millisecond

// server is one run of "totpvault serve" in the background.
type server struct {
	url    string // such as http://127.0.0.1:41234
	errOut *syncBuffer

	cancel context.CancelFunc
	done   chan int

	once sync.Once
	code int
}

// startServe runs serve on 127.0.0.1 at a port of the kernel's choosing and
// returns once it listens. t's cleanup stops it.
func startServe(t *testing.T, vars map[string]string) *server {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())
	s := &server{errOut: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	args := []string{"serve", "--listen", "127.0.0.1:0"}
	go func() { s.done <- Main(ctx, args, fakeEnv(vars), io.Discard, s.errOut) }()
	t.Cleanup(func() { s.stop(t) })

	s.url = "http://" + s.waitServing(t)
	return s
}

// waitServing returns the address from the server's "serving" log line.
func (s *server) waitServing(t *testing.T) string {
	t.Helper()

	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case code := <-s.done:
			s.done <- code // for stop, which t's cleanup still calls
			t.Fatalf("serve exited with %d before serving:\n%s", code, s.errOut)
		case <-time.After(pollInterval):
		}

		for _, line := range logLines(t, s.errOut.String()) {
			if line["msg"] == "serving" {
				addr, _ := line["address"].(string)
				return addr
			}
		}
	}

	t.Fatalf("serve did not log \"serving\" within %v:\n%s", startTimeout, s.errOut)
	return ""
}

// stop cancels the server's context and returns its exit code, or -1 after
// failing t when the server has not returned soon after the drain bound.
func (s *server) stop(t *testing.T) int {
	t.Helper()

	s.once.Do(func() {
		s.cancel()
		select {
		case s.code = <-s.done:
		case <-time.After(drainTimeout + stopSlack):
			t.Errorf("serve did not return within %v of the drain bound", stopSlack)
			s.code = -1
		}
	})
	return s.code
}

// logLines returns the JSON log lines of errOut, decoded: the lines that
// start with '{'. It fails t for such a line that is not JSON.
func logLines(t *testing.T, errOut string) []map[string]any {
	t.Helper()

	var lines []map[string]any
	for line := range strings.Lines(errOut) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		lines = append(lines, m)
	}
	return lines
}

// get sends GET url with token as bearer token, when given, and returns
// the status and body.
func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()

	status, body, err := send(t.Context(), http.MethodGet, url, token, "")
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// send sends a request on a connection of its own and returns the status
// and body. It does not touch t, so that a goroutine may call it.
func send(ctx context.Context, method, url, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}

	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()

	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return resp.StatusCode, got, nil
}

// bootstrapBlock matches the message that shows a new bootstrap token; its
// group is the token.
var bootstrapBlock = regexp.MustCompile(`(?s)\ntotpvault: no admin token existed.*?` +
	`\n\n    (\S+)\n\n.*?/v1/endpoints\n\n`)

// bootstrapToken finds the bootstrap message in errOut and returns the
// token it shows and errOut without the message. ok is false when there is
// no such message.
func bootstrapToken(errOut string) (token, rest string, ok bool) {
	m := bootstrapBlock.FindStringSubmatchIndex(errOut)
	if m == nil {
		return "", errOut, false
	}
	return errOut[m[2]:m[3]], errOut[:m[0]] + errOut[m[1]:], true
}

// listEndpoints returns the status of GET /v1/endpoints with token.
func listEndpoints(t *testing.T, s *server, token string) int {
	t.Helper()

	status, _ := get(t, s.url+"/v1/endpoints", token)
	return status
}

func TestServePrintsABootstrapTokenOnceOnAFreshDatabase(t *testing.T) {
	t.Parallel()

	vars := map[string]string{
		"TOTPVAULT_DATABASE_URL": pgtest.NewDatabase(t),
		"TOTPVAULT_MASTER_KEY":   newMasterKey(t),
	}
	first := startServe(t, vars)

	token, _, ok := bootstrapToken(first.errOut.String())
	if !ok {
		t.Fatalf("the first start printed no bootstrap token:\n%s", first.errOut)
	}
	if !strings.Contains(first.errOut.String(), first.url+"/v1/endpoints") {
		t.Errorf("the bootstrap message does not show the served address %s:\n%s",
			first.url, first.errOut)
	}

	t.Run("the printed token is an admin token", func(t *testing.T) {
		if status := listEndpoints(t, first, token); status != http.StatusOK {
			t.Errorf("GET /v1/endpoints with it: %d; want 200", status)
		}
	})
	t.Run("a wrong token is refused", func(t *testing.T) {
		status := listEndpoints(t, first, "tvt_wrong-token-of-the-test")
		if status != http.StatusUnauthorized {
			t.Errorf("GET /v1/endpoints with a wrong token: %d; want 401", status)
		}
	})
	t.Run("the token appears nowhere but in the one bootstrap message", func(t *testing.T) {
		errOut := first.errOut.String()
		_, rest, _ := bootstrapToken(errOut)

		if n := len(bootstrapBlock.FindAllString(errOut, -1)); n != 1 {
			t.Errorf("the bootstrap message appears %d times; want once:\n%s", n, errOut)
		}
		assertNoTokenInLog(t, errOut, rest, token, "tvt_wrong-token-of-the-test")
	})

	t.Run("a second start prints no token and the first still works", func(t *testing.T) {
		first.stop(t)
		second := startServe(t, vars)

		if strings.Contains(second.errOut.String(), "tvt_") {
			t.Errorf("the second start printed a token:\n%s", second.errOut)
		}
		if status := listEndpoints(t, second, token); status != http.StatusOK {
			t.Errorf("GET /v1/endpoints with the first token: %d; want 200", status)
		}
	})
}

// assertNoTokenInLog fails t when a JSON log line of errOut holds one of
// tokens, or when rest (errOut without the bootstrap message) does.
func assertNoTokenInLog(t *testing.T, errOut, rest string, tokens ...string) {
	t.Helper()

	for line := range strings.Lines(errOut) {
		for _, token := range tokens {
			if strings.HasPrefix(line, "{") && strings.Contains(line, token) {
				t.Errorf("a log line holds a token: %s", line)
			}
		}
	}
	for _, token := range tokens {
		if strings.Contains(rest, token) {
			t.Errorf("errOut holds a token outside the bootstrap message:\n%s", rest)
		}
	}
}

func TestServeTakesTheConfiguredBootstrapToken(t *testing.T) {
	t.Parallel()

	const configured = "configured-bootstrap-token-of-the-test"
	vars := map[string]string{
		"TOTPVAULT_DATABASE_URL":    pgtest.NewDatabase(t),
		"TOTPVAULT_MASTER_KEY":      newMasterKey(t),
		"TOTPVAULT_BOOTSTRAP_TOKEN": configured,
	}
	s := startServe(t, vars)

	if status := listEndpoints(t, s, configured); status != http.StatusOK {
		t.Errorf("GET /v1/endpoints with the configured token: %d; want 200", status)
	}
	if _, _, printed := bootstrapToken(s.errOut.String()); printed {
		t.Errorf("a bootstrap message was printed although the token was configured:\n%s",
			s.errOut)
	}
	if strings.Contains(s.errOut.String(), configured) {
		t.Errorf("errOut shows the configured token:\n%s", s.errOut)
	}

	t.Run("a later start ignores another configured token", func(t *testing.T) {
		s.stop(t)
		vars["TOTPVAULT_BOOTSTRAP_TOKEN"] = "another-bootstrap-token-of-the-test"
		again := startServe(t, vars)

		status := listEndpoints(t, again, "another-bootstrap-token-of-the-test")
		if status != http.StatusUnauthorized {
			t.Errorf("GET /v1/endpoints with the later token: %d; want 401", status)
		}
		if status := listEndpoints(t, again, configured); status != http.StatusOK {
			t.Errorf("GET /v1/endpoints with the first token: %d; want 200", status)
		}
	})
}

func TestServeAnswersOperationsAndShutsDown(t *testing.T) {
	t.Parallel()

	const admin = "admin-token-of-the-shutdown-test"
	dbURL := pgtest.NewDatabase(t)
	s := startServe(t, map[string]string{
		"TOTPVAULT_DATABASE_URL":    dbURL,
		"TOTPVAULT_MASTER_KEY":      newMasterKey(t),
		"TOTPVAULT_BOOTSTRAP_TOKEN": admin,
	})

	tests := []struct {
		name string
		path string
		body []byte
	}{
		{"/healthz answers ok", "/healthz", []byte(`{"status":"ok"}`)},
		{"/readyz answers ok on a migrated database", "/readyz", []byte(`{"status":"ok"}`)},
		{"/openapi.yaml serves the project's api.yaml", "/openapi.yaml", totpvault.APISpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, s.url+tt.path, "")

			if status != http.StatusOK {
				t.Errorf("GET %s: %d; want 200", tt.path, status)
			}
			if !bytes.Equal(bytes.TrimSpace(body), bytes.TrimSpace(tt.body)) {
				t.Errorf("GET %s: body\n%.200s\nwant\n%.200s", tt.path, body, tt.body)
			}
		})
	}

	t.Run("cancelling the context ends a wait for the next code and exits 0", func(t *testing.T) {
		waited := startWaitingForNextCode(t, s, dbURL, admin)

		start := time.Now()
		if code := s.stop(t); code != 0 {
			t.Errorf("exit code %d; want 0:\n%s", code, s.errOut)
		}
		if took := time.Since(start); took >= drainTimeout {
			t.Errorf("shutdown took %v; the drain bound is %v", took, drainTimeout)
		}
		if status := <-waited; status != http.StatusServiceUnavailable {
			t.Errorf("the waiting request got %d; want 503", status)
		}
		if conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://")); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after shutdown", s.url)
		}
	})
}

// startWaitingForNextCode enrolls an endpoint whose current step has at
// least half a minute left and sends, in the background, a code request
// that must wait for the next step. It returns once the server has read
// that request; the channel then gives its status, or 0 when it failed.
func startWaitingForNextCode(t *testing.T, s *server, dbURL, admin string) <-chan int {
	t.Helper()

	period := periodAwayFromEdges(time.Now())
	enroll := fmt.Sprintf(`{"name": "waiter", "generate": true, "period": %d}`, period)
	status, body, err := send(t.Context(), http.MethodPost, s.url+"/v1/endpoints", admin, enroll)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("enroll: %d %v\n%s", status, err, body)
	}

	// A server that begins shutting down before it has read a request drops
	// it unanswered. The request looks its endpoint up first, so while the
	// test holds the endpoints table the request stops there, where the
	// test can see that the server has read it.
	release := lockTable(t, dbURL, "endpoints")
	waited := make(chan int, 1)
	go func() {
		url := fmt.Sprintf("%s/v1/endpoints/waiter/code?min_valid=%d", s.url, period-1)
		status, _, _ := send(context.WithoutCancel(t.Context()), http.MethodGet, url, admin, "")
		waited <- status
	}()
	waitForLockWaiter(t, dbURL, "endpoints")
	release()

	return waited
}

// lockTable locks table of the database at url against every other use
// until the returned function is called.
func lockTable(t *testing.T, url, table string) (release func()) {
	t.Helper()

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(t.Context())
	if err == nil {
		_, err = tx.Exec(t.Context(), "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE")
	}
	if err != nil {
		conn.Close(context.WithoutCancel(t.Context()))
		t.Fatal(err)
	}

	return func() {
		ctx := context.WithoutCancel(t.Context())
		if err := tx.Commit(ctx); err != nil {
			t.Error(err)
		}
		conn.Close(ctx)
	}
}

// waitForLockWaiter returns once a session of the database at url waits
// for a lock on table.
func waitForLockWaiter(t *testing.T, url, table string) {
	t.Helper()

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))

	const waiting = `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE relation = $1::regclass AND NOT granted)`
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		var found bool
		if err := conn.QueryRow(t.Context(), waiting, table).Scan(&found); err != nil {
			t.Fatal(err)
		}
		if found {
			return
		}
		time.Sleep(pollInterval)
	}
	t.Fatalf("no request came to wait for table %s within %v", table, startTimeout)
}

// periodAwayFromEdges returns a TOTP period whose step holding now began at
// least 5 s ago and ends at least 30 s later, so that a wait for the next
// step outlasts the drain bound and no step begins while the test runs.
func periodAwayFromEdges(now time.Time) int {
	for p := int64(300); ; p-- {
		phase := now.Unix() % p
		if phase >= 5 && phase <= p-30 {
			return int(p)
		}
	}
}

func TestServeRefusesToStartWithoutItsSettings(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		vars    func(t *testing.T) map[string]string
		says    string
		notSays string
	}{
		{
			name: "an embedded store whose master key is gone is not given a new one",
			vars: func(t *testing.T) map[string]string {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, embeddedFile), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return map[string]string{"TOTPVAULT_DATA_DIR": dir}
			},
			says: "master key",
		},
		{
			name: "a database URL without a master key says how to make one",
			vars: func(t *testing.T) map[string]string {
				return map[string]string{"TOTPVAULT_DATABASE_URL": unreachableDatabase}
			},
			says: "totpvault keygen",
		},
		{
			name: "a master key that is not base64 is refused without being shown",
			vars: func(t *testing.T) map[string]string {
				return map[string]string{
					"TOTPVAULT_DATABASE_URL": unreachableDatabase,
					"TOTPVAULT_MASTER_KEY":   "not*a*key*but*still*a*secret",
				}
			},
			says:    "master key",
			notSays: "not*a*key*but*still*a*secret",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			addr := freeAddr(t)
			r := run(t, tt.vars(t), "serve", "--listen", addr)

			if r.code != 1 {
				t.Errorf("exit code %d; want 1", r.code)
			}
			if !strings.Contains(r.errOut, tt.says) {
				t.Errorf("errOut does not say %q:\n%s", tt.says, r.errOut)
			}
			if tt.notSays != "" && strings.Contains(r.errOut, tt.notSays) {
				t.Errorf("errOut shows %q:\n%s", tt.notSays, r.errOut)
			}
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				t.Errorf("something listens on %s after serve refused to start", addr)
			}
		})
	}
}

// freeAddr returns a loopback address that nothing listened on a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
