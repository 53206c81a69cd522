package audit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{
			name: "zero options take every default",
			in:   Options{},
			want: Options{MaxBatch: 512, MaxWait: 2 * time.Millisecond, WriteTimeout: 5 * time.Second,
				Writers: 1},
		},
		{
			name: "negative options take the defaults too",
			in:   Options{MaxBatch: -1, MaxWait: -1, WriteTimeout: -1, Writers: -1},
			want: Options{MaxBatch: 512, MaxWait: 2 * time.Millisecond, WriteTimeout: 5 * time.Second,
				Writers: 1},
		},
		{
			name: "set options are kept",
			in:   Options{MaxBatch: 7, MaxWait: time.Second, WriteTimeout: time.Minute, Writers: 3},
			want: Options{MaxBatch: 7, MaxWait: time.Second, WriteTimeout: time.Minute, Writers: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.withDefaults(); got != tt.want {
				t.Errorf("withDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBatcherWithoutLoad(t *testing.T) {
	t.Run("a lone record commits at once, without waiting MaxWait for company", func(t *testing.T) {
		sink := &fakeSink{}
		b := newBatcher(t, sink, Options{MaxWait: time.Hour})

		// With an hour of MaxWait, any linger would hang these Records.
		for i := range 3 {
			if err := await(t, recordAsync(t.Context(), b, event(i))); err != nil {
				t.Fatalf("Record %d: %v", i, err)
			}
			if n := sink.timesWritten(event(i).RequestID); n != 1 {
				t.Fatalf("event %d written %d times when Record returned, want 1", i, n)
			}
		}

		if got, want := sink.batchSizes(), []int{1, 1, 1}; !slices.Equal(got, want) {
			t.Errorf("batch sizes = %v, want %v", got, want)
		}
		if got, want := b.Stats(), (Stats{Commits: 3, Events: 3}); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
	})
}

func TestBatcherUnderLoad(t *testing.T) {
	t.Run("200 concurrent records share commits and each returns after its own", func(t *testing.T) {
		const n, maxBatch = 200, 16
		sink := &fakeSink{
			delay:   200 * time.Microsecond,
			entered: make(chan []store.Event, n),
			release: make(chan struct{}),
		}
		b := newBatcher(t, sink, Options{MaxBatch: maxBatch, MaxWait: time.Millisecond})

		var wg sync.WaitGroup
		errs := make([]error, n)
		unmarked := make([]bool, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = b.Record(t.Context(), event(i))
				unmarked[i] = errs[i] == nil && sink.timesWritten(event(i).RequestID) == 0
			})
		}

		// Hold the first commit until the queue is full, so that the
		// batches behind it cannot all be single: fewer commits than
		// events follows without counting on timing.
		sink.awaitCall(t)
		eventually(t, "the queue is full", func() bool { return len(b.queue) == cap(b.queue) })
		close(sink.release)
		wg.Wait()

		for i := range n {
			if errs[i] != nil {
				t.Errorf("Record %d: %v", i, errs[i])
			}
			if unmarked[i] {
				t.Errorf("Record %d returned before the commit holding its event", i)
			}
			if got := sink.timesWritten(event(i).RequestID); got != 1 {
				t.Errorf("event %d written %d times, want 1", i, got)
			}
		}

		sizes := sink.batchSizes()
		total := 0
		for _, size := range sizes {
			total += size
			if size > maxBatch {
				t.Errorf("a batch of %d events, over MaxBatch %d", size, maxBatch)
			}
		}
		if total != n {
			t.Errorf("%d events written in all, want %d", total, n)
		}
		if len(sizes) >= n {
			t.Errorf("%d commits for %d events, want fewer", len(sizes), n)
		}
		if got, want := b.Stats(), (Stats{Commits: uint64(len(sizes)), Events: n}); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
	})

}

func TestBatcherWriters(t *testing.T) {
	t.Run("with two writers a second batch commits while the first is held", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 2), release: make(chan struct{})}
		b := newBatcher(t, sink, Options{Writers: 2})

		first := recordAsync(t.Context(), b, event(1))
		sink.awaitCall(t)
		second := recordAsync(t.Context(), b, event(2))
		sink.awaitCall(t) // one writer alone would never get here before release

		close(sink.release)
		for i, res := range []<-chan error{first, second} {
			if err := await(t, res); err != nil {
				t.Errorf("Record %d: %v", i+1, err)
			}
		}
	})

	t.Run("with one writer the next batch waits for the commit before it", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 2), release: make(chan struct{})}
		b := newBatcher(t, sink, Options{Writers: 1})

		first := recordAsync(t.Context(), b, event(1))
		sink.awaitCall(t)
		second := recordAsync(t.Context(), b, event(2))
		eventually(t, "the second event is queued", func() bool { return len(b.queue) == 1 })
		if n := len(sink.entered); n != 0 {
			t.Fatalf("%d commits began while the first was held, want none", n)
		}

		close(sink.release)
		for i, res := range []<-chan error{first, second} {
			if err := await(t, res); err != nil {
				t.Errorf("Record %d: %v", i+1, err)
			}
		}
	})
}

