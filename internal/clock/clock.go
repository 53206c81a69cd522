// Package clock gives totpvault its notion of now, so that tests can sit
// exactly on the edge of a time step instead of racing the wall clock.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits for it.
type Clock interface {
	// Now returns the current time.
	Now() time.Time

	// SleepUntil returns nil once Now has reached t, or ctx.Err() as soon as
	// ctx is done, whichever comes first. It returns at once when t is not
	// in the future.
	SleepUntil(ctx context.Context, t time.Time) error
}

// System is the wall clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// SleepUntil waits on a timer until t or until ctx is done.
func (System) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}

	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
