package console

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// previewShown is true once the enroll form shows the chosen QR image.
const previewShown = `(() => {
  const img = document.querySelector('img.preview');
  return !!img && !img.hidden && img.naturalWidth > 0;
})()`

// entraSecret is RFC 6238's SHA-1 test key as Entra's set-up page shows a
// key: spaced and in lower case.
const entraSecret = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq"

// TestConsoleInBrowser drives the console in headless Chromium against a
// real server, one step after another on the same store.
func TestConsoleInBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := e.tab(3 * time.Minute)
	e.run(ctx, "open the console", chromedp.Navigate(e.base+Prefix),
		chromedp.WaitVisible(chromedp.CSS(`#token-input`)))
	e.screenshot(ctx, "sign-in")
	e.signIn(ctx, e.admin)
	e.screenshot(ctx, "enroll")

	t.Run("enrolls by secret and shows the code the API gives", func(t *testing.T) {
		e.t = t
		e.enroll(ctx, "by-secret", func() {
			// Entra shows the key spaced and in lower case; it is pasted as is.
			e.run(ctx, "type secret", chromedp.SendKeys(chromedp.CSS(`#enroll-secret`), entraSecret))
		})
		e.run(ctx, "show code", chromedp.Click(chromedp.CSS(`#show-code`)),
			chromedp.WaitVisible(chromedp.CSS(`#code`)))
		e.checkCodeMatchesAPI(ctx, "by-secret")
		e.checkCountdownMatchesAPI(ctx, "by-secret")
		e.checkCountdownDecreases(ctx)
		e.screenshot(ctx, "enroll-and-code")
	})

	t.Run("verifies the current code and refuses a wrong one", func(t *testing.T) {
		e.t = t
		if got := e.verify(ctx, e.text(ctx, `#code`)); !strings.HasPrefix(got, "Valid") {
			t.Errorf("the shown code verifies as %q, want Valid", got)
		}
		wrong := e.invalidCode("by-secret")
		if got := e.verify(ctx, wrong); got != "Not valid." {
			t.Errorf("%s verifies as %q, want Not valid.", wrong, got)
		}
	})

	t.Run("enrolls by a QR image chosen in the file input", func(t *testing.T) {
		e.t = t
		file, _ := filepath.Abs("../qr/testdata/plain.png")
		e.enroll(ctx, "by-qr", func() {
			e.run(ctx, "choose QR", chromedp.Click(chromedp.CSS(`#enroll-source-qr_image`)),
				chromedp.SetUploadFiles(chromedp.CSS(`#enroll-qr`), []string{file}),
				chromedp.WaitVisible(chromedp.CSS(`img.preview`)))
		})
		e.checkIssuer("by-qr", "Contoso")
	})

	t.Run("enrolls by a QR image dropped on the form", func(t *testing.T) {
		e.t = t
		e.enroll(ctx, "by-drop", func() {
			e.dispatchImage(ctx, "drop", `#enroll-drop`, "../qr/testdata/plain.png")
			e.waitFor(ctx, "the preview shows", previewShown, 5*time.Second)
		})
		e.checkIssuer("by-drop", "Contoso")
	})

	t.Run("enrolls by a screenshot pasted with Ctrl+V", func(t *testing.T) {
		e.t = t
		e.enroll(ctx, "by-paste", func() {
			e.dispatchImage(ctx, "paste", `#enroll-name`, "../qr/testdata/page.png")
			e.waitFor(ctx, "the preview shows", previewShown, 5*time.Second)
		})
		e.checkIssuer("by-paste", "Contoso")
	})

	t.Run("shows a generated key's QR code once", func(t *testing.T) {
		e.t = t
		e.enroll(ctx, "generated", func() {
			e.run(ctx, "choose generate", chromedp.Click(chromedp.CSS(`#enroll-source-generate`)))
		})
		e.run(ctx, "QR shown", chromedp.WaitVisible(chromedp.CSS(`#generated-qr`)))
		uri := get(e, ctx, chromedp.Value(chromedp.CSS(`#generated-uri`)))
		if !strings.HasPrefix(uri, "otpauth://totp/") {
			t.Errorf("URI shown = %q", uri)
		}
		e.checkImageLoaded(ctx, `#generated-qr`)
		e.screenshot(ctx, "generated")

		e.goTo(ctx, "#/endpoints/generated", `#details`)
		if n := e.count(ctx, `#generated-qr, #generated-uri`); n != 0 {
			t.Errorf("the endpoint page shows the QR or URI again (%d elements)", n)
		}
	})

	t.Run("renders hostile issuer and labels as text", func(t *testing.T) {
		e.t = t
		status, _ := e.call("POST", "/v1/endpoints", e.admin, map[string]any{
			"name": "hostile", "generate": true, "issuer": hostile, "labels": map[string]string{"note": hostile},
		})
		if status != 201 {
			t.Fatalf("enroll hostile: %d", status)
		}
		e.goTo(ctx, "#/endpoints/hostile", `#details`)
		if got := e.text(ctx, `#details`); strings.Count(got, hostile) != 2 {
			t.Errorf("details = %q; want the hostile text twice, as text", got)
		}
		e.goTo(ctx, "#/endpoints", `#endpoint-list table`)
		if !strings.Contains(e.text(ctx, `#endpoint-list`), hostile) {
			t.Error("the list does not show the hostile text as text")
		}
		e.screenshot(ctx, "endpoints")
		if n := e.count(ctx, `img[src="x"]`); n != 0 {
			t.Errorf("hostile text became %d img elements", n)
		}
	})

	t.Run("edits labels, replaces the secret and deletes on the typed name", func(t *testing.T) {
		e.t = t
		e.endpointPage(ctx)
	})

	t.Run("filters the endpoint list and pages through it", func(t *testing.T) {
		e.t = t
		e.endpointList(ctx)
	})

	t.Run("creates a token, shows it once and revokes it", func(t *testing.T) {
		e.t = t
		e.goTo(ctx, "#/tokens", `#token-form`)
		e.run(ctx, "create token",
			chromedp.SendKeys(chromedp.CSS(`#token-name`), "ci-runner"),
			chromedp.SendKeys(chromedp.CSS(`#token-scopes`), "by-*"),
			chromedp.SendKeys(chromedp.CSS(`#token-ttl`), "1h"),
			submit(`#token-form`),
			chromedp.WaitVisible(chromedp.CSS(`#new-token-value`)))
		value := get(e, ctx, chromedp.Value(chromedp.CSS(`#new-token-value`)))
		if status, _ := e.call("GET", "/v1/endpoints/by-secret", value, nil); status != 200 {
			t.Fatalf("the shown token reads an endpoint in scope: %d", status)
		}
		// The screenshot shows a made-up value, never a real token.
		e.run(ctx, "hide the value", chromedp.SetValue(chromedp.CSS(`#new-token-value`), "tvt_example…"))
		e.screenshot(ctx, "tokens")

		e.goTo(ctx, "#/audit", `#audit-list`)
		e.goTo(ctx, "#/tokens", `#token-list table`)
		if n := e.count(ctx, `#new-token-value`); n != 0 {
			t.Error("the token value is shown a second time")
		}
		id := e.tokenID()
		e.run(ctx, "revoke",
			chromedp.Click(chromedp.CSS(`[data-revoke="`+id+`"]`)),
			chromedp.Click(chromedp.CSS(`[data-confirm-revoke="`+id+`"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`[data-confirm-revoke="`+id+`"]`)))
		if status, _ := e.call("GET", "/v1/endpoints/by-secret", value, nil); status != 401 {
			t.Errorf("the revoked token answers %d, want 401", status)
		}
	})

	t.Run("lists the code reads in the audit", func(t *testing.T) {
		e.t = t
		e.goTo(ctx, "#/audit", `#audit-list table`)
		e.run(ctx, "filter", chromedp.SetValue(chromedp.CSS(`#audit-action`), "code.read"),
			chromedp.SendKeys(chromedp.CSS(`#audit-endpoint`), "by-secret"),
			submit(`form.filters`),
			chromedp.Sleep(300*time.Millisecond))
		rows := e.text(ctx, `#audit-list tbody`)
		if !strings.Contains(rows, "code.read") || !strings.Contains(rows, "by-secret") {
			t.Errorf("audit rows = %q; want the code reads of by-secret", rows)
		}
		if strings.Contains(rows, "token.create") {
			t.Error("the action filter was not applied")
		}
		e.screenshot(ctx, "audit")
	})

	t.Run("hides admin controls from a runner", func(t *testing.T) {
		e.t = t
		status, created := e.call("POST", "/v1/tokens", e.admin,
			map[string]any{"name": "runner", "role": "runner", "scopes": []string{"by-*"}})
		if status != 201 {
			t.Fatalf("create runner: %d", status)
		}
		runner := e.tab(15 * time.Second)
		e.signIn(runner, created["token"].(string))
		e.goTo(runner, "#/endpoints/by-secret", `#show-code`)
		if n := e.count(runner, `#edit-form, #secret-form, #delete-form, a[href="#/tokens"], `+
			`a[href="#/audit"], a[href="#/enroll"]`); n != 0 {
			t.Errorf("a runner sees %d admin controls", n)
		}
		e.screenshot(runner, "endpoint-runner")
		e.goTo(runner, "#/endpoints", `#endpoint-list table`)
		if list := e.text(runner, `#endpoint-list`); strings.Contains(list, "hostile") {
			t.Errorf("a runner scoped to by-* sees %q", list)
		}
		// Learning the role costs a runner one refused request, no more.
		if denied := e.events("action=auth.denied&token_id=" + created["id"].(string)); len(denied) != 1 {
			t.Errorf("a runner's sign-in left %d auth.denied records, want 1", len(denied))
		}
	})

	t.Run("keeps the token in sessionStorage only and forgets it on sign-out", func(t *testing.T) {
		e.t = t
		e.signOut()
	})

	t.Run("keeps to the server's steps with the browser clock 0.7 s ahead", func(t *testing.T) {
		e.t = t
		e.skewedCodes()
	})
}

// enroll fills the enroll form's name, lets fill choose the source, submits
// and waits for the result.
func (e *env) enroll(ctx context.Context, name string, fill func()) {
	e.t.Helper()

	e.goTo(ctx, "#/enroll", `#enroll-name`)
	e.run(ctx, "name", chromedp.SendKeys(chromedp.CSS(`#enroll-name`), name))
	fill()
	e.run(ctx, "submit", submit(`#enroll-form`),
		chromedp.WaitVisible(chromedp.CSS(`#enrolled`)))
}

// checkCodeMatchesAPI compares the shown code with /code, again after the
// next second when a step boundary fell between the two reads.
func (e *env) checkCodeMatchesAPI(ctx context.Context, name string) {
	e.t.Helper()

	var shown, want string
	for range 3 {
		shown = e.text(ctx, `#code`)
		_, c := e.call("GET", "/v1/endpoints/"+name+"/code", e.admin, nil)
		want, _ = c["code"].(string)
		if shown == want {
			return
		}
		time.Sleep(time.Second)
	}
	e.t.Errorf("shown code %q, /code says %q", shown, want)
}

// checkCountdownDecreases reads the countdown twice, a second apart.
func (e *env) checkCountdownDecreases(ctx context.Context) {
	e.t.Helper()

	for range 2 {
		before := e.seconds(ctx)
		time.Sleep(1100 * time.Millisecond)
		if after := e.seconds(ctx); after < before {
			return
		}
		// A step ended between the reads; the countdown started over.
	}
	e.t.Error("the countdown does not decrease")
}

// seconds is the countdown's number of seconds.
func (e *env) seconds(ctx context.Context) int {
	e.t.Helper()

	n, err := strconv.Atoi(strings.TrimSuffix(e.text(ctx, `#countdown`), " s"))
	if err != nil {
		e.t.Fatalf("countdown: %v", err)
	}
	return n
}

// tokenID finds the ID of the token named ci-runner.
func (e *env) tokenID() string {
	e.t.Helper()

	status, tokens := e.call("GET", "/v1/tokens", e.admin, nil)
	if status != 200 {
		e.t.Fatalf("list tokens: %d", status)
	}
	for _, t := range tokens["tokens"].([]any) {
		m := t.(map[string]any)
		if m["name"] == "ci-runner" {
			return m["id"].(string)
		}
	}
	e.t.Fatal("no token named ci-runner")
	return ""
}
