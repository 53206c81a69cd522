package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/totp"
)

// BenchmarkCodePath measures what a code read costs besides the network
// and the database: opening the sealed secret and computing the current and
// the next code.
func BenchmarkCodePath(b *testing.B) {
	keys, err := keyring.New(masterKey)
	if err != nil {
		b.Fatal(err)
	}

	ad := []byte("totpvault/endpoint-secret/v1:0193a0d4-0000-7000-8000-000000000000")
	sealed, err := keys.Seal([]byte("12345678901234567890"), ad)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 18, 0, 10, 0, time.UTC)

	b.ReportAllocs()
	for b.Loop() {
		secret, err := keys.Open(sealed, ad)
		if err != nil {
			b.Fatal(err)
		}

		key := totp.Key{Secret: secret, Algorithm: totp.SHA1, Digits: 6, Period: 30}
		if _, _, err := key.AtAndNext(key.Counter(now)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodeReadHTTP measures whole code reads through the router by 64
// concurrent clients: authentication and the endpoint in one query,
// opening, computing, a durable audit event, and the answer. It runs in
// process against the test database, once with the group-commit batcher
// and once with a commit of its own for every event.
func BenchmarkCodeReadHTTP(b *testing.B) {
	b.Run("batched", func(b *testing.B) {
		var batcher *audit.Batcher
		h := newHarness(b, func(c *api.Config) {
			batcher = audit.NewBatcher(c.Store.(audit.Sink), slog.New(slog.DiscardHandler),
				audit.Options{})
			c.Audit, c.Log = batcher, slog.New(slog.DiscardHandler)
		})
		b.Cleanup(func() { _ = batcher.Close(context.Background()) })

		benchmarkCodeReads(b, h)

		stats := batcher.Stats()
		b.ReportMetric(float64(stats.Events)/float64(max(stats.Commits, 1)), "events/commit")
	})

	b.Run("batched-cached", func(b *testing.B) {
		h := newHarness(b, withCache(b), func(c *api.Config) {
			c.Log = slog.New(slog.DiscardHandler)
		})
		benchmarkCodeReads(b, h)
	})

	b.Run("commit-per-read", func(b *testing.B) {
		h := newHarness(b, func(c *api.Config) {
			c.Audit = audit.Direct{Sink: c.Store.(audit.Sink)}
			c.Log = slog.New(slog.DiscardHandler)
		})
		benchmarkCodeReads(b, h)
	})
}

// benchmarkCodeReads reads one endpoint's code from 64 goroutines.
func benchmarkCodeReads(b *testing.B, h *harness) {
	name := h.name("bench")
	h.enroll(map[string]any{"name": name, "generate": true})

	req := httptest.NewRequest("GET", "/v1/endpoints/"+name+"/code", nil)
	req.Header.Set("Authorization", "Bearer "+h.admin)
	handler := h.server.Handler()

	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req.Clone(context.Background()))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
				return
			}
		}
	})
}
