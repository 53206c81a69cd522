package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/api"
)

func TestACodeReadWhoseClientWentAwayIsStillRecorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("left"), "generate": true})
	h.clock.Set(time.Date(2026, 12, 3, 18, 0, 25, 0, time.UTC))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.send(ctx, request{method: "GET", token: h.admin,
			path: "/v1/endpoints/" + e.Name + "/code?min_valid=10"})
		errc <- err
	}()

	waitForSleepers(t, h, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("request ended with %v, want it cancelled", err)
	}

	query := "action=code.read&endpoint=" + e.Name
	eventually(t, "the abandoned read is recorded", func() bool {
		return len(h.events(query)) == 1
	})
	ev := h.events(query)[0]
	if ev.Outcome != "error" || !strings.Contains(ev.Detail, "went away") {
		t.Errorf("event %+v, want outcome error and a detail saying the client went away", ev)
	}
}

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
