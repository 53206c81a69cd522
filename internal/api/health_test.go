package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/totpvault/totpvault"
	"github.com/totpvault/totpvault/internal/api"
)

func TestOperationsRoutesNeedNoToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	h.do(request{method: "GET", path: "/healthz"}).expect(t, http.StatusOK, "")
	h.do(request{method: "GET", path: "/readyz"}).expect(t, http.StatusOK, "")

	resp := h.do(request{method: "GET", path: "/openapi.yaml"})
	resp.expect(t, http.StatusOK, "")
	if string(resp.body) != string(totpvault.APISpec) {
		t.Error("/openapi.yaml is not api.yaml")
	}
}

func TestReadyzIs503WhileTheSchemaIsOld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newUnmigratedDB(t)

	srv := api.New(api.Config{Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	// Each answer, the 503 problem too, must be what api.yaml describes.
	ready := func() int {
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/readyz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()

		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateResponse(req, resp, body); err != nil {
			t.Errorf("/readyz answered %d, which api.yaml does not allow: %v\nbody: %s",
				resp.StatusCode, err, body)
		}
		return resp.StatusCode
	}

	if got := ready(); got != http.StatusServiceUnavailable {
		t.Fatalf("unmigrated: %d, want 503", got)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("migrated: %d, want 200", got)
	}
}
