package audit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// errSinkDown stands for a database that refuses a commit.
var errSinkDown = errors.New("sink down")

// fakeSink keeps events in memory. Each AppendEvents call announces itself
// on entered (when set), waits for release (when set), sleeps delay, and then
// either fails as failCall says or marks its events written before it
// returns, so a Record can check that its event was committed before it was
// answered.
type fakeSink struct {
	delay    time.Duration
	entered  chan []store.Event
	release  chan struct{}
	failCall map[int]bool // 1-based call numbers that fail

	mu      sync.Mutex
	calls   [][]store.Event
	written map[string]int // times each RequestID was committed
}

func (s *fakeSink) AppendEvents(ctx context.Context, events []store.Event) error {
	call := s.begin(events)

	if s.entered != nil {
		s.entered <- events
	}
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}

	if s.failCall[call] {
		return errSinkDown
	}
	s.markWritten(events)
	return nil
}

// begin records a call and returns its number, from 1.
func (s *fakeSink) begin(events []store.Event) int {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.calls = append(s.calls, events)
	return len(s.calls)
}

func (s *fakeSink) markWritten(events []store.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.written == nil {
		s.written = map[string]int{}
	}
	for _, e := range events {
		s.written[e.RequestID]++
	}
}

// awaitCall waits until an AppendEvents call has begun, failing the test if
// none does.
func (s *fakeSink) awaitCall(t *testing.T) {
	t.Helper()

	select {
	case <-s.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no AppendEvents call began")
	}
}

// timesWritten is how often the event with this request ID was committed.
func (s *fakeSink) timesWritten(requestID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.written[requestID]
}

// batchSizes lists the size of every call, committed or not, in order.
func (s *fakeSink) batchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()

	sizes := make([]int, len(s.calls))
	for i, c := range s.calls {
		sizes[i] = len(c)
	}
	return sizes
}

// event returns a distinct event, told apart by its RequestID.
func event(i int) store.Event {
	return store.Event{
		Time:      time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Action:    store.ActionCodeRead,
		Outcome:   store.OutcomeSuccess,
		Endpoint:  "mail",
		RequestID: "req-" + strconv.Itoa(i),
	}
}

// discard is a logger that writes nowhere.
func discard() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newBatcher starts a batcher that the test closes when it ends.
func newBatcher(t *testing.T, sink Sink, opts Options) *Batcher {
	t.Helper()

	b := NewBatcher(sink, discard(), opts)
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// eventually waits until cond holds. It polls rather than sleeps a set time,
// so a slow machine makes the test slower, not flaky; the deadline only stops
// a broken build from hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		runtime.Gosched()
		time.Sleep(50 * time.Microsecond)
	}
}

// waitingIn counts the goroutines blocked in a select inside the batcher's
// method fn ("enqueue", "linger"), read from their stacks: the batcher keeps
// no such count, and the tests must know a goroutine waits there before
// they act.
func waitingIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]

	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, "(*Batcher)."+fn+"(") {
			n++
		}
	}
	return n
}

// recordAsync starts Record and returns where its result will arrive.
func recordAsync(ctx context.Context, r Recorder, e store.Event) <-chan error {
	res := make(chan error, 1)
	go func() { res <- r.Record(ctx, e) }()
	return res
}

// await returns the result of a recordAsync, failing the test if it never
// comes.
func await(t *testing.T, res <-chan error) error {
	t.Helper()

	select {
	case err := <-res:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Record did not return")
		return nil
	}
}
