package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a Clock that moves only when told to. Its zero value is not
// usable; make one with NewFake. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type waiter struct {
	until time.Time
	wake  chan struct{}
}

// NewFake returns a Fake clock that stands at t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// Now returns the time the clock stands at.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()

	return f.now
}

// SleepUntil blocks until Set or Advance moves the clock to t or beyond, or
// until ctx is done.
func (f *Fake) SleepUntil(ctx context.Context, t time.Time) error {
	f.mu.Lock()
	if !f.now.Before(t) {
		f.mu.Unlock()
		return ctx.Err()
	}

	w := waiter{until: t, wake: make(chan struct{})}
	f.waiters = append(f.waiters, w)
	f.notify()
	f.mu.Unlock()

	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		f.remove(w)
		return ctx.Err()
	}
}

// Advance moves the clock forward by d and wakes the sleepers it passes.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.set(f.now.Add(d))
}

// Set moves the clock to t (forward or back) and wakes the sleepers that t
// reaches.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.set(t)
}

// Sleepers returns how many callers are blocked in SleepUntil.
func (f *Fake) Sleepers() int {
	f.mu.Lock()
	defer f.mu.Unlock()

	return len(f.waiters)
}

// WaitForSleepers blocks until at least n callers are blocked in
// SleepUntil, or until ctx is done.
func (f *Fake) WaitForSleepers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, changed := len(f.waiters), f.changed
		f.mu.Unlock()

		if count >= n {
			return nil
		}

		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// set moves the clock and wakes the due sleepers; f.mu must be held.
func (f *Fake) set(t time.Time) {
	f.now = t

	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if t.Before(w.until) {
			kept = append(kept, w)
			continue
		}
		close(w.wake)
	}
	f.waiters = kept
	f.notify()
}

// remove forgets a sleeper whose context ended.
func (f *Fake) remove(w waiter) {
	f.mu.Lock()
	defer f.mu.Unlock()

	for i, o := range f.waiters {
		if o.wake == w.wake {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			f.notify()
			return
		}
	}
}

// notify wakes WaitForSleepers callers; f.mu must be held.
func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}
