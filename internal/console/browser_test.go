package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/totpvault/totpvault"
	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/sqlite"
)

// docsScreenshots is where the browser test writes its screenshots when
// TOTPVAULT_SCREENSHOTS=1; the README shows one of them. Otherwise they go
// to a temporary folder, so that a test run leaves the checkout as it was.
const docsScreenshots = "../../docs/screenshots"

// hostile is text that would run script if the console ever rendered API
// text as HTML.
const hostile = `<img src=x onerror=alert(1)>`

// env is one server on the embedded store and one headless Chromium.
type env struct {
	t       *testing.T
	base    string
	admin   string
	shots   string
	browser context.Context
}

// newEnv starts the API and the console on a fresh embedded store, and a
// headless Chromium; without chromium the test is skipped, except in CI.
func newEnv(t *testing.T) *env {
	t.Helper()

	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed (apt-get install chromium); skipping browser tests")
	}

	e := &env{t: t, shots: t.TempDir()}
	if os.Getenv("TOTPVAULT_SCREENSHOTS") == "1" {
		e.shots = docsScreenshots
	}
	e.base, e.admin = startServer(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)

	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	e.browser = browser
	return e
}

// startServer serves the API and the console as cmd/server does, on an
// embedded store in a temporary folder, and returns its URL and an admin
// token.
func startServer(t *testing.T) (base, admin string) {
	t.Helper()
	ctx := context.Background()

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "totpvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	keys, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	trail := audit.NewBatcher(db, log, audit.Options{})

	srv := api.New(api.Config{Store: db, Sealer: keys, Audit: trail, Log: log, Spec: totpvault.APISpec})
	hs := httptest.NewServer(Wrap(srv.Handler()))
	t.Cleanup(func() {
		hs.Close()
		_ = trail.Close(context.Background())
	})

	return hs.URL, mintToken(t, db, "admin", store.RoleAdmin, nil)
}

// mintToken stores a token and returns its value.
func mintToken(t *testing.T, db *sqlite.DB, name string, role store.Role, scopes []string) string {
	t.Helper()

	value, hash, err := access.Mint(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateToken(context.Background(), store.Token{ID: store.NewID(), Name: name, Role: role,
		Scopes: scopes, Hash: hash, CreatedAt: time.Now()},
		store.Event{Time: time.Now(), Action: store.ActionTokenCreate, Outcome: store.OutcomeSuccess})
	if err != nil {
		t.Fatal(err)
	}
	return value
}

// call sends one API request with token and decodes the JSON answer.
func (e *env) call(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()

	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, in)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()

	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// clockScript runs before the console's scripts in every page of a tab
// that shiftedTab opens: it moves the page's Date by the milliseconds it
// is formatted with, and window.shiftClock(ms) moves it further.
const clockScript = `(() => {
  const Real = Date;
  let shift = %d;
  window.shiftClock = (ms) => { shift += ms; };
  const now = () => Real.now() + shift;
  window.Date = class extends Real {
    constructor(...args) { if (args.length) super(...args); else super(now()); }
    static now() { return now(); }
  };
})();`

// shiftedTab opens a tab for at most d whose pages see a clock shift
// milliseconds ahead of the real one (behind when negative).
func (e *env) shiftedTab(d time.Duration, shift int) context.Context {
	e.t.Helper()

	ctx := e.tab(d)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(clockScript, shift)})
	if err != nil {
		e.t.Fatalf("shift the clock: %v", err)
	}
	return ctx
}

// tab opens a new tab (with its own sessionStorage) for at most d.
func (e *env) tab(d time.Duration) context.Context {
	e.t.Helper()

	// An alert would mean that hostile text ran as script.
	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithListener(func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			e.t.Errorf("a dialog opened: %q", d.Message)
		}
		if x, ok := ev.(*runtime.EventExceptionThrown); ok {
			e.t.Logf("script error: %s %v", x.ExceptionDetails.Text, x.ExceptionDetails.Exception.Description)
		}
	}))
	e.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		e.t.Fatalf("open a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, d)
	e.t.Cleanup(cancelTimeout)
	return ctx
}

