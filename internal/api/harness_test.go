package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/totpvault/totpvault"
	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/clock"
	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
)

// epoch is where every harness clock starts: 10 s into a 30 s step and a
// 60 s step, so that codes of both periods have time left.
var epoch = time.Date(2026, 12, 3, 18, 0, 10, 0, time.UTC)

// harness is one API server on the package's database, with a fake clock,
// its own admin token and a name prefix that keeps its endpoints apart from
// those of tests running beside it.
type harness struct {
	t      testing.TB
	db     testDB
	keys   *keyring.Keyring
	clock  *clock.Fake
	server *api.Server
	http   *httptest.Server
	client *http.Client
	admin  string
	prefix string
	logs   *syncBuffer
}

// harnessOption changes how newHarness builds the server.
type harnessOption func(*api.Config)

// newHarness starts an API server for t.
func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()

	h := &harness{
		t:      t,
		db:     openTestDB(t),
		clock:  clock.NewFake(epoch),
		prefix: "t" + randomHex(t, 6),
		logs:   &syncBuffer{},
	}
	h.keys = newKeyring(t, masterKey)
	// Debug lines are searched for secrets too, so they are written.
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(h.logs, runLog),
		&slog.HandlerOptions{Level: slog.LevelDebug}))

	trail := audit.NewBatcher(h.db, log, audit.Options{})
	t.Cleanup(func() { _ = trail.Close(context.Background()) })

	cfg := api.Config{
		Store:  h.db,
		Sealer: h.keys,
		Audit:  trail,
		Log:    log,
		Clock:  h.clock,
		Spec:   totpvault.APISpec,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if shared, ok := cfg.Clock.(*clock.Fake); ok {
		h.clock = shared
	}

	h.server = api.New(cfg)
	h.http = httptest.NewServer(h.server.Handler())
	t.Cleanup(h.http.Close)
	h.client = &http.Client{Transport: &validatingTransport{t: t, next: http.DefaultTransport}}

	h.admin = h.token(store.RoleAdmin, nil, time.Time{})
	return h
}

// masterKey is the master key of every harness unless a test says
// otherwise; fixed so that two harnesses open each other's rows.
var masterKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

// newKeyring returns a keyring sealing with primary.
func newKeyring(t testing.TB, primary []byte, old ...[]byte) *keyring.Keyring {
	t.Helper()

	k, err := keyring.New(primary, old...)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return k
}

// name returns an endpoint name of this harness.
func (h *harness) name(s string) string {
	return h.prefix + "-" + s
}

// token stores a token straight in the database and returns its value.
func (h *harness) token(role store.Role, scopes []string, expires time.Time) string {
	h.t.Helper()

	value, hash, err := access.Mint(rand.Reader)
	if err != nil {
		h.t.Fatalf("mint: %v", err)
	}
	sensitive.add(value)

	_, err = h.db.CreateToken(context.Background(), store.Token{
		ID:        store.NewID(),
		Name:      h.prefix + "-" + string(role),
		Role:      role,
		Scopes:    scopes,
		Hash:      hash,
		CreatedAt: h.clock.Now(),
		ExpiresAt: expires,
	}, h.setupEvent(store.ActionTokenCreate))
	if err != nil {
		h.t.Fatalf("create token: %v", err)
	}
	return value
}

// revokedToken returns the value of an admin token that was revoked.
func (h *harness) revokedToken() string {
	h.t.Helper()

	value := h.token(store.RoleAdmin, nil, time.Time{})
	err := h.db.RevokeToken(context.Background(), h.tokenID(value), h.clock.Now(),
		h.setupEvent(store.ActionTokenRevoke))
	if err != nil {
		h.t.Fatalf("revoke: %v", err)
	}
	return value
}

// tokenID returns the ID of the token with this value.
func (h *harness) tokenID(value string) string {
	h.t.Helper()

	tok, err := h.db.TokenByHash(context.Background(), access.Hash(value))
	if err != nil {
		h.t.Fatalf("token by hash: %v", err)
	}
	return tok.ID
}

// setupEvent is the audit event of a change the test makes behind the
// API's back.
func (h *harness) setupEvent(action store.Action) store.Event {
	return store.Event{Time: h.clock.Now(), Action: action,
		Outcome: store.OutcomeSuccess, Detail: "test set-up"}
}

// response is what the server answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request is one call to make; body is marshalled unless it is a string or
// []byte, which are sent as they are.
type request struct {
	method      string
	path        string
	token       string
	body        any
	contentType string
	header      map[string]string
}

