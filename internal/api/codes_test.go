package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// entraSecret is a secret as Microsoft Entra shows it: lower case, in
// groups of four.
const entraSecret = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq"

func TestACodeReadAnswersTheCurrentAndNextStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("o365"), "secret": entraSecret})

	resp := h.do(request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code", token: h.admin})
	resp.expect(t, http.StatusOK, "")
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", resp.header.Get("Cache-Control"))
	}

	var c codeAnswer
	resp.decode(t, &c)
	sensitive.add(c.Code, c.Next.Code)

	start := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	want := codeAnswer{
		Name: e.Name, Digits: 6, Period: 30,
		Counter:    uint64(start.Unix() / 30),
		ValidFrom:  start,
		ValidUntil: start.Add(30 * time.Second),
		// The clock stands 10 s into the step.
		SecondsRemaining: 20,
	}
	got := c
	got.Code, got.Next = "", want.Next
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !c.Next.ValidFrom.Equal(c.ValidUntil) || c.Next.ValidUntil.Sub(c.Next.ValidFrom) != 30*time.Second {
		t.Errorf("next step %v–%v does not follow %v", c.Next.ValidFrom, c.Next.ValidUntil, c.ValidUntil)
	}
	if len(c.Code) != 6 || len(c.Next.Code) != 6 {
		t.Errorf("codes %q and %q are not six digits", c.Code, c.Next.Code)
	}
}

func TestSecondsRemainingIsRoundedDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("round"), "generate": true})

	h.clock.Set(time.Date(2026, 12, 3, 18, 0, 29, 999_000_000, time.UTC))
	if got := h.code(e.Name).SecondsRemaining; got != 0 {
		t.Errorf("seconds_remaining = %d with 1 ms left, want 0", got)
	}
}

func TestMinValidWaitsForTheNextStepOnlyWhenTooLittleIsLeft(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		left     time.Duration // of the current 30 s step
		minValid int
		waits    bool
	}{
		{"exactly enough left answers at once", 10 * time.Second, 10, false},
		{"more than enough left answers at once", 10*time.Second + time.Millisecond, 10, false},
		{"a millisecond too little waits", 10*time.Second - time.Millisecond, 10, true},
		{"min_valid 0 never waits", time.Millisecond, 0, false},
		{"min_valid 29 at the step's start does not wait", 30 * time.Second, 29, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			e := h.enroll(map[string]any{"name": h.name("wait"), "generate": true})

			stepEnd := time.Date(2026, 12, 3, 18, 0, 30, 0, time.UTC)
			h.clock.Set(stepEnd.Add(-tt.left))
			path := fmt.Sprintf("/v1/endpoints/%s/code?min_valid=%d", e.Name, tt.minValid)

			done := make(chan response, 1)
			go func() { done <- h.do(request{method: "GET", path: path, token: h.admin}) }()

			if tt.waits {
				waitForSleepers(t, h, 1)
				h.clock.Set(stepEnd)
			}

			var c codeAnswer
			resp := <-done
			resp.expect(t, http.StatusOK, "")
			resp.decode(t, &c)

			wantFrom := stepEnd.Add(-30 * time.Second)
			if tt.waits {
				wantFrom = stepEnd
			}
			if !c.ValidFrom.Equal(wantFrom) {
				t.Errorf("valid_from = %v, want %v", c.ValidFrom, wantFrom)
			}
			if c.SecondsRemaining < tt.minValid {
				t.Errorf("seconds_remaining %d < min_valid %d", c.SecondsRemaining, tt.minValid)
			}
		})
	}
}

// waitForSleepers waits until n requests sleep on h's clock.
func waitForSleepers(t *testing.T, h *harness, n int) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.clock.WaitForSleepers(ctx, n); err != nil {
		t.Fatalf("no request started waiting: %v", err)
	}
}

func TestAWaitingCodeReadStopsWhenTheClientGoesAway(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("gone"), "generate": true})
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
	waitUntil(t, func() bool { return h.clock.Sleepers() == 0 })

	// The read is recorded all the same, as one that got no answer.
	query := "action=code.read&endpoint=" + e.Name
	eventually(t, "the abandoned read is recorded", func() bool {
		return len(h.events(query)) == 1
	})
	if ev := h.events(query)[0]; ev.Outcome != "error" || !strings.Contains(ev.Detail, "went away") {
		t.Errorf("event %+v, want outcome error and a detail saying the client went away", ev)
	}
}

