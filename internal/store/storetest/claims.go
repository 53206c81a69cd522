package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/totpvault/totpvault/internal/store"
)

// claim reserves a step or stops t.
func claim(t *testing.T, s Store, name string, earliest, latest uint64) uint64 {
	t.Helper()

	e, step, err := s.ClaimStep(t.Context(), name, earliest, latest)
	if err != nil {
		t.Fatalf("ClaimStep(%q, %d, %d): %v", name, earliest, latest, err)
	}
	if e.Name != name || len(e.SealedSecret) == 0 {
		t.Fatalf("ClaimStep returned endpoint %q without its secret", e.Name)
	}
	return step
}

func testClaimSteps(t *testing.T, s Store) {
	createEndpoint(t, s, newEndpoint("claimed"))

	got := []uint64{
		claim(t, s, "claimed", 100, 200),
		claim(t, s, "claimed", 100, 200),
		claim(t, s, "claimed", 100, 200),
		claim(t, s, "claimed", 150, 200), // the earliest moved past the queue
		claim(t, s, "claimed", 120, 200), // the earliest fell behind the queue
	}
	if want := []uint64{100, 101, 102, 150, 151}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

func testClaimRefused(t *testing.T, s Store) {
	createEndpoint(t, s, newEndpoint("full"))
	claim(t, s, "full", 10, 11)
	claim(t, s, "full", 10, 11)

	_, next, err := s.ClaimStep(t.Context(), "full", 10, 11)
	if !errors.Is(err, store.ErrNoFreeStep) || next != 12 {
		t.Fatalf("a third claim gave step %d, %v; want 12 and ErrNoFreeStep", next, err)
	}
	if step := claim(t, s, "full", 10, 12); step != 12 {
		t.Errorf("the refusal reserved something: the next claim got %d, want 12", step)
	}

	_, _, err = s.ClaimStep(t.Context(), "missing", 10, 11)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a claim on a missing endpoint: %v, want ErrNotFound", err)
	}
}

func testClaimConcurrent(t *testing.T, s Store) {
	createEndpoint(t, s, newEndpoint("busy"))

	const claimers = 40
	var (
		mu    sync.Mutex
		steps []uint64
		wg    sync.WaitGroup
	)
	for range claimers {
		wg.Go(func() {
			_, step, err := s.ClaimStep(t.Context(), "busy", 1000, 1029)
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
	claim(t, s, "rekeyed", 500, 600)
	claim(t, s, "rekeyed", 500, 600)

	e.SealedSecret = []byte("another sealed secret")
	if _, err := s.ReplaceSecret(t.Context(), e,
		newEvent(store.ActionSecretReplace, e.Name)); err != nil {
		t.Fatal(err)
	}

	if step := claim(t, s, "rekeyed", 500, 600); step != 500 {
		t.Errorf("after a new secret the claim got step %d, want 500", step)
	}
}

func testClaimEndpointsApart(t *testing.T, s Store) {
	createEndpoints(t, s, "left", "right")
	claim(t, s, "left", 7, 9)
	claim(t, s, "left", 7, 9)

	if step := claim(t, s, "right", 7, 9); step != 7 {
		t.Errorf("a claim on another endpoint got step %d, want 7", step)
	}
}
