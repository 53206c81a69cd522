package storetest

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/totpvault/totpvault/internal/store"
)

// claim reserves a step of e or stops t.
func claim(t *testing.T, s Store, e store.Endpoint, earliest, latest uint64) uint64 {
	t.Helper()

	got, step, err := s.ClaimStep(t.Context(), e, earliest, latest)
	if err != nil {
		t.Fatalf("ClaimStep(%q, %d, %d): %v", e.Name, earliest, latest, err)
	}
	if got.Name != e.Name || len(got.SealedSecret) == 0 {
		t.Fatalf("ClaimStep returned endpoint %q without its secret", got.Name)
	}
	return step
}

func testClaimSteps(t *testing.T, s Store) {
	e := createEndpoint(t, s, newEndpoint("claimed"))

	got := []uint64{
		claim(t, s, e, 100, 200),
		claim(t, s, e, 100, 200),
		claim(t, s, e, 100, 200),
		claim(t, s, e, 150, 200), // the earliest moved past the queue
		claim(t, s, e, 120, 200), // the earliest fell behind the queue
	}
	if want := []uint64{100, 101, 102, 150, 151}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

func testClaimRefused(t *testing.T, s Store) {
	e := createEndpoint(t, s, newEndpoint("full"))
	claim(t, s, e, 10, 11)
	claim(t, s, e, 10, 11)

	got, next, err := s.ClaimStep(t.Context(), e, 10, 11)
	if !errors.Is(err, store.ErrNoFreeStep) || next != 12 {
		t.Fatalf("a third claim gave step %d, %v; want 12 and ErrNoFreeStep", next, err)
	}
	checkEndpoint(t, "the refused claim's endpoint", got, e)
	if step := claim(t, s, e, 10, 12); step != 12 {
		t.Errorf("the refusal reserved something: the next claim got %d, want 12", step)
	}

	_, _, err = s.ClaimStep(t.Context(), newEndpoint("missing"), 10, 11)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a claim on a missing endpoint: %v, want ErrNotFound", err)
	}
}

func testClaimConcurrent(t *testing.T, s Store) {
	e := createEndpoint(t, s, newEndpoint("busy"))

	const claimers = 40
	var (
		mu    sync.Mutex
		steps []uint64
		wg    sync.WaitGroup
	)
	for range claimers {
		wg.Go(func() {
			_, step, err := s.ClaimStep(t.Context(), e, 1000, 1029)
			switch {
			case errors.Is(err, store.ErrNoFreeStep):
			case err != nil:
				t.Error(err)
			default:
				mu.Lock()
				steps = append(steps, step)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	slices.Sort(steps)
	want := make([]uint64, 30)
	for i := range want {
		want[i] = 1000 + uint64(i)
	}
	if !slices.Equal(steps, want) {
		t.Errorf("granted steps %v, want each of 1000..1029 once", steps)
	}
}

func testClaimAfterReplace(t *testing.T, s Store) {
	e := createEndpoint(t, s, newEndpoint("rekeyed"))
	claim(t, s, e, 500, 600)
	claim(t, s, e, 500, 600)

	e.SealedSecret = []byte("another sealed secret")
	e, err := s.ReplaceSecret(t.Context(), e, newEvent(store.ActionSecretReplace, e.Name))
	if err != nil {
		t.Fatal(err)
	}

	if step := claim(t, s, e, 500, 600); step != 500 {
		t.Errorf("after a new secret the claim got step %d, want 500", step)
	}
}

func testClaimEndpointsApart(t *testing.T, s Store) {
	left := createEndpoint(t, s, newEndpoint("left"))
	right := createEndpoint(t, s, newEndpoint("right"))
	claim(t, s, left, 7, 9)
	claim(t, s, left, 7, 9)

	if step := claim(t, s, right, 7, 9); step != 7 {
		t.Errorf("a claim on another endpoint got step %d, want 7", step)
	}
}

func testClaimStaleSecret(t *testing.T, s Store) {
	tests := []struct {
		name   string
		period int
	}{
		{"a new secret with another period", 60},
		{"a new secret with the same period", 30},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := createEndpoint(t, s, newEndpoint("stale-"+strconv.Itoa(tt.period)))
			claim(t, s, old, 100, 200)

			changed := old
			changed.Period, changed.SealedSecret = tt.period, []byte("a newer sealed secret")
			changed, err := s.ReplaceSecret(t.Context(), changed,
				newEvent(store.ActionSecretReplace, old.Name))
			if err != nil {
				t.Fatal(err)
			}

			// Bounds built from the old secret reserve nothing, and the
			// endpoint returned is the one to build them from again.
			got, _, err := s.ClaimStep(t.Context(), old, 100, 200)
			if !errors.Is(err, store.ErrNoFreeStep) {
				t.Fatalf("a claim for the old secret: %v, want ErrNoFreeStep", err)
			}
			checkEndpoint(t, "the endpoint of the refused claim", got, changed)

			if step := claim(t, s, got, 40, 50); step != 40 {
				t.Errorf("the claim for the new secret got step %d, want 40", step)
			}
		})
	}
}