// do sends req and returns the answer; it fails t on a transport error.
func (h *harness) do(req request) response {
	h.t.Helper()

	resp, err := h.send(context.Background(), req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	return resp
}

// send is do with a context and the error returned.
func (h *harness) send(ctx context.Context, req request) (response, error) {
	sensitive.noteSent(req.body)
	body, err := encodeBody(req.body)
	if err != nil {
		return response{}, err
	}

	hr, err := http.NewRequestWithContext(ctx, req.method, h.http.URL+req.path, body)
	if err != nil {
		return response{}, err
	}
	if req.token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	if req.body != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}

	resp, err := h.client.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()

	b, err := io.ReadAll(resp.Body)
	sensitive.noteReceived(b)
	return response{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// encodeBody turns a request body into a reader.
func encodeBody(body any) (io.Reader, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.NewReader(b), nil
	case []byte:
		return bytes.NewReader(b), nil
	}

	b, err := json.Marshal(body)
	return bytes.NewReader(b), err
}

// decode unmarshals the body into v, failing t when it cannot.
func (r response) decode(t testing.TB, v any) {
	t.Helper()

	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemCode returns the problem's code, or "" when the body is no problem.
func (r response) problemCode() string {
	if r.header.Get("Content-Type") != "application/problem+json" {
		return ""
	}

	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

// expect fails t unless the answer has the status and, for a problem, code.
func (r response) expect(t testing.TB, status int, code string) {
	t.Helper()

	if r.status != status || r.problemCode() != code {
		t.Fatalf("got %d %q, want %d %q; body %s", r.status, r.problemCode(), status, code, r.body)
	}
}

// enroll enrolls an endpoint as admin and fails t unless it is created.
func (h *harness) enroll(body map[string]any) endpoint {
	h.t.Helper()

	if s, ok := body["secret"].(string); ok {
		sensitive.add(s)
	}
	resp := h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin, body: body})
	resp.expect(h.t, http.StatusCreated, "")

	var e endpoint
	resp.decode(h.t, &e)
	return e
}

// code reads the code of an endpoint as admin.
func (h *harness) code(name string) codeAnswer {
	h.t.Helper()

	resp := h.do(request{method: "GET", path: "/v1/endpoints/" + name + "/code", token: h.admin})
	resp.expect(h.t, http.StatusOK, "")

	var c codeAnswer
	resp.decode(h.t, &c)
	sensitive.add(c.Code, c.Next.Code)
	return c
}

// endpoint is the endpoint object as a client reads it.
type endpoint struct {
	Name       string            `json:"name"`
	Issuer     string            `json:"issuer"`
	Account    string            `json:"account"`
	Algorithm  string            `json:"algorithm"`
	Digits     int               `json:"digits"`
	Period     int               `json:"period"`
	Labels     map[string]string `json:"labels"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	OTPAuthURI string            `json:"otpauth_uri"`
}

// codeAnswer is the body of a code read.
type codeAnswer struct {
	Name             string    `json:"name"`
	Code             string    `json:"code"`
	Digits           int       `json:"digits"`
	Period           int       `json:"period"`
	Counter          uint64    `json:"counter"`
	ValidFrom        time.Time `json:"valid_from"`
	ValidUntil       time.Time `json:"valid_until"`
	SecondsRemaining int       `json:"seconds_remaining"`
	Next             struct {
		Code       string    `json:"code"`
		ValidFrom  time.Time `json:"valid_from"`
		ValidUntil time.Time `json:"valid_until"`
	} `json:"next"`
}

// randomHex returns n random bytes as hex.
func randomHex(t testing.TB, n int) string {
	t.Helper()

	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runLog holds everything every harness logged during the run.
var runLog = &syncBuffer{}

// sensitive collects every secret, code and token value the tests saw, to
// be searched for in runLog when the run ends.
var sensitive = &valueSet{}

// valueSet is a concurrent set of values that must not be logged.
type valueSet struct {
	mu     sync.Mutex
	values map[string]bool
}

// add remembers secret, code and token values.
func (s *valueSet) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.values == nil {
		s.values = map[string]bool{}
	}
	for _, v := range values {
		if v != "" {
			s.values[v] = true
		}
	}
}

// foundIn returns the values that occur in the JSON log lines of text.
// Long values count anywhere in a line. Codes, being short runs of digits,
// count only as a whole run of digits outside the fields that are random
// by nature (the time and the request ID), so that a timestamp or an ID
// that happens to hold the same six digits is no false alarm.
func (s *valueSet) foundIn(text string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()

	var found []string
	for _, line := range strings.Split(text, "\n") {
		runs := digitRuns(withoutRandomFields(line))
		for v := range s.values {
			if isCode(v) && runs[v] || !isCode(v) && strings.Contains(line, v) {
				found = append(found, v)
			}
		}
	}
	return found
}

// isCode reports whether v looks like a TOTP code.
func isCode(v string) bool {
	return len(v) <= 8 && strings.Trim(v, "0123456789") == ""
}

// withoutRandomFields returns a JSON log line without its time and request
// ID.
func withoutRandomFields(line string) string {
	var fields map[string]any
	if json.Unmarshal([]byte(line), &fields) != nil {
		return line
	}

	delete(fields, "time")
	delete(fields, "request_id")
	b, _ := json.Marshal(fields)
	return string(b)
}

// digitRuns returns every maximal run of decimal digits in s.
func digitRuns(s string) map[string]bool {
	runs := map[string]bool{}
	for _, run := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		runs[run] = true
	}
	return runs
}