// run runs actions in ctx and fails the test on an error.
func (e *env) run(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()

	if err := chromedp.Do(ctx, actions...); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// signIn opens the console and signs in with token.
func (e *env) signIn(ctx context.Context, token string) {
	e.t.Helper()

	e.run(ctx, "sign in",
		chromedp.Navigate(e.base+Prefix),
		chromedp.WaitVisible(chromedp.CSS(`#token-input`)),
		chromedp.SendKeys(chromedp.CSS(`#token-input`), token),
		submit(`#sign-in`),
		chromedp.WaitVisible(chromedp.CSS(`#nav`)))
}

// goTo loads a console page afresh and waits for sel. It leaves the page
// first, since a navigation that changes only the hash never "loads".
func (e *env) goTo(ctx context.Context, hash, sel string) {
	e.t.Helper()
	e.run(ctx, "open "+hash, chromedp.Navigate("about:blank"), chromedp.Navigate(e.base+Prefix+hash),
		chromedp.WaitVisible(chromedp.CSS(sel)))
}

// screenshot writes the page at a desktop and a narrow width.
func (e *env) screenshot(ctx context.Context, name string) {
	e.t.Helper()

	e.shoot(ctx, name+"-desktop", 1280, 900)
	e.shoot(ctx, name+"-narrow", 390, 844)
	e.run(ctx, "reset viewport", chromedp.EmulateViewport(1280, 900))
}

// screenshotDark writes the page at a desktop width in the dark colour
// scheme.
func (e *env) screenshotDark(ctx context.Context, name string) {
	e.t.Helper()

	dark := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
		{Name: "prefers-color-scheme", Value: "dark"}}}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, dark); err != nil {
		e.t.Fatalf("emulate the dark scheme: %v", err)
	}
	e.shoot(ctx, name+"-dark", 1280, 900)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		e.t.Fatalf("end the dark scheme: %v", err)
	}
}

// shoot writes the whole page at a viewport of w×h pixels to name.png.
func (e *env) shoot(ctx context.Context, name string, w, h int64) {
	e.t.Helper()

	if err := os.MkdirAll(e.shots, 0o755); err != nil {
		e.t.Fatal(err)
	}
	e.run(ctx, "resize", chromedp.EmulateViewport(w, h), chromedp.Sleep(100*time.Millisecond))
	png := get(e, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(e.shots, name+".png"), png, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// get runs a and returns its value; it fails the test on an error.
func get[T any](e *env, ctx context.Context, a chromedp.Action[T]) T {
	e.t.Helper()

	v, err := chromedp.Run(ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// text is the shown text of the element sel selects.
func (e *env) text(ctx context.Context, sel string) string {
	e.t.Helper()
	return strings.TrimSpace(get(e, ctx, chromedp.Text(chromedp.CSS(sel))))
}

// count is how many elements sel selects.
func (e *env) count(ctx context.Context, sel string) int {
	e.t.Helper()
	b, _ := json.Marshal(sel)
	return get(e, ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%s).length", b)))
}

// waitFor waits until the JavaScript expression js is true in the page.
func (e *env) waitFor(ctx context.Context, what, js string, timeout time.Duration) {
	e.t.Helper()

	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(timeout),
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		e.t.Fatalf("waiting until %s: %v", what, err)
	}
}

// events lists the audit events that query (e.g. "action=code.read")
// selects, newest first.
func (e *env) events(query string) []map[string]any {
	e.t.Helper()

	status, body := e.call("GET", "/v1/audit?limit=1000&"+query, e.admin, nil)
	if status != http.StatusOK {
		e.t.Fatalf("GET /v1/audit?%s: %d %v", query, status, body)
	}
	var out []map[string]any
	for _, ev := range body["events"].([]any) {
		out = append(out, ev.(map[string]any))
	}
	return out
}

// codeReads is how many code reads of endpoint name the audit trail holds.
func (e *env) codeReads(name string) int {
	e.t.Helper()
	return len(e.events("action=code.read&endpoint=" + name))
}

// submit clicks the submit button of the form sel selects, as a person
// would; HTMLFormElement.submit would skip the form's submit listener.
func submit(form string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(form + ` button[type=submit]`))
}
