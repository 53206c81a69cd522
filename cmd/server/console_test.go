package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWithConsoleRoutes checks that the console gets /ui/, "/" redirects
// there, and every other path reaches the API; the console's answers,
// redirects included, carry its security headers.
func TestWithConsoleRoutes(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From", "api")
	})
	h := withConsole(api)

	tests := []struct {
		path     string
		status   int
		location string
		fromAPI  bool
	}{
		{"/", http.StatusFound, "/ui/", false},
		{"/ui", http.StatusFound, "/ui/", false},
		{"/ui/", http.StatusOK, "", false},
		{"/healthz", http.StatusOK, "", true},
		{"/v1/endpoints", http.StatusOK, "", true},
		{"/uix", http.StatusOK, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))

			if rec.Code != tt.status || rec.Header().Get("Location") != tt.location {
				t.Errorf("status %d, Location %q; want %d, %q", rec.Code,
					rec.Header().Get("Location"), tt.status, tt.location)
			}
			if got := rec.Header().Get("X-From") == "api"; got != tt.fromAPI {
				t.Errorf("reached the API: %v, want %v", got, tt.fromAPI)
			}
			if !tt.fromAPI {
				checkConsoleHeaders(t, rec.Header())
			}
		})
	}
}

// checkConsoleHeaders fails t unless h carries the console's security
// headers.
func checkConsoleHeaders(t *testing.T, h http.Header) {
	t.Helper()

	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for name, value := range want {
		if got := h.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want a strict policy", csp)
	}
}
