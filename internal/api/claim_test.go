package api_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/clock"
	"github.com/totpvault/totpvault/internal/store"
)

// claimResult is what one claimer got.
type claimResult struct {
	status  int
	counter uint64
	retry   int
	err     error
}

// claim claims a code of name with body and reports what came back.
func (h *harness) claim(ctx context.Context, token, name string, body any) claimResult {
	resp, err := h.send(ctx, request{method: "POST", path: "/v1/endpoints/" + name + "/claim",
		token: token, body: body})
	if err != nil {
		return claimResult{err: err}
	}

	res := claimResult{status: resp.status}
	switch resp.status {
	case http.StatusOK:
		var c codeAnswer
		resp.decode(h.t, &c)
		sensitive.add(c.Code)
		res.counter = c.Counter
	case http.StatusConflict:
		res.retry, _ = strconv.Atoi(resp.header.Get("Retry-After"))
	}
	return res
}

// stepStart returns when step of a period begins.
func stepStart(step uint64, period int) time.Time {
	return time.Unix(int64(step)*int64(period), 0).UTC()
}

func TestClaimersOnThreeInstancesQueueOnSuccessiveSteps(t *testing.T) {
	t.Parallel()
	shared := clock.NewFake(epoch)
	sameClock := func(c *api.Config) { c.Clock = shared }
	instances := []*harness{newHarness(t, sameClock), newHarness(t, sameClock), newHarness(t, sameClock)}

	first := instances[0]
	e := first.enroll(map[string]any{"name": first.name("shared"), "generate": true, "period": 10})
	runner := first.token(store.RoleRunner, []string{e.Name}, time.Time{})

	current := uint64(epoch.Unix() / 10)
	shared.Set(stepStart(current, 10).Add(2 * time.Second))

	const claimers = 50
	results := make(chan claimResult, claimers)
	for i := range claimers {
		h := instances[i%len(instances)]
		go func() { results <- h.claim(context.Background(), runner, e.Name, map[string]any{"wait": "300s"}) }()
	}

	// The current step and steps current+1 … current+30 begin within 300 s
	// of now; the other 19 claimers reserve nothing and come back at once.
	const granted = 31
	var refused []claimResult
	var steps []uint64
	for range claimers - granted + 1 {
		r := <-results
		if r.status == http.StatusOK {
			steps = append(steps, r.counter)
			continue
		}
		refused = append(refused, r)
	}
	waitForSleepers(t, first, granted-1)

	for k := uint64(1); k < granted; k++ {
		shared.Set(stepStart(current+k, 10))
		r := <-results
		if r.status != http.StatusOK {
			t.Fatalf("at step +%d a claimer got %d (%v)", k, r.status, r.err)
		}
		steps = append(steps, r.counter)
	}

	for i, step := range steps {
		if step != current+uint64(i) {
			t.Fatalf("steps granted in order %v, want %d, %d, … one each", steps, current, current+1)
		}
	}
	for _, r := range refused {
		// The step that would have been reserved, current+31, begins
		// 310 s after the current one, which began 2 s ago.
		if r.status != http.StatusConflict || r.retry != 308 {
			t.Errorf("a refused claim got %d with Retry-After %d, want 409 and 308", r.status, r.retry)
		}
	}
	if len(refused) != claimers-granted {
		t.Errorf("%d claims refused, want %d", len(refused), claimers-granted)
	}
}

func TestAClaimHonoursMinValidAtTheStepEdge(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		left  time.Duration
		waits bool
	}{
		{"exactly min_valid left takes the current step", 10 * time.Second, false},
		{"a millisecond less takes the next step", 10*time.Second - time.Millisecond, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			e := h.enroll(map[string]any{"name": h.name("edge"), "generate": true})

			current := uint64(epoch.Unix() / 30)
			h.clock.Set(stepStart(current+1, 30).Add(-tt.left))

			done := make(chan claimResult, 1)
			go func() { done <- h.claim(context.Background(), h.admin, e.Name, map[string]any{"min_valid": 10}) }()

			want := current
			if tt.waits {
				want = current + 1
				waitForSleepers(t, h, 1)
				h.clock.Set(stepStart(want, 30))
			}
			if r := <-done; r.status != http.StatusOK || r.counter != want {
				t.Errorf("got %d step %d, want step %d", r.status, r.counter, want)
			}
		})
	}
}

func TestAClaimThatCannotWaitReservesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("no-wait"), "generate": true})
	current := uint64(epoch.Unix() / 30)
	noWait := map[string]any{"wait": "0s"}

	if r := h.claim(context.Background(), h.admin, e.Name, noWait); r.counter != current {
		t.Fatalf("the first claim got %+v, want step %d", r, current)
	}

	// 20 s of the current step are left when the next would begin.
	r := h.claim(context.Background(), h.admin, e.Name, noWait)
	if r.status != http.StatusConflict || r.retry != 20 {
		t.Fatalf("a second claim without waiting got %d, Retry-After %d; want 409, 20", r.status, r.retry)
	}

	h.clock.Set(stepStart(current+1, 30))
	if r := h.claim(context.Background(), h.admin, e.Name, noWait); r.counter != current+1 {
		t.Errorf("after the refusal the next claim got step %d, want %d", r.counter, current+1)
	}

	kinds := map[string]int{}
	for _, ev := range h.events("endpoint=" + e.Name + "&action=code.claim") {
		kinds[ev.Outcome]++
	}
	if kinds["success"] != 2 || kinds["error"] != 1 {
		t.Errorf("claims recorded as %v, want 2 success and 1 error", kinds)
	}
}

func TestAClaimerThatGoesAwayHoldsUpNoOneAfterItsStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("leaver"), "generate": true})
	current := uint64(epoch.Unix() / 30)
	wait := map[string]any{"wait": "2m"}

	h.claim(context.Background(), h.admin, e.Name, wait) // the current step

	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan claimResult, 1)
	go func() { gone <- h.claim(ctx, h.admin, e.Name, wait) }()
	waitForSleepers(t, h, 1)
	cancel()
	if r := <-gone; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the leaver's claim ended with %+v", r)
	}

	later := make(chan claimResult, 1)
	go func() { later <- h.claim(context.Background(), h.admin, e.Name, wait) }()
	waitForSleepers(t, h, 1)

	h.clock.Set(stepStart(current+2, 30))
	if r := <-later; r.status != http.StatusOK || r.counter != current+2 {
		t.Errorf("the claimer after the leaver got %+v, want step %d", r, current+2)
	}
}

func TestClaimsOnTwoEndpointsNeverBlockEachOther(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	busy := h.enroll(map[string]any{"name": h.name("busy"), "generate": true})
	idle := h.enroll(map[string]any{"name": h.name("idle"), "generate": true})
	current := uint64(epoch.Unix() / 30)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 3 {
		go h.claim(ctx, h.admin, busy.Name, map[string]any{"wait": "5m"})
	}
	waitForSleepers(t, h, 2)

	if r := h.claim(context.Background(), h.admin, idle.Name, nil); r.counter != current {
		t.Errorf("a claim on an idle endpoint got %+v, want step %d at once", r, current)
	}
}

func TestShutdownEndsWaitingClaimsWith503(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("stopping"), "generate": true})
	h.claim(context.Background(), h.admin, e.Name, nil)

	done := make(chan claimResult, 1)
	go func() { done <- h.claim(context.Background(), h.admin, e.Name, nil) }()
	waitForSleepers(t, h, 1)
	h.server.StopWaiting()

	if r := <-done; r.status != http.StatusServiceUnavailable {
		t.Errorf("a waiting claim got %d at shutdown, want 503", r.status)
	}
}

func TestClaimAnswersLookLikeCodeAnswersWithoutNext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("shape"), "secret": entraSecret})

	resp := h.do(request{method: "POST", path: "/v1/endpoints/" + e.Name + "/claim", token: h.admin})
	resp.expect(t, http.StatusOK, "")

	var got codeAnswer
	resp.decode(t, &got)
	want := h.code(e.Name)
	if got.Code != want.Code || got.Counter != want.Counter || got.SecondsRemaining != 20 ||
		got.Next.Code != "" {
		t.Errorf("claimed %+v, the code read says %+v", got, want)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Error("a claimed code may be cached")
	}
}
