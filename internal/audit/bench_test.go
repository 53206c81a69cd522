package audit

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// commitTime stands in for one commit: a round trip and a WAL flush.
const commitTime = 200 * time.Microsecond

// slowSink sleeps commitTime per call. conns, when not nil, is a semaphore
// that lets that many calls run at once, like a connection pool; nil lets
// every call run at once, as if commits cost the database nothing shared.
type slowSink struct {
	conns   chan struct{}
	commits atomic.Uint64
	events  atomic.Uint64
}

func (s *slowSink) AppendEvents(ctx context.Context, events []store.Event) error {
	if s.conns != nil {
		s.conns <- struct{}{}
		defer func() { <-s.conns }()
	}

	time.Sleep(commitTime)
	s.commits.Add(1)
	s.events.Add(uint64(len(events)))
	return nil
}

// benchPools are the sink's connection limits the benchmarks run under: one
// (commits serialised, as a WAL flush is), a small pool, and none.
var benchPools = []int{1, 4, 0}

func BenchmarkBatcher(b *testing.B) {
	for _, conns := range benchPools {
		b.Run(poolName(conns), func(b *testing.B) {
			sink := newSlowSink(conns)
			batcher := NewBatcher(sink, discard(), Options{})

			benchRecorder(b, batcher, sink)

			if err := batcher.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkDirect(b *testing.B) {
	for _, conns := range benchPools {
		b.Run(poolName(conns), func(b *testing.B) {
			sink := newSlowSink(conns)

			benchRecorder(b, Direct{Sink: sink}, sink)
		})
	}
}

// benchRecorder records b.N events from 32 goroutines per CPU and reports
// how many events shared a commit.
func benchRecorder(b *testing.B, r Recorder, sink *slowSink) {
	b.SetParallelism(32)
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		e := event(0)
		for pb.Next() {
			if err := r.Record(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})

	b.StopTimer()
	if c := sink.commits.Load(); c > 0 {
		b.ReportMetric(float64(sink.events.Load())/float64(c), "events/commit")
	}
}

func newSlowSink(conns int) *slowSink {
	s := &slowSink{}
	if conns > 0 {
		s.conns = make(chan struct{}, conns)
	}
	return s
}

func poolName(conns int) string {
	if conns == 0 {
		return "conns=unlimited"
	}
	return "conns=" + strconv.Itoa(conns)
}
