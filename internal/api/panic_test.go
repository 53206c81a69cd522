package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/totpvault/totpvault/internal/api"
)

// panickingSealer seals as its keyring does and panics when asked to open.
type panickingSealer struct{ api.Sealer }

func (panickingSealer) Open(sealed, ad []byte) ([]byte, error) {
	panic("open exploded")
}

func TestARequestThatPanicsIsRecordedAsAnError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *api.Config) { c.Sealer = panickingSealer{c.Sealer} })
	e := h.enroll(map[string]any{"name": h.name("panics"), "generate": true})

	resp := h.do(request{method: "GET", token: h.admin, path: "/v1/endpoints/" + e.Name + "/code"})
	resp.expect(t, http.StatusInternalServerError, "internal")

	events := h.events("action=code.read&endpoint=" + e.Name)
	if len(events) != 1 || events[0].Outcome != "error" {
		t.Fatalf("events %+v, want one code.read with outcome error", events)
	}
	if strings.Contains(h.logs.String(), "open exploded") {
		t.Error("the panic value reached the log")
	}
}