func TestBatcherLinger(t *testing.T) {
	tests := []struct {
		name    string
		maxWait time.Duration

		// records come one by one, each after the writer took the last.
		records int
		want    []int
	}{
		{
			name:    "after a batch of three, the next waits for company until it holds three",
			maxWait: time.Hour,
			records: 3,
			want:    []int{1, 3, 3},
		},
		{
			name:    "a waiting batch is written short once MaxWait has passed",
			maxWait: time.Millisecond,
			records: 1,
			want:    []int{1, 3, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakeSink{entered: make(chan []store.Event, 10), release: make(chan struct{}, 10)}
			b := newBatcher(t, sink, Options{MaxWait: tt.maxWait})
			loadThenRelease(t, b, sink)

			// Each Record comes once the writer waits for company, so
			// only a writer that waits puts them in one batch.
			var results []<-chan error
			for i := range tt.records {
				results = append(results, recordAsync(t.Context(), b, event(10+i)))
				if i < tt.records-1 {
					eventually(t, "the writer waits for company", func() bool {
						return waitingIn("linger") == 1 && len(b.queue) == 0
					})
				}
			}
			for _, res := range results {
				if err := await(t, res); err != nil {
					t.Fatalf("Record: %v", err)
				}
			}

			if got := sink.batchSizes(); !slices.Equal(got, tt.want) {
				t.Errorf("batch sizes = %v, want %v", got, tt.want)
			}
		})
	}
}

