package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWithConsoleRoutes checks that the console gets /ui/, "/" redirects
// there, and every other path reaches the API.
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
			if !tt.fromAPI && tt.status == http.StatusOK &&
				rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("console answer without Content-Security-Policy")
			}
		})
	}
}
