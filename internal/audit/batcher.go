package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// ErrClosed is returned by Record once Close has been called.
var ErrClosed = errors.New("audit: batcher closed")

// Options tune a Batcher. A zero or negative field takes its default.
type Options struct {
	// MaxBatch is the most events in one commit; default 512. The queue
	// holds 4 × MaxBatch events.
	MaxBatch int

	// MaxWait is the longest an event waits for others to join its batch,
	// counted from when the writer takes it; default 2ms. The writer only
	// waits while the batch is smaller than the previous one, so never
	// after a batch of one.
	MaxWait time.Duration

	// WriteTimeout bounds one AppendEvents call; default 5s.
	WriteTimeout time.Duration

	// Writers is how many batches may be committing at once; default 1.
	// With two, the next batch gathers while the one before commits, so
	// the requests that it holds are answered a commit sooner and the
	// server never sits idle waiting for the database.
	Writers int
}

// The defaults of Options.
const (
	DefaultMaxBatch     = 512
	DefaultMaxWait      = 2 * time.Millisecond
	DefaultWriteTimeout = 5 * time.Second
)

// withDefaults returns o with every unset field at its default.
func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Writers <= 0 {
		o.Writers = 1
	}
	return o
}

// Stats counts what a Batcher has done so far.
type Stats struct {
	// Commits is the number of AppendEvents calls that succeeded.
	Commits uint64

	// Events is the number of events those calls made durable.
	Events uint64

	// Failures is the number of AppendEvents calls that failed.
	Failures uint64
}

// Batcher gathers the events of concurrent Records into shared commits (see
// the package documentation). Its methods are safe for concurrent use.
type Batcher struct {
	sink Sink
	log  *slog.Logger
	opts Options

	queue chan *request

	// stopping is closed when Close begins, to release Records blocked on a
	// full queue; closed, under mu, says queue is closed. Records send while
	// holding mu for reading, so the queue is never closed under a sender.
	stopping  chan struct{}
	mu        sync.RWMutex
	closed    bool
	closeOnce sync.Once

	// done is closed when every writer has written its last batch and
	// exited.
	done chan struct{}

	commits, events, failures atomic.Uint64
}

// request is one Record waiting for its commit.
type request struct {
	event store.Event

	// result receives the commit's error exactly once; its buffer lets the
	// writer move on when the Record has stopped waiting.
	result chan error
}

// NewBatcher starts the batcher's writer goroutines; Close stops them. A nil
// log means slog.Default().
func NewBatcher(sink Sink, log *slog.Logger, opts Options) *Batcher {
	if log == nil {
		log = slog.Default()
	}
	opts = opts.withDefaults()

	b := &Batcher{
		sink:     sink,
		log:      log,
		opts:     opts,
		queue:    make(chan *request, 4*opts.MaxBatch),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	var writers sync.WaitGroup
	for range opts.Writers {
		writers.Go(b.run)
	}
	go func() {
		writers.Wait()
		close(b.done)
	}()
	return b
}

// Record queues e and waits until the commit that holds it returns. It
// returns nil when e is durable and that commit's error otherwise. Once Close
// has begun it returns ErrClosed without queueing e, also when it was waiting
// for room in a full queue; one that races with the start of Close may be
// queued and written instead.
//
// It returns ctx.Err() when ctx ends first, whether e was still waiting for
// room or already queued; in the second case e may still be written. ctx
// never cancels a commit, which other requests share: WriteTimeout bounds it.
func (b *Batcher) Record(ctx context.Context, e store.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}

	r := requests.Get().(*request)
	r.event = e
	if err := b.enqueue(ctx, r); err != nil {
		requests.Put(r)
		return err
	}

	select {
	case err := <-r.result:
		r.event = store.Event{}
		requests.Put(r)
		return err
	case <-ctx.Done():
		// The writer may still answer r, so r is not reused.
		return ctx.Err()
	}
}

// requests keeps the requests of returned Records for reuse: every code
// read makes one.
var requests = sync.Pool{New: func() any {
	return &request{result: make(chan error, 1)}
}}

// enqueue puts r in the queue, waiting for room when it is full.
func (b *Batcher) enqueue(ctx context.Context, r *request) error {
	b.mu.RLock()
	defer b.mu.RUnlock()

	if b.closed {
		return ErrClosed
	}

	select {
	case b.queue <- r:
		return nil
	case <-b.stopping:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking events, writes everything already queued, and returns
// nil once the writer has exited, or ctx.Err() when ctx ends first. ctx does
// not cancel the writes: they go on in the background, each bounded by
// WriteTimeout, and a later Close can wait for them again. Close reports no
// write error: a failed commit has already failed its Records. Close may be
// called more than once, and concurrently.
func (b *Batcher) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		close(b.stopping)

		// Senders that hold mu see stopping and leave at once, so this
		// Lock does not wait on the writer.
		b.mu.Lock()
		b.closed = true
		close(b.queue)
		b.mu.Unlock()
	})

	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns what the batcher has written so far. The counts are read one
// by one, so under load they may disagree by a commit in flight.
func (b *Batcher) Stats() Stats {
	return Stats{
		Commits:  b.commits.Load(),
		Events:   b.events.Load(),
		Failures: b.failures.Load(),
	}
}

// run is a writer: it commits batch after batch until the queue is closed
// and empty.
func (b *Batcher) run() {
	prev := 0
	for first := range b.queue {
		batch := b.gather(first, prev)
		b.commit(batch)

		prev = len(batch)
	}
}

// gather returns first with the events queued behind it: all those already
// waiting and, while the batch is smaller than the previous one (prev), those
// that arrive within MaxWait.
func (b *Batcher) gather(first *request, prev int) []*request {
	batch := make([]*request, 1, b.opts.MaxBatch)
	batch[0] = first

	batch = b.drain(batch)
	if len(batch) >= prev {
		return batch
	}
	return b.linger(batch, prev)
}

// drain adds the events already queued to batch, up to MaxBatch, without
// waiting.
func (b *Batcher) drain(batch []*request) []*request {
	for len(batch) < b.opts.MaxBatch {
		select {
		case r, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// linger adds events to batch as they arrive, until it holds target events,
// MaxWait passes, or the queue closes: a shutdown writes at once rather than
// wait for company. target is at most MaxBatch, being a batch's size.
func (b *Batcher) linger(batch []*request, target int) []*request {
	timer := time.NewTimer(b.opts.MaxWait)
	defer timer.Stop()

	for len(batch) < target {
		select {
		case r, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// commit writes batch and hands the result to each of its Records.
func (b *Batcher) commit(batch []*request) {
	// A fresh slice per batch: the sink may keep what it is given.
	events := make([]store.Event, len(batch))
	for i, r := range batch {
		events[i] = r.event
	}

	err := b.write(events)
	b.count(len(events), err)

	for _, r := range batch {
		r.result <- err
	}
}

// write makes events durable in one AppendEvents call. Its context comes
// from no request, since the batch belongs to many: only WriteTimeout ends it.
func (b *Batcher) write(events []store.Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.WriteTimeout)
	defer cancel()

	if err := b.sink.AppendEvents(ctx, events); err != nil {
		return fmt.Errorf("audit: write batch of %d events: %w", len(events), err)
	}
	return nil
}

// count updates the stats and logs a failure, with counts only.
func (b *Batcher) count(n int, err error) {
	if err != nil {
		b.failures.Add(1)
		b.log.Error("audit batch not written; its requests fail", "events", n, "err", err)
		return
	}

	b.commits.Add(1)
	b.events.Add(uint64(n))
}