// loadThenRelease makes a batch of one and then, behind it, a batch of
// three: the load after which the writer waits for company. It then lets
// every later commit through at once.
func loadThenRelease(t *testing.T, b *Batcher, sink *fakeSink) {
	t.Helper()

	results := []<-chan error{recordAsync(t.Context(), b, event(0))}
	sink.awaitCall(t)
	for i := 1; i <= 3; i++ {
		results = append(results, recordAsync(t.Context(), b, event(i)))
	}
	eventually(t, "three events are queued", func() bool { return len(b.queue) == 3 })

	for range cap(sink.release) {
		sink.release <- struct{}{}
	}
	for _, res := range results {
		if err := await(t, res); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
}

func TestBatcherFailure(t *testing.T) {
	t.Run("a failed commit fails just its batch's records; the next succeeds", func(t *testing.T) {
		sink := &fakeSink{
			entered:  make(chan []store.Event, 10),
			release:  make(chan struct{}),
			failCall: map[int]bool{2: true},
		}
		b := newBatcher(t, sink, Options{MaxWait: time.Millisecond})

		// Hold the first commit so that the next three events make the
		// second batch, the one that fails.
		ok := recordAsync(t.Context(), b, event(0))
		sink.awaitCall(t)
		var failing []<-chan error
		for i := 1; i <= 3; i++ {
			failing = append(failing, recordAsync(t.Context(), b, event(i)))
		}
		eventually(t, "three events are queued", func() bool { return len(b.queue) == 3 })
		close(sink.release)

		if err := await(t, ok); err != nil {
			t.Errorf("Record of the first batch: %v", err)
		}
		for i, res := range failing {
			if err := await(t, res); !errors.Is(err, errSinkDown) {
				t.Errorf("Record %d of the failed batch = %v, want %v", i+1, err, errSinkDown)
			}
		}
		if err := await(t, recordAsync(t.Context(), b, event(4))); err != nil {
			t.Errorf("Record after the failure: %v", err)
		}

		if got, want := sink.batchSizes(), []int{1, 3, 1}; !slices.Equal(got, want) {
			t.Errorf("batch sizes = %v, want %v", got, want)
		}
		if got, want := b.Stats(), (Stats{Commits: 2, Events: 2, Failures: 1}); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
	})

	t.Run("a commit that outlives WriteTimeout fails its records", func(t *testing.T) {
		sink := &fakeSink{release: make(chan struct{})}
		b := newBatcher(t, sink, Options{WriteTimeout: time.Millisecond})

		err := await(t, recordAsync(t.Context(), b, event(0)))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Record = %v, want %v", err, context.DeadlineExceeded)
		}
	})
}

func TestBatcherContext(t *testing.T) {
	t.Run("a context already ended queues nothing", func(t *testing.T) {
		sink := &fakeSink{}
		b := newBatcher(t, sink, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		if err := b.Record(ctx, event(0)); !errors.Is(err, context.Canceled) {
			t.Errorf("Record = %v, want %v", err, context.Canceled)
		}
		if err := b.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := sink.batchSizes(); len(got) != 0 {
			t.Errorf("batch sizes = %v, want none", got)
		}
	})

	t.Run("a context that ends during the commit returns its error at once", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 1), release: make(chan struct{})}
		b := newBatcher(t, sink, Options{})
		ctx, cancel := context.WithCancel(t.Context())

		res := recordAsync(ctx, b, event(0))
		sink.awaitCall(t)
		cancel()

		if err := await(t, res); !errors.Is(err, context.Canceled) {
			t.Errorf("Record = %v, want %v", err, context.Canceled)
		}
		close(sink.release)
	})

	t.Run("a context ending while the queue is full leaves the event unwritten", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 10), release: make(chan struct{})}
		b := newBatcher(t, sink, Options{MaxBatch: 1, MaxWait: time.Millisecond})

		// One event in the held commit and four in the queue fill it.
		var waiting []<-chan error
		waiting = append(waiting, recordAsync(t.Context(), b, event(0)))
		sink.awaitCall(t)
		for i := 1; i <= cap(b.queue); i++ {
			waiting = append(waiting, recordAsync(t.Context(), b, event(i)))
		}
		eventually(t, "the queue is full", func() bool { return len(b.queue) == cap(b.queue) })

		ctx, cancel := context.WithCancel(t.Context())
		blocked := recordAsync(ctx, b, event(99))
		eventually(t, "a Record waits for room", func() bool { return waitingIn("enqueue") == 1 })
		cancel()
		if err := await(t, blocked); !errors.Is(err, context.Canceled) {
			t.Errorf("Record on a full queue = %v, want %v", err, context.Canceled)
		}

		close(sink.release)
		for _, res := range waiting {
			if err := await(t, res); err != nil {
				t.Errorf("Record: %v", err)
			}
		}
		if n := sink.timesWritten(event(99).RequestID); n != 0 {
			t.Errorf("the event given up on was written %d times, want 0", n)
		}
	})
}

