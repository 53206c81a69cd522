package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// PruneSink deletes old events.
type PruneSink interface {
	// PruneEvents deletes at most limit events whose Time is before before,
	// and returns how many it deleted. Each call should be a short
	// transaction of its own, so that pruning never holds locks for long.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// The defaults of Pruner.
const (
	DefaultPruneEvery = time.Minute
	DefaultPruneBatch = 1000
	DefaultPrunePause = 50 * time.Millisecond
)

// Pruner deletes events older than a retention in small batches, in the
// background. A zero field takes its default.
type Pruner struct {
	Sink PruneSink

	// Retention is how long events are kept. Zero or negative keeps
	// everything: Run returns at once and PruneOnce deletes nothing.
	Retention time.Duration

	// Every is the wait between the end of one round and the start of the
	// next; default 1m.
	Every time.Duration

	// Batch is the most events one PruneEvents call deletes; default 1000.
	Batch int

	// Pause is the wait between two batches of a round, which leaves the
	// database to requests; default 50ms, negative for none.
	Pause time.Duration

	// Now tells the time; default time.Now.
	Now func() time.Time

	// Log receives errors and deletion counts; default slog.Default().
	Log *slog.Logger

	// sleep waits d or until ctx ends; tests replace it so that they do
	// not wait on the wall clock. Nil means a timer.
	sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults returns p with every unset field at its default.
func (p Pruner) withDefaults() Pruner {
	if p.Every <= 0 {
		p.Every = DefaultPruneEvery
	}
	if p.Batch <= 0 {
		p.Batch = DefaultPruneBatch
	}
	if p.Pause == 0 {
		p.Pause = DefaultPrunePause
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	if p.sleep == nil {
		p.sleep = sleep
	}
	return p
}

// Run prunes once at start and then every Every until ctx ends, and returns
// when ctx ends (at once when Retention keeps everything). Errors are logged,
// with counts only, and the round is tried again Every later.
func (p Pruner) Run(ctx context.Context) {
	p = p.withDefaults()
	if p.Retention <= 0 {
		return
	}

	for {
		p.round(ctx)

		if err := p.sleep(ctx, p.Every); err != nil {
			return
		}
	}
}

// round runs one round of Run and logs how it went.
func (p Pruner) round(ctx context.Context) {
	n, err := p.prune(ctx)
	if err != nil && ctx.Err() == nil {
		p.Log.Error("audit prune failed; trying again next round", "deleted", n, "err", err)
		return
	}
	if n > 0 {
		p.Log.Info("audit events pruned", "deleted", n)
	}
}

// PruneOnce runs one round and returns how many events it deleted: batch
// after batch of events older than Now()-Retention, with Pause between two,
// until a batch comes back short. It returns the count so far with the first
// error, or with ctx.Err() when ctx ends during a pause.
func (p Pruner) PruneOnce(ctx context.Context) (int, error) {
	return p.withDefaults().prune(ctx)
}

// prune is PruneOnce on a Pruner with its defaults set.
func (p Pruner) prune(ctx context.Context) (int, error) {
	if p.Retention <= 0 {
		return 0, nil
	}

	// One cutoff for the whole round, so that a long round does not chase
	// events that grew old while it ran.
	before := p.Now().Add(-p.Retention)

	total := 0
	for {
		n, err := p.Sink.PruneEvents(ctx, before, p.Batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("audit: prune events before %s: %w", before.Format(time.RFC3339), err)
		}
		if n < p.Batch {
			return total, nil
		}

		if err := p.sleep(ctx, p.Pause); err != nil {
			return total, err
		}
	}
}

// sleep waits d, or returns ctx.Err() as soon as ctx ends. It waits not at
// all when d is not positive, but still reports an ended ctx.
func sleep(ctx context.Context, d time.Duration) error {
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
