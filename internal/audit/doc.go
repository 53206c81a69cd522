// Package audit makes audit events durable on behalf of request handlers,
// and prunes them once they are older than the retention.
//
// # Group commit
//
// Every audited request waits until its event is committed, so a commit per
// request would put one round trip and one WAL flush on the latency of
// every code read, and cap throughput at one commit time per request. The
// Batcher instead has a writer goroutine (or several, see below) that
// gathers the events of concurrent requests and writes them in one
// statement and one commit:
//
//   - The writer takes the first queued event, then everything already
//     queued, without waiting. Those are the events that piled up while the
//     previous commit ran, so batch size follows load on its own: a slower
//     commit or more requests make larger batches, with no tuning.
//   - Only when the previous batch had company (more than one event, so
//     there is load) does the writer linger up to MaxWait for more events,
//     and only until the batch is as large as the previous one (so never
//     past MaxBatch). Under no load an event is written at once, so a lone
//     request pays no added latency for a batch that would stay empty.
//   - The previous batch's size is the stop because it is the load the
//     writer last saw. Without it, a fixed set of clients that each wait
//     for their answer (a benchmark, a pool of robots) would all be in the
//     batch at once and then wait the whole MaxWait for company that cannot
//     come, adding MaxWait to every commit. When more requests come, the batch taken
//     without waiting grows past the previous one, and the stop moves up
//     with it; when fewer come, MaxWait ends the batch and the stop moves
//     down. After a burst, the first lone request may still wait MaxWait
//     once.
//   - Each Record waits for the result of the commit that holds its event.
//     A failed commit fails every Record of its batch, and those requests
//     answer 503 (fail closed); the writer keeps running, so later batches
//     succeed as soon as the database is back, with no restart.
//   - The queue is bounded (4 × MaxBatch). When it is full, Record waits
//     for room, or for its context: back-pressure instead of unbounded
//     memory when the database falls behind.
//   - Close stops taking events and writes everything already queued
//     before the writer exits.
//
// With one writer (the default) there is one commit at a time, and while
// it runs the requests of the next batch have nowhere to go: under a
// steady load the server waits on the database for part of every cycle.
// Options.Writers lets more batches commit at once, each gathering while
// the others commit; the server runs two. Records of batches that commit
// at once are numbered in the order their commits happen to take, which
// the audit trail's order (by time, then ID) does not depend on.
//
// Nothing here logs an event's contents; logs carry counts and errors only.
// Events hold no secrets, but the audit trail is the place to read them,
// not the log.
package audit
