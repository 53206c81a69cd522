package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/totpvault/totpvault/internal/totp"
)

// The longer steps of TestConsoleInBrowser, each on the store that the
// steps before it left.

// endpointPage edits an endpoint's labels, replaces its secret by a
// generated one while its code is shown, and deletes it, first with a
// wrong name typed and then with the right one.
func (e *env) endpointPage(ctx context.Context) {
	e.t.Helper()

	status, _ := e.call("POST", "/v1/endpoints", e.admin, map[string]any{"name": "o365-alice",
		"secret": entraSecret, "issuer": "Contoso", "account": "alice@contoso.com",
		"labels": map[string]string{"team": "ops"}})
	if status != 201 {
		e.t.Fatalf("enroll o365-alice: %d", status)
	}
	e.goTo(ctx, "#/endpoints/o365-alice", `#edit-form`)

	e.run(ctx, "edit labels", chromedp.SetValue(chromedp.CSS(`#edit-labels`), "team=blue\nenv=prod"),
		submit(`#edit-form`))
	e.waitFor(ctx, "the labels are saved", `document.querySelector('#edit-done').textContent === 'Saved.'`,
		5*time.Second)
	_, ep := e.call("GET", "/v1/endpoints/o365-alice", e.admin, nil)
	if got, _ := json.Marshal(ep["labels"]); string(got) != `{"env":"prod","team":"blue"}` {
		e.t.Errorf("labels after saving: %s", got)
	}

	e.run(ctx, "show code", chromedp.Click(chromedp.CSS(`#show-code`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	e.checkCodeMatchesAPI(ctx, "o365-alice")
	e.screenshot(ctx, "endpoint-admin")
	e.screenshotDark(ctx, "endpoint-admin")

	e.run(ctx, "replace by a generated key", chromedp.Click(chromedp.CSS(`#replace-source-generate`)),
		submit(`#secret-form`), chromedp.WaitVisible(chromedp.CSS(`#replace-result #generated-qr`)))
	e.checkImageLoaded(ctx, `#replace-result #generated-qr`)
	// The code shown is the new secret's, not the old one's.
	e.checkCodeMatchesAPI(ctx, "o365-alice")

	e.run(ctx, "confirm with a wrong name", chromedp.SendKeys(chromedp.CSS(`#delete-confirm`), "o365-alic"),
		submit(`#delete-form`))
	e.waitFor(ctx, "the wrong name is refused", `!!document.querySelector('#delete-confirm-error').textContent`,
		5*time.Second)
	if status, _ := e.call("GET", "/v1/endpoints/o365-alice", e.admin, nil); status != 200 {
		e.t.Fatalf("after a wrong name the endpoint answers %d, want 200", status)
	}

	e.setValue(ctx, `#delete-confirm`, "")
	e.run(ctx, "confirm with the name",
		chromedp.SendKeys(chromedp.CSS(`#delete-confirm`), "o365-alice"), submit(`#delete-form`),
		chromedp.WaitVisible(chromedp.CSS(`#endpoint-list table`)))
	if status, _ := e.call("GET", "/v1/endpoints/o365-alice", e.admin, nil); status != 404 {
		e.t.Errorf("after deletion the endpoint answers %d, want 404", status)
	}
	// The page changed within the console, so the focus moves to its heading.
	e.waitFor(ctx, "the focus is on the heading", `document.activeElement.tagName === 'H1' && `+
		`document.activeElement.textContent === 'Endpoints'`, 5*time.Second)
}

// endpointList pages through more endpoints than a page holds and
// filters the list by prefix and by label.
func (e *env) endpointList(ctx context.Context) {
	e.t.Helper()

	for i := range 51 {
		labels := map[string]string{"batch": "pg"}
		if i == 7 {
			labels["team"] = "blue"
		}
		status, _ := e.call("POST", "/v1/endpoints", e.admin, map[string]any{
			"name": fmt.Sprintf("pg-%03d", i), "secret": entraSecret, "labels": labels})
		if status != 201 {
			e.t.Fatalf("enroll pg-%03d: %d", i, status)
		}
	}
	e.goTo(ctx, "#/endpoints", `#endpoint-list table`)

	e.filter(ctx, "pg-", "")
	e.waitForRows(ctx, 50, "pg-000")
	e.run(ctx, "next page", chromedp.Click(chromedp.CSS(`.pager .next`)))
	e.waitForRows(ctx, 1, "pg-050")
	if !get(e, ctx, chromedp.Evaluate[bool](`document.querySelector('.pager .next').disabled`)) {
		e.t.Error("the last page offers a next page")
	}

	e.filter(ctx, "", "team:blue")
	e.waitForRows(ctx, 1, "pg-007")
}

// waitForRows waits until the endpoint list shows n rows, the first of
// endpoint first.
func (e *env) waitForRows(ctx context.Context, n int, first string) {
	e.t.Helper()

	js := fmt.Sprintf(`(() => {
  const rows = document.querySelectorAll('#endpoint-list tbody tr');
  return rows.length === %d && rows[0].cells[0].textContent === %q;
})()`, n, first)
	e.waitFor(ctx, fmt.Sprintf("%d rows from %s", n, first), js, 5*time.Second)
}

// filter sets the endpoint list's filters and applies them.
func (e *env) filter(ctx context.Context, prefix, label string) {
	e.t.Helper()

	e.setValue(ctx, `#filter-prefix`, prefix)
	e.setValue(ctx, `#filter-label`, label)
	e.run(ctx, "filter", submit(`form.filters`))
}

// setValue sets the value of the control sel selects, the empty one too
// (which chromedp.SetValue refuses).
func (e *env) setValue(ctx context.Context, sel, value string) {
	e.t.Helper()

	s, _ := json.Marshal(sel)
	v, _ := json.Marshal(value)
	e.eval(ctx, fmt.Sprintf(`document.querySelector(%s).value = %s`, s, v))
}

// signOut signs in in a new tab, checks that the token is in that tab's
// sessionStorage and nowhere else, signs out and checks that it is gone.
func (e *env) signOut() {
	e.t.Helper()

	tab := e.tab(20 * time.Second)
	e.signIn(tab, e.admin)
	if n := get(e, tab, chromedp.Evaluate[int](`localStorage.length`)); n != 0 {
		e.t.Errorf("localStorage holds %d items", n)
	}
	cookies, err := chromedp.Call(tab, network.GetCookies, network.GetCookiesParams{URLs: []string{e.base}})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(cookies.Cookies) != 0 || e.eval(tab, `document.cookie`) != "" {
		e.t.Errorf("the console set %d cookies", len(cookies.Cookies))
	}
	if got := e.eval(tab, `sessionStorage.getItem('totpvault.token')`); got != e.admin {
		e.t.Error("sessionStorage does not hold the token")
	}

	_, err = chromedp.Run(tab, chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Click(chromedp.CSS(`#sign-out`))))
	if err != nil {
		e.t.Fatalf("sign out: %v", err)
	}
	e.waitFor(tab, "the sign-in form shows", `!!document.querySelector('#token-input')`, 5*time.Second)
	if n := get(e, tab, chromedp.Evaluate[int](`sessionStorage.length`)); n != 0 {
		e.t.Errorf("after signing out sessionStorage holds %d items", n)
	}
}

// skewedCodes shows the code of an endpoint with 10-second steps in a tab
// whose clock runs 0.7 s ahead of the server's: the code switches to the
// earlier next code when the step ends, crossing the boundary costs a
// read or two, and after the idle limit the panel stops reading.
func (e *env) skewedCodes() {
	e.t.Helper()

	status, _ := e.call("POST", "/v1/endpoints", e.admin, map[string]any{"name": "p10",
		"secret": entraSecret, "period": 10})
	if status != 201 {
		e.t.Fatalf("enroll p10: %d", status)
	}
	tab := e.shiftedTab(45*time.Second, 700)
	e.signIn(tab, e.admin)
	e.goTo(tab, "#/endpoints/p10", `#show-code`)
	e.run(tab, "show code", chromedp.Click(chromedp.CSS(`#show-code`)))

	// The code and the next one, read at once once the server gave both.
	pair := `[document.querySelector('#code').textContent, document.querySelector('#next-code').textContent]`
	e.waitFor(tab, "a code and the next are shown", pair+`.every((c) => /^\d{6}$/.test(c))`, 5*time.Second)
	var shown []string
	if err := json.Unmarshal([]byte(e.eval(tab, `JSON.stringify(`+pair+`)`)), &shown); err != nil {
		e.t.Fatal(err)
	}

	e.waitFor(tab, "the step ends", fmt.Sprintf(`document.querySelector('#code').textContent !== %q`,
		shown[0]), 15*time.Second)
	if got := e.text(tab, `#code`); got != shown[1] {
		e.t.Errorf("after the step the code is %q, want the earlier next code %q", got, shown[1])
	}
	e.waitFor(tab, "the new step's next code is shown",
		`/^\d{6}$/.test(document.querySelector('#next-code').textContent)`, 5*time.Second)
	// Time for a read loop, were there one, to show in the audit trail.
	time.Sleep(1500 * time.Millisecond)
	n := e.codeReads("p10")
	if n > 3 {
		e.t.Errorf("crossing one step boundary took %d code reads, want at most 3", n)
	}
	e.t.Logf("showing the code across one step boundary took %d code reads", n)

	// Four minutes pass in the page without a key or a click.
	before := e.codeReads("p10")
	e.eval(tab, `String(window.shiftClock(4 * 60 * 1000))`)
	e.waitFor(tab, "the panel stops", `document.querySelector('#code-status').textContent.includes('idle')`,
		5*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if after := e.codeReads("p10"); after != before {
		e.t.Errorf("the stopped panel read %d more codes", after-before)
	}
	if n := e.count(tab, `.code-box:not([hidden])`); n != 0 {
		e.t.Error("the stopped panel still shows a code")
	}
}

// checkCountdownMatchesAPI compares the countdown with seconds_remaining
// of a /code read made between two readings of it. A page whose timer a
// busy machine held back shows a stale countdown for a moment, so one
// disagreement is logged and read again; the check fails when three
// readings in a row disagree, as they do when the countdown is wrong.
func (e *env) checkCountdownMatchesAPI(ctx context.Context, name string) {
	e.t.Helper()

	var disagreement string
	for range 3 {
		before := e.seconds(ctx)
		_, c := e.call("GET", "/v1/endpoints/"+name+"/code", e.admin, nil)
		after := e.seconds(ctx)
		if after > before {
			// A step ended between the readings.
			disagreement = "the countdown started over at every reading"
			continue
		}
		left := int(c["seconds_remaining"].(float64))
		if left >= after-1 && left <= before+1 {
			return
		}
		disagreement = fmt.Sprintf("countdown %d s then %d s, /code says %d s remain",
			before, after, left)
		e.t.Log(disagreement + "; reading again")
		time.Sleep(300 * time.Millisecond)
	}
	e.t.Error(disagreement)
}

// verify types code into the verify box and returns the answer shown.
func (e *env) verify(ctx context.Context, code string) string {
	e.t.Helper()

	e.eval(ctx, `document.querySelector('#verify-result').textContent = ''`)
	e.setValue(ctx, `#verify-input`, "")
	e.run(ctx, "verify "+code, chromedp.SendKeys(chromedp.CSS(`#verify-input`), code), submit(`#verify-form`))
	e.waitFor(ctx, "an answer", `!!document.querySelector('#verify-result').textContent`, 5*time.Second)
	return e.text(ctx, `#verify-result`)
}

// invalidCode returns a code that is none of the ones endpoint name (with
// entraSecret) accepts now or in the next step.
func (e *env) invalidCode(name string) string {
	e.t.Helper()

	key, err := totp.FromSecret(entraSecret, totp.Params{})
	if err != nil {
		e.t.Fatal(err)
	}
	_, c := e.call("GET", "/v1/endpoints/"+name+"/code", e.admin, nil)
	counter := uint64(c["counter"].(float64))
	valid := map[string]bool{}
	for step := counter - 1; step <= counter+2; step++ {
		code, err := key.At(step)
		if err != nil {
			e.t.Fatal(err)
		}
		valid[code.Value] = true
	}
	for d := range 10 {
		if code := strings.Repeat(fmt.Sprint(d), 6); !valid[code] {
			return code
		}
	}
	e.t.Fatal("no invalid code found")
	return ""
}

// dispatchImage sends the page a drop or paste event, on the element sel
// selects, whose DataTransfer holds the image file at path.
func (e *env) dispatchImage(ctx context.Context, kind, sel, path string) {
	e.t.Helper()

	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	script := fmt.Sprintf(`(() => {
  const bytes = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], 'qr.png', { type: 'image/png' }));
  const init = { bubbles: true, cancelable: true };
  const ev = %q === 'drop' ? new DragEvent('drop', { ...init, dataTransfer: data })
    : new ClipboardEvent('paste', { ...init, clipboardData: data });
  document.querySelector(%q).dispatchEvent(ev);
  return ev.defaultPrevented;
})()`, base64.StdEncoding.EncodeToString(b), kind, sel)
	if !get(e, ctx, chromedp.Evaluate[bool](script)) {
		e.t.Errorf("the console ignored the %s event", kind)
	}
}

// checkIssuer checks the issuer that endpoint name was enrolled with.
func (e *env) checkIssuer(name, want string) {
	e.t.Helper()

	status, ep := e.call("GET", "/v1/endpoints/"+name, e.admin, nil)
	if status != 200 || ep["issuer"] != want {
		e.t.Fatalf("GET %s: %d %v; want issuer %s from the QR", name, status, ep, want)
	}
}

// checkImageLoaded checks that the image sel selects was drawn (the CSP
// could block it).
func (e *env) checkImageLoaded(ctx context.Context, sel string) {
	e.t.Helper()

	b, _ := json.Marshal(sel)
	js := fmt.Sprintf(`document.querySelector(%s).naturalWidth > 0`, b)
	e.waitFor(ctx, sel+" is drawn", js, 5*time.Second)
}

// eval runs the JavaScript expression js and returns its value, a string.
func (e *env) eval(ctx context.Context, js string) string {
	e.t.Helper()
	return get(e, ctx, chromedp.Evaluate[string](js))
}
