package audit

import (
	"context"
	"fmt"

	"github.com/totpvault/totpvault/internal/store"
)

// Sink stores a batch of events in one statement and one commit; nil means
// durable. A non-nil error means none of the batch may be counted on; the
// sink should honour ctx, which bounds the whole call.
type Sink interface {
	AppendEvents(ctx context.Context, events []store.Event) error
}

// Recorder is what request handlers call; both Batcher and Direct implement
// it. Record returns nil only once e is durable; on any error the request
// must fail (fail closed).
type Recorder interface {
	Record(ctx context.Context, e store.Event) error
}

// Direct writes each event in a commit of its own, at once: the baseline the
// Batcher is measured against, and usable where there is no concurrency
// (commands, tests).
type Direct struct {
	Sink Sink
}

var (
	_ Recorder = Direct{}
	_ Recorder = (*Batcher)(nil)
)

// Record writes e in a commit of its own and waits for it. It returns nil
// when e is durable and the sink's error otherwise; ctx bounds the write.
func (d Direct) Record(ctx context.Context, e store.Event) error {
	if err := d.Sink.AppendEvents(ctx, []store.Event{e}); err != nil {
		return fmt.Errorf("audit: write event: %w", err)
	}
	return nil
}
