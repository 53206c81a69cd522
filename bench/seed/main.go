// Command seed fills a totpvault for the load benchmark in bench/run.sh.
//
//	seed api  -url U -admin T -n N        enroll N endpoints over the HTTP API,
//	                                      make a runner token, print it
//	seed copy -database-url D -master-key-file K -n N [-from F]
//	                                      COPY N sealed endpoints straight into
//	                                      PostgreSQL (the scale run)
//	seed walk -url U -admin T [-limit L]  page through GET /v1/endpoints to the
//	                                      end and report the time per page
//	seed audit -database-url D [-batches 1,8,16,32]
//	                                      commit batches of code-read audit
//	                                      events through the store and report
//	                                      PostgreSQL's CPU per commit and event
//
// Endpoints are named bench-0000000, bench-0000001, ... so that the wrk
// scripts can address any of them without a list.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
)

// namePattern names endpoint i; the wrk scripts build the same names.
const namePattern = "bench-%07d"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: seed api|copy|walk|audit [flags]")
		os.Exit(2)
	}

	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "api":
		err = runAPI(ctx, os.Args[2:])
	case "copy":
		err = runCopy(ctx, os.Args[2:])
	case "walk":
		err = runWalk(ctx, os.Args[2:])
	case "audit":
		err = runAudit(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}

	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

// client talks to one totpvault as one token.
type client struct {
	base  string
	token string
	http  *http.Client
}

// do sends a JSON request and decodes a JSON answer into out (when not nil).
// An answer with another status than want is an error carrying its body.
func (c client) do(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}

	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// runAPI enrolls endpoints through the API, so every store is seeded the way
// a user would fill it, then makes a runner token whose scopes match them.
func runAPI(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed api", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "totpvault base URL")
	admin := fs.String("admin", "", "admin token")
	n := fs.Int("n", 1000, "endpoints to enroll")
	from := fs.Int("from", 0, "number of the first endpoint")
	workers := fs.Int("workers", 8, "requests in flight")
	fs.Parse(args)

	c := client{base: *base, token: *admin, http: &http.Client{Timeout: time.Minute}}
	if err := enroll(ctx, c, *from, *n, *workers); err != nil {
		return err
	}

	// Several scopes, so that the runner's check walks more than one glob.
	var tok struct {
		Token string `json:"token"`
	}
	in := map[string]any{
		"name":   "bench-runner",
		"role":   "runner",
		"scopes": []string{"o365-*", "citrix-*", "bank-*", "bench-*"},
	}
	if err := c.do(ctx, "POST", "/v1/tokens", in, &tok, http.StatusCreated); err != nil {
		return err
	}

	fmt.Println(tok.Token)
	return nil
}

// enroll POSTs endpoints from..from+n-1 with workers requests in flight.
func enroll(ctx context.Context, c client, from, n, workers int) error {
	var next atomic.Int64
	next.Store(int64(from))

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= from+n {
					return
				}

				in := map[string]any{"name": fmt.Sprintf(namePattern, i), "secret": randomSecret()}
				if err := c.do(ctx, "POST", "/v1/endpoints", in, nil, http.StatusCreated); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()

	return firstErr
}

// cmpOr returns a when it is set, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// randomSecret returns a fresh 20-byte secret in base32, as set-up pages show.
func randomSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// runCopy writes endpoints straight into PostgreSQL with COPY, each secret
// sealed by the real keyring under its row's associated data, so that the
// server opens them exactly as it opens enrolled ones.
func runCopy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed copy", flag.ExitOnError)
	dbURL := fs.String("database-url", "", "PostgreSQL URL (schema already migrated)")
	keyFile := fs.String("master-key-file", "", "master key file the server uses")
	n := fs.Int("n", 1_000_000, "endpoints to write")
	from := fs.Int("from", 0, "number of the first endpoint")
	fs.Parse(args)

	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	key, err := keyring.ParseKey(string(raw))
	if err != nil {
		return err
	}
	keys, err := keyring.New(key)
	if err != nil {
		return err
	}

	conn, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	start := time.Now()
	rows := &sealedRows{keys: keys, next: *from, end: *from + *n, now: time.Now().UTC()}
	columns := []string{"id", "name", "algorithm", "digits", "period",
		"sealed_secret", "created_at", "updated_at"}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"endpoints"}, columns, rows)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}

	// The planner should know the table's new size before the server starts.
	if _, err := conn.Exec(ctx, "ANALYZE endpoints"); err != nil {
		return err
	}

	fmt.Printf("copied %d endpoints in %.1f s\n", copied, time.Since(start).Seconds())
	return nil
}

// sealedRows is a pgx.CopyFromSource that makes one sealed endpoint per row.
type sealedRows struct {
	keys      *keyring.Keyring
	next, end int
	now       time.Time
	row       []any
	err       error
}

// Next makes the next row; it reports false after the last one.
func (s *sealedRows) Next() bool {
	if s.next >= s.end || s.err != nil {
		return false
	}

	id := uuid.Must(uuid.NewV7())
	secret := make([]byte, 20)
	rand.Read(secret)

	e := store.Endpoint{ID: id.String()}
	sealed, err := s.keys.Seal(secret, e.SecretAD())
	if err != nil {
		s.err = err
		return false
	}

	name := fmt.Sprintf(namePattern, s.next)
	s.row = []any{id, name, "SHA1", int16(6), int32(30), sealed, s.now, s.now}
	s.next++
	return true
}

// Values returns the row that Next made.
func (s *sealedRows) Values() ([]any, error) { return s.row, nil }

// Err reports a failure to seal.
func (s *sealedRows) Err() error { return s.err }

// runWalk pages through every endpoint as the admin and reports how long the
// first page, the last (deepest) page and the pages in between took.
func runWalk(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed walk", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "totpvault base URL")
	admin := fs.String("admin", "", "admin token")
	limit := fs.Int("limit", 1000, "page size")
	fs.Parse(args)

	c := client{base: *base, token: *admin, http: &http.Client{Timeout: time.Minute}}

	var (
		times  []time.Duration
		total  int
		cursor string
	)
	start := time.Now()
	for {
		var page struct {
			Endpoints  []json.RawMessage `json:"endpoints"`
			NextCursor string            `json:"next_cursor"`
		}
		q := url.Values{"limit": {fmt.Sprint(*limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}

		t := time.Now()
		if err := c.do(ctx, "GET", "/v1/endpoints?"+q.Encode(), nil, &page, http.StatusOK); err != nil {
			return err
		}
		times = append(times, time.Since(t))

		total += len(page.Endpoints)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(times) == 0 {
		return errors.New("no page")
	}

	first, last := times[0], times[len(times)-1]
	slices.Sort(times)
	pct := func(p float64) time.Duration { return times[int(p*float64(len(times)-1))] }
	fmt.Printf("walked %d endpoints in %d pages of %d in %.1f s: first page %s, last page %s, "+
		"page p50 %s p99 %s max %s\n", total, len(times), *limit, time.Since(start).Seconds(),
		ms(first), ms(last), ms(pct(0.5)), ms(pct(0.99)), ms(times[len(times)-1]))
	return nil
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strings.TrimSpace(fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000))
}