func TestBatcherClose(t *testing.T) {
	t.Run("Close writes every queued event, then Record returns ErrClosed", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 10), release: make(chan struct{})}
		b := NewBatcher(sink, discard(), Options{MaxBatch: 2, MaxWait: time.Hour})

		var queued []<-chan error
		queued = append(queued, recordAsync(t.Context(), b, event(0)))
		sink.awaitCall(t)
		for i := 1; i <= 5; i++ {
			queued = append(queued, recordAsync(t.Context(), b, event(i)))
		}
		eventually(t, "five events are queued", func() bool { return len(b.queue) == 5 })

		closed := make(chan error, 1)
		go func() { closed <- b.Close(t.Context()) }()
		close(sink.release)

		if err := await(t, closed); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for i := range 6 {
			if n := sink.timesWritten(event(i).RequestID); n != 1 {
				t.Errorf("event %d written %d times by the time Close returned, want 1", i, n)
			}
		}
		for _, res := range queued {
			if err := await(t, res); err != nil {
				t.Errorf("queued Record: %v", err)
			}
		}
		if err := b.Record(t.Context(), event(6)); !errors.Is(err, ErrClosed) {
			t.Errorf("Record after Close = %v, want %v", err, ErrClosed)
		}
		if err := b.Close(t.Context()); err != nil {
			t.Errorf("second Close: %v", err)
		}
		select {
		case <-b.done:
		default:
			t.Error("the writer goroutine still runs after Close")
		}
	})

	t.Run("Close returns when its context ends while the sink hangs", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 1), release: make(chan struct{})}
		b := NewBatcher(sink, discard(), Options{WriteTimeout: time.Hour})
		res := recordAsync(t.Context(), b, event(0))
		sink.awaitCall(t)

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.Close(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Close = %v, want %v", err, context.Canceled)
		}

		// Once the sink answers, the writer ends and a later Close sees it.
		close(sink.release)
		if err := await(t, res); err != nil {
			t.Errorf("Record: %v", err)
		}
		if err := b.Close(t.Context()); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})

	t.Run("Close frees a Record waiting on a full queue with ErrClosed", func(t *testing.T) {
		sink := &fakeSink{entered: make(chan []store.Event, 10), release: make(chan struct{})}
		b := NewBatcher(sink, discard(), Options{MaxBatch: 1})

		var queued []<-chan error
		queued = append(queued, recordAsync(t.Context(), b, event(0)))
		sink.awaitCall(t)
		for i := 1; i <= cap(b.queue); i++ {
			queued = append(queued, recordAsync(t.Context(), b, event(i)))
		}
		eventually(t, "the queue is full", func() bool { return len(b.queue) == cap(b.queue) })
		blocked := recordAsync(t.Context(), b, event(99))
		eventually(t, "a Record waits for room", func() bool { return waitingIn("enqueue") == 1 })

		closed := make(chan error, 1)
		go func() { closed <- b.Close(t.Context()) }()
		if err := await(t, blocked); !errors.Is(err, ErrClosed) {
			t.Errorf("Record on a full queue during Close = %v, want %v", err, ErrClosed)
		}

		close(sink.release)
		if err := await(t, closed); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for _, res := range queued {
			if err := await(t, res); err != nil {
				t.Errorf("queued Record: %v", err)
			}
		}
	})
}

func TestDirect(t *testing.T) {
	tests := []struct {
		name    string
		fail    bool
		wantErr error
	}{
		{name: "each record is a commit of its own"},
		{name: "a failed commit fails the record", fail: true, wantErr: errSinkDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakeSink{failCall: map[int]bool{1: tt.fail, 2: tt.fail}}
			d := Direct{Sink: sink}

			for i := range 2 {
				if err := d.Record(t.Context(), event(i)); !errors.Is(err, tt.wantErr) {
					t.Errorf("Record = %v, want %v", err, tt.wantErr)
				}
			}

			if got, want := sink.batchSizes(), []int{1, 1}; !slices.Equal(got, want) {
				t.Errorf("batch sizes = %v, want %v", got, want)
			}
		})
	}
}
