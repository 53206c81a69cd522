package api_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/clock"
	"github.com/totpvault/totpvault/internal/store"
)

// claimResult is what one claimer got.
type claimResult struct {
	status  int
	problem string
	counter uint64
	period  int
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

	res := claimResult{status: resp.status, problem: resp.problemCode()}
	switch resp.status {
	case http.StatusOK:
		var c codeAnswer
		resp.decode(h.t, &c)
		sensitive.add(c.Code)
		res.counter, res.period = c.Counter, c.Period
	case http.StatusConflict:
		res.retry, _ = strconv.Atoi(resp.header.Get("Retry-After"))
	}
	return res
}

// claimAtOnce claims as claim does, and fails t when the claim starts
// waiting for a step instead of answering at once. others is how many
// other requests sleep on h's clock meanwhile.
func (h *harness) claimAtOnce(t *testing.T, token, name string, body any, others int) claimResult {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := make(chan claimResult, 1)
	go func() { done <- h.claim(ctx, token, name, body) }()
	waits := make(chan error, 1)
	go func() { waits <- h.clock.WaitForSleepers(ctx, others+1) }()

	select {
	case r := <-done:
		return r
	case <-waits:
		t.Fatalf("a claim of %s waits for a step instead of answering at once", name)
		return claimResult{}
	}
}

// stepStart returns when step of a period begins.
func stepStart(step uint64, period int) time.Time {
	return time.Unix(int64(step)*int64(period), 0).UTC()
}

func TestClaimersOnThreeInstancesQueueOnSuccessiveSteps(t *testing.T) {
	t.Parallel()
	shared := clock.NewFake(epoch)
	sameClock := func(c *api.Config) { c.Clock = shared }
	var instances []*harness
	for range 3 {
		instances = append(instances, newHarness(t, sameClock, asInstance(t)))
	}

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
	t.Cleanup(h.server.StopWaiting) // so that a wait the server missed ends with the test
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

	// The server stops waiting for the leaver's step once it went away.
	eventually(t, "the leaver's going away", func() bool { return h.clock.Sleepers() == 0 })

	later := make(chan claimResult, 1)
	go func() { later <- h.claim(context.Background(), h.admin, e.Name, wait) }()
	waitForSleepers(t, h, 1)

	// The leaver's step begins and is handed to no one.
	h.clock.Set(stepStart(current+1, 30))
	if n := h.clock.Sleepers(); n != 1 {
		t.Fatalf("when the leaver's step began, %d claims still waited, want the later one", n)
	}

	h.clock.Set(stepStart(current+2, 30))
	if r := <-later; r.status != http.StatusOK || r.counter != current+2 {
		t.Errorf("the claimer after the leaver got %+v, want step %d", r, current+2)
	}

	lost := "time step " + strconv.FormatUint(current+1, 10)
	eventually(t, "a record of the claim that lost "+lost, func() bool {
		for _, ev := range h.events("endpoint=" + e.Name + "&action=code.claim") {
			if ev.Outcome == "error" && strings.Contains(ev.Detail, lost) {
				return true
			}
		}
		return false
	})
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

	lost := "time step " + strconv.FormatUint(uint64(epoch.Unix()/30)+1, 10)
	var ended []string
	for _, ev := range h.events("endpoint=" + e.Name + "&action=code.claim") {
		if ev.Outcome == "error" {
			ended = append(ended, ev.Detail)
		}
	}
	if len(ended) != 1 || !strings.Contains(ended[0], lost) {
		t.Errorf("the claim ended by the shutdown is recorded as %q, want one naming %s",
			ended, lost)
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

func TestAClaimWaitsOnePeriodByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("default-wait"), "generate": true})
	current := uint64(epoch.Unix() / 30) // with 20 s left

	if r := h.claim(context.Background(), h.admin, e.Name, nil); r.counter != current {
		t.Fatalf("the first claim got %+v, want step %d", r, current)
	}

	// The next step begins in 20 s, within one period: a claim waits for it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := make(chan claimResult, 1)
	go func() { second <- h.claim(ctx, h.admin, e.Name, nil) }()
	waitForSleepers(t, h, 1)

	// The one after begins in 50 s, beyond one period.
	r := h.claimAtOnce(t, h.admin, e.Name, nil, 1)
	if r.status != http.StatusConflict || r.retry != 50 {
		t.Fatalf("a third claim without a body got %d, Retry-After %d; want 409, 50",
			r.status, r.retry)
	}

	// Five minutes, the longest wait, reaches it.
	fourth := make(chan claimResult, 1)
	go func() { fourth <- h.claim(ctx, h.admin, e.Name, map[string]any{"wait": "5m"}) }()
	waitForSleepers(t, h, 2)

	h.clock.Set(stepStart(current+1, 30))
	if r := <-second; r.counter != current+1 {
		t.Errorf("the second claim got %+v, want step %d", r, current+1)
	}
	h.clock.Set(stepStart(current+2, 30))
	if r := <-fourth; r.counter != current+2 {
		t.Errorf("the claim waiting 5m got %+v, want step %d", r, current+2)
	}
}

