package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestHandlerSetsSecurityHeaders checks every kind of console answer: a
// page, a module, a style sheet, a missing file and the redirects, as
// Wrap serves them in front of the API.
func TestHandlerSetsSecurityHeaders(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From", "api")
	})
	h := Wrap(api)

	tests := []struct {
		path        string
		status      int
		contentType string
		location    string
	}{
		{"/ui/", http.StatusOK, "text/html", ""},
		{"/ui/app.js", http.StatusOK, "text/javascript", ""},
		{"/ui/style.css", http.StatusOK, "text/css", ""},
		{"/ui/no-such-file", http.StatusNotFound, "", ""},
		{"/ui/index.html", http.StatusMovedPermanently, "", "./"},
		{"/", http.StatusFound, "", Prefix},
		{"/ui", http.StatusFound, "", Prefix},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))

			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			if got := rec.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if rec.Header().Get("X-From") != "" {
				t.Error("a console path reached the API")
			}
			checkSecurityHeaders(t, rec.Header())
		})
	}
}

// TestWrapLeavesOtherPathsToTheAPI checks that paths outside the console
// reach the API as they came.
func TestWrapLeavesOtherPathsToTheAPI(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From", "api "+r.URL.Path)
	})
	h := Wrap(api)

	for _, path := range []string{"/healthz", "/v1/endpoints", "/uix", "/openapi.yaml"} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))

			if got := rec.Header().Get("X-From"); got != "api "+path {
				t.Errorf("X-From = %q, want the API to answer %s", got, path)
			}
		})
	}
}

// checkSecurityHeaders fails t unless h carries the console's headers.
func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()

	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'",
		"frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q allows inline code", csp)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := h.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
}

// TestStaticFilesInjectNoHTML keeps API text out of HTML parsing: no file
// may use the DOM's HTML sinks, and the page carries no inline script or
// style (the CSP would block them anyway).
func TestStaticFilesInjectNoHTML(t *testing.T) {
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|` +
		`createContextualFragment|\beval\(|new Function|setHTMLUnsafe`)
	inline := regexp.MustCompile(`<script>|<style|\sstyle=|\son[a-z]+=`)

	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		if m := sinks.Find(b); m != nil {
			t.Errorf("%s uses %s", path, m)
		}
		if strings.HasSuffix(path, ".html") && inline.Match(b) {
			t.Errorf("%s has inline script, style or handler: %s", path, inline.Find(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
