package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
)

// runAudit measures what PostgreSQL spends on the audit trail of code
// reads: for each batch size, writers commit batches of code.read events
// through the store's AppendEvents, as the server's group commit does, for
// the given time. It prints one line per size with the commits and events
// per second, the mean commit and the CPU time of all PostgreSQL processes
// per commit and per event.
func runAudit(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed audit", flag.ExitOnError)
	dbURL := fs.String("database-url", "", "PostgreSQL URL (schema already migrated)")
	sizes := fs.String("batches", "1,8,16,32", "comma-separated batch sizes")
	writers := fs.Int("writers", 2, "batches committing at once, as the server's audit writers")
	d := fs.Duration("duration", 5*time.Second, "time per batch size")
	hz := fs.Int("clock-ticks", 100, "clock ticks per second of /proc/PID/stat (getconf CLK_TCK)")
	fs.Parse(args)

	db, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()

	for _, field := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || size < 1 {
			return fmt.Errorf("batch size %q is not a positive number", field)
		}

		before := postgresTicks()
		commits, elapsed, err := commitFor(ctx, db, size, *writers, *d)
		if err != nil {
			return err
		}
		cpu := time.Duration(ticksSince(before, postgresTicks())) * time.Second / time.Duration(*hz)

		events := commits * size
		fmt.Printf("batch %3d: %6.0f commits/s %7.0f events/s, commit %5.2f ms, "+
			"postgres %5.0f µs per commit, %5.1f µs per event\n",
			size, float64(commits)/d.Seconds(), float64(events)/d.Seconds(),
			elapsed.Seconds()*1000/float64(max(commits, 1)),
			float64(cpu.Microseconds())/float64(max(commits, 1)),
			float64(cpu.Microseconds())/float64(max(events, 1)))
	}
	return nil
}

// commitFor runs writers goroutines that each commit batches of size events
// until d has passed, and returns the commits made and the time they took
// in all.
func commitFor(ctx context.Context, db *postgres.DB, size, writers int, d time.Duration) (
	int, time.Duration, error) {
	var (
		mu      sync.Mutex
		commits int
		elapsed time.Duration
		first   error
		wg      sync.WaitGroup
	)
	token := uuid.NewString()
	deadline := time.Now().Add(d)

	for w := range writers {
		wg.Go(func() {
			batch := make([]store.Event, size)
			for n := w * 7919; time.Now().Before(deadline); n += size {
				now := time.Now()
				for i := range batch {
					batch[i] = store.Event{
						Time: now, Action: store.ActionCodeRead, Outcome: store.OutcomeSuccess,
						Endpoint: fmt.Sprintf(namePattern, (n+i)%1000), TokenID: token,
						TokenName: "bench-runner", RemoteAddr: "127.0.0.1",
						RequestID: fmt.Sprintf("%016x", n+i), Detail: "time step 59492826",
					}
				}

				err := db.AppendEvents(ctx, batch)
				took := time.Since(now)

				mu.Lock()
				commits++
				elapsed += took
				first = cmpOr(first, err)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return commits, elapsed, first
}

// postgresTicks returns the CPU time, user and system in clock ticks, of
// every process on the machine named postgres, by process ID.
func postgresTicks() map[string]int {
	ticks := map[string]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the process has ended
		}

		// pid (comm) state ppid ...: utime and stime are the 14th and
		// 15th fields, the 12th and 13th after the comm.
		line := string(raw)
		open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || end < open || line[open+1:end] != "postgres" {
			continue
		}
		fields := strings.Fields(line[end+1:])
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.Atoi(fields[11])
		stime, _ := strconv.Atoi(fields[12])
		ticks[filepath.Base(filepath.Dir(path))] = utime + stime
	}
	return ticks
}

// ticksSince returns the ticks used between two postgresTicks: each
// process's growth, counting one that started in between from zero.
func ticksSince(before, after map[string]int) int {
	sum := 0
	for pid, t := range after {
		sum += t - before[pid]
	}
	return sum
}
