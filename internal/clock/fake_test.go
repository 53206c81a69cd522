package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

var start = time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)

func TestFakeWakesSleepersOnlyWhenTheirTimeIsReached(t *testing.T) {
	f := NewFake(start)
	done := make(chan error, 1)
	go func() { done <- f.SleepUntil(context.Background(), start.Add(30*time.Second)) }()

	waitSleepers(t, f, 1)
	f.Advance(30*time.Second - time.Nanosecond)
	select {
	case err := <-done:
		t.Fatalf("woke a nanosecond early: %v", err)
	case <-time.After(20 * time.Millisecond):
	}

	f.Advance(time.Nanosecond)
	if err := <-done; err != nil {
		t.Fatalf("woke with %v", err)
	}
	if f.Sleepers() != 0 {
		t.Errorf("%d sleepers left", f.Sleepers())
	}
}

func TestFakeSleepReturnsAtOnceForAPastTime(t *testing.T) {
	f := NewFake(start)

	if err := f.SleepUntil(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	if f.Sleepers() != 0 {
		t.Error("a sleep for now registered a sleeper")
	}
}

func TestFakeSleepEndsWithItsContext(t *testing.T) {
	f := NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.SleepUntil(ctx, start.Add(time.Hour)) }()

	waitSleepers(t, f, 1)
	cancel()

	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if f.Sleepers() != 0 {
		t.Errorf("a cancelled sleeper is still counted")
	}
}

func TestSystemSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := System{}.SleepUntil(ctx, time.Now().Add(time.Hour))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// waitSleepers waits until n callers sleep on f.
func waitSleepers(t *testing.T, f *Fake, n int) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.WaitForSleepers(ctx, n); err != nil {
		t.Fatal(err)
	}
}