func TestAClaimWhoseMinValidOutlastsItsWaitReservesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("too-short"), "generate": true})
	current := uint64(epoch.Unix() / 30) // with 20 s left

	// No claim came before; min_valid rules out the current step, and the
	// next begins after the wait.
	tooShort := map[string]any{"min_valid": 25, "wait": "10s"}
	r := h.claim(context.Background(), h.admin, e.Name, tooShort)
	if r.status != http.StatusConflict || r.retry != 20 {
		t.Fatalf("the claim got %d, Retry-After %d; want 409, 20", r.status, r.retry)
	}

	if r := h.claim(context.Background(), h.admin, e.Name, nil); r.counter != current {
		t.Errorf("after the refusal a claim got %+v, want step %d", r, current)
	}
}

// rekeyingStore is a store before whose first reservations a new secret
// replaces the endpoint's: as an admin's PUT /secret on another instance
// does between a claim's lookup of the endpoint and its reservation.
type rekeyingStore struct {
	api.Store

	// left is how many reservations get a new secret first.
	left atomic.Int32

	// rekey replaces the secret; it is set once the harness exists.
	rekey func()
}

// ClaimStep replaces the endpoint's secret, while left says so, and then
// reserves.
func (s *rekeyingStore) ClaimStep(ctx context.Context, e store.Endpoint, earliest,
	latest uint64) (store.Endpoint, uint64, error) {
	if s.left.Add(-1) >= 0 {
		s.rekey()
	}
	return s.Store.ClaimStep(ctx, e, earliest, latest)
}

func TestAClaimRacingANewSecretCountsInItsPeriod(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		rekeys int32
		status int
	}{
		{"a secret replaced once is claimed in its own period", 1, http.StatusOK},
		{"a secret replaced at every attempt is not claimed", 2, http.StatusServiceUnavailable},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rekeying := &rekeyingStore{}
			h := newHarness(t, func(c *api.Config) { rekeying.Store = c.Store; c.Store = rekeying })
			e := h.enroll(map[string]any{"name": h.name("rekeyed"), "generate": true})

			// Each new secret switches the period between 30 and 60 s.
			period := 30
			rekeying.rekey = func() {
				period = 90 - period
				resp, err := h.send(context.Background(), request{method: "PUT",
					path: "/v1/endpoints/" + e.Name + "/secret", token: h.admin,
					body: map[string]any{"generate": true, "period": period}})
				if err != nil || resp.status != http.StatusOK {
					t.Errorf("replace the secret: %v, %d", err, resp.status)
				}
			}
			rekeying.left.Store(tt.rekeys)

			r := h.claimAtOnce(t, h.admin, e.Name, nil, 0)
			if r.status != tt.status {
				t.Fatalf("the claim got %+v, want %d", r, tt.status)
			}
			if r.status == http.StatusOK && (r.period != 60 || r.counter != uint64(epoch.Unix()/60)) {
				t.Errorf("the claim got step %d of %d s, want the current step %d of 60 s",
					r.counter, r.period, epoch.Unix()/60)
			}

			// Claims go on in the last secret's period, not wedged steps
			// ahead: with its current step taken, a claim that cannot wait
			// is told to come back when the next one begins.
			if r.status != http.StatusOK {
				h.claim(context.Background(), h.admin, e.Name, nil)
			}
			want := period - int(epoch.Unix()%int64(period))
			r = h.claimAtOnce(t, h.admin, e.Name, map[string]any{"wait": "0s"}, 0)
			if r.status != http.StatusConflict || r.retry != want {
				t.Errorf("a claim after it got %d, Retry-After %d; want 409, %d",
					r.status, r.retry, want)
			}
		})
	}
}

func TestAClaimWaitingWhileTheSecretIsReplacedGetsNoOldCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("replaced"), "generate": true})
	current := uint64(epoch.Unix() / 30)
	h.claim(context.Background(), h.admin, e.Name, nil)

	waiting := make(chan claimResult, 1)
	go func() { waiting <- h.claim(context.Background(), h.admin, e.Name, nil) }()
	waitForSleepers(t, h, 1)

	h.do(request{method: "PUT", path: "/v1/endpoints/" + e.Name + "/secret", token: h.admin,
		body: map[string]any{"generate": true}}).expect(t, http.StatusOK, "")
	h.clock.Set(stepStart(current+1, 30))

	if r := <-waiting; r.status != http.StatusServiceUnavailable || r.problem != "unavailable" {
		t.Errorf("the claim that waited got %+v, want 503 unavailable", r)
	}
	if r := h.claim(context.Background(), h.admin, e.Name, nil); r.counter != current+1 {
		t.Errorf("a claim of the new secret got %+v, want step %d", r, current+1)
	}
}