func TestShutdownEndsWaitingCodeReadsWith503(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("shutdown"), "generate": true})
	h.clock.Set(time.Date(2026, 12, 3, 18, 0, 25, 0, time.UTC))

	done := make(chan response, 1)
	go func() {
		done <- h.do(request{method: "GET", token: h.admin,
			path: "/v1/endpoints/" + e.Name + "/code?min_valid=10"})
	}()

	waitForSleepers(t, h, 1)
	h.server.StopWaiting()

	resp := <-done
	resp.expect(t, http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(string(resp.body), `"code":"`) && resp.problemCode() != "unavailable" {
		t.Errorf("a code leaked into the refusal: %s", resp.body)
	}
}

// waitUntil polls cond for up to ten seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestVerifyMatchesTheStepsAroundNow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("verify"), "secret": entraSecret})

	codes := map[int]string{}
	for offset := -2; offset <= 2; offset++ {
		h.clock.Set(epoch.Add(time.Duration(offset) * 30 * time.Second))
		codes[offset] = h.code(e.Name).Code
	}
	h.clock.Set(epoch)

	for offset := -2; offset <= 2; offset++ {
		t.Run(fmt.Sprintf("the code of offset %+d", offset), func(t *testing.T) {
			var got struct {
				Valid  bool `json:"valid"`
				Offset *int `json:"offset"`
			}
			h.do(request{method: "POST", path: "/v1/endpoints/" + e.Name + "/verify",
				token: h.admin, body: map[string]string{"code": codes[offset]}}).decode(t, &got)

			inWindow := offset >= -1 && offset <= 1
			if got.Valid != inWindow {
				t.Fatalf("valid = %v, want %v", got.Valid, inWindow)
			}
			if inWindow && (got.Offset == nil || *got.Offset != offset) {
				t.Errorf("offset = %v, want %d", got.Offset, offset)
			}
			if !inWindow && got.Offset != nil {
				t.Errorf("an invalid code reports offset %d", *got.Offset)
			}
		})
	}
}

// oathtool returns what Debian's oathtool computes, skipping t when it is
// missing (failing under CI=true, where it must run).
func oathtool(t *testing.T, args ...string) string {
	t.Helper()

	if _, err := exec.LookPath("oathtool"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool is missing; CI must install it (apt-get install oathtool)")
		}
		t.Skip("oathtool is missing: apt-get install oathtool")
	}

	out, err := exec.Command("oathtool", args...).Output()
	if err != nil {
		t.Fatalf("oathtool %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func TestCodesAgreeWithOathtool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// The RFC 6238 seeds, base32, as long as each algorithm's block wants.
	secrets := map[string]string{
		"SHA1":   "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"SHA256": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA",
		"SHA512": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
			"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA",
	}
	instants := []time.Time{epoch, time.Date(2031, 7, 4, 23, 59, 59, 0, time.UTC)}

	for alg, secret := range secrets {
		for _, digits := range []int{6, 8} {
			for _, period := range []int{30, 60} {
				name := h.name(fmt.Sprintf("%s-%d-%d", strings.ToLower(alg), digits, period))
				h.enroll(map[string]any{"name": name, "secret": strings.ToLower(secret),
					"algorithm": alg, "digits": digits, "period": period})

				for _, at := range instants {
					t.Run(fmt.Sprintf("%s %d digits %d s at %s", alg, digits, period,
						at.Format(time.RFC3339)), func(t *testing.T) {
						h.clock.Set(at)
						got := h.code(name)

						want := oathtool(t, "--totp="+alg, "--base32",
							fmt.Sprintf("--digits=%d", digits),
							fmt.Sprintf("--time-step-size=%ds", period),
							"--now="+at.Format("2006-01-02 15:04:05 UTC"), "--window=1", secret)
						if wantCodes := strings.Fields(want); got.Code != wantCodes[0] ||
							got.Next.Code != wantCodes[1] {
							t.Errorf("code %s next %s, oathtool says %v", got.Code, got.Next.Code, wantCodes)
						}
					})
				}
			}
		}
	}
}
