package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// now is the fixed instant the pruner tests run at.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// pruneCall is one PruneEvents call as the fake saw it.
type pruneCall struct {
	before time.Time
	limit  int
}

// fakePruneSink answers PruneEvents from a script: the i-th call deletes
// deleted[i] events, or fails when that entry is negative. Calls past the
// script delete nothing.
type fakePruneSink struct {
	deleted []int

	// onCall, when set, runs inside every call with its number, from 1.
	onCall func(call int)

	mu    sync.Mutex
	calls []pruneCall
}

func (s *fakePruneSink) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	s.mu.Lock()
	s.calls = append(s.calls, pruneCall{before: before, limit: limit})
	call := len(s.calls)
	s.mu.Unlock()

	if s.onCall != nil {
		s.onCall(call)
	}
	if call > len(s.deleted) {
		return 0, nil
	}
	if n := s.deleted[call-1]; n >= 0 {
		return n, nil
	}
	return 0, errSinkDown
}

func (s *fakePruneSink) seen() []pruneCall {
	s.mu.Lock()
	defer s.mu.Unlock()

	return slices.Clone(s.calls)
}

// sleepRecorder stands in for the pruner's waits: it records each duration
// and returns at once, or with ctx's error once ctx has ended.
type sleepRecorder struct {
	waits []time.Duration
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func TestPruneOnce(t *testing.T) {
	const retention = 30 * 24 * time.Hour
	cutoff := now.Add(-retention)

	tests := []struct {
		name      string
		pruner    Pruner
		deleted   []int
		want      int
		wantErr   error
		wantCalls int
		wantLimit int
		wantWaits []time.Duration
	}{
		{
			name:      "a round deletes batch after batch until one comes back short",
			pruner:    Pruner{Retention: retention, Batch: 3, Pause: time.Second},
			deleted:   []int{3, 3, 1},
			want:      7,
			wantCalls: 3,
			wantLimit: 3,
			wantWaits: []time.Duration{time.Second, time.Second},
		},
		{
			name:      "a round that ends on a full batch needs one empty batch to know",
			pruner:    Pruner{Retention: retention, Batch: 3, Pause: time.Second},
			deleted:   []int{3, 3, 0},
			want:      6,
			wantCalls: 3,
			wantLimit: 3,
			wantWaits: []time.Duration{time.Second, time.Second},
		},
		{
			name:      "nothing old enough takes one call and no pause",
			pruner:    Pruner{Retention: retention, Batch: 3, Pause: time.Second},
			deleted:   []int{0},
			wantCalls: 1,
			wantLimit: 3,
		},
		{
			name:      "zero batch and pause take their defaults",
			pruner:    Pruner{Retention: retention},
			deleted:   []int{1000, 5},
			want:      1005,
			wantCalls: 2,
			wantLimit: 1000,
			wantWaits: []time.Duration{50 * time.Millisecond},
		},
		{
			name:      "a negative pause goes on without waiting",
			pruner:    Pruner{Retention: retention, Batch: 2, Pause: -1},
			deleted:   []int{2, 1},
			want:      3,
			wantCalls: 2,
			wantLimit: 2,
			wantWaits: []time.Duration{-1},
		},
		{
			name:      "an error ends the round and reports what was deleted before it",
			pruner:    Pruner{Retention: retention, Batch: 3, Pause: time.Second},
			deleted:   []int{3, -1},
			want:      3,
			wantErr:   errSinkDown,
			wantCalls: 2,
			wantLimit: 3,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:    "zero retention keeps everything",
			pruner:  Pruner{Batch: 3},
			deleted: []int{3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakePruneSink{deleted: tt.deleted}
			waits := &sleepRecorder{}
			p := tt.pruner
			p.Sink, p.Now, p.Log, p.sleep = sink, func() time.Time { return now }, discard(), waits.sleep

			got, err := p.PruneOnce(t.Context())

			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("PruneOnce = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
			calls := sink.seen()
			if len(calls) != tt.wantCalls {
				t.Fatalf("%d PruneEvents calls, want %d", len(calls), tt.wantCalls)
			}
			for _, c := range calls {
				if !c.before.Equal(cutoff) || c.limit != tt.wantLimit {
					t.Errorf("PruneEvents(%v, %d), want (%v, %d)", c.before, c.limit, cutoff, tt.wantLimit)
				}
			}
			if !slices.Equal(waits.waits, tt.wantWaits) {
				t.Errorf("pauses = %v, want %v", waits.waits, tt.wantWaits)
			}
		})
	}
}

func TestPruneOnceContext(t *testing.T) {
	t.Run("a context that ends during a pause ends the round", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		sink := &fakePruneSink{deleted: []int{3, 3}, onCall: func(int) { cancel() }}

		// The real timer here: an hour-long pause must give way to ctx.
		p := Pruner{Sink: sink, Retention: time.Hour, Batch: 3, Pause: time.Hour, Log: discard()}

		got, err := p.PruneOnce(ctx)
		if got != 3 || !errors.Is(err, context.Canceled) {
			t.Errorf("PruneOnce = %d, %v; want 3, %v", got, err, context.Canceled)
		}
		if n := len(sink.seen()); n != 1 {
			t.Errorf("%d PruneEvents calls, want 1", n)
		}
	})
}

func TestPrunerRun(t *testing.T) {
	t.Run("Run prunes at start, then every Every, until its context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		sink := &fakePruneSink{}
		var waits []time.Duration
		p := Pruner{
			Sink: sink, Retention: time.Hour, Every: time.Minute, Now: func() time.Time { return now },
			Log: discard(),
			sleep: func(ctx context.Context, d time.Duration) error {
				waits = append(waits, d)
				if len(waits) == 3 {
					cancel()
				}
				return ctx.Err()
			},
		}

		runWithin(t, ctx, p)

		if n := len(sink.seen()); n != 3 {
			t.Errorf("%d rounds, want 3", n)
		}
		if want := []time.Duration{time.Minute, time.Minute, time.Minute}; !slices.Equal(waits, want) {
			t.Errorf("waits between rounds = %v, want %v", waits, want)
		}
	})

	t.Run("a failed round is logged with counts only and tried again next round", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		sink := &fakePruneSink{deleted: []int{-1, 4}}
		var log bytes.Buffer
		rounds := 0
		p := Pruner{
			Sink: sink, Retention: time.Hour, Batch: 10, Now: func() time.Time { return now },
			Log: slog.New(slog.NewTextHandler(&log, nil)),
			sleep: func(ctx context.Context, d time.Duration) error {
				if rounds++; rounds == 2 {
					cancel()
				}
				return ctx.Err()
			},
		}

		runWithin(t, ctx, p)

		out := log.String()
		wants := []string{"audit prune failed", "sink down", "audit events pruned", "deleted=4"}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("Run returns at once when retention keeps everything", func(t *testing.T) {
		sink := &fakePruneSink{}

		runWithin(t, t.Context(), Pruner{Sink: sink, Log: discard()})

		if n := len(sink.seen()); n != 0 {
			t.Errorf("%d PruneEvents calls, want 0", n)
		}
	})
}

// runWithin runs p.Run(ctx) and fails the test if it does not return.
func runWithin(t *testing.T, ctx context.Context, p Pruner) {
	t.Helper()

	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()

	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}
