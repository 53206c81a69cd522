package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// queryInt runs a query that answers one integer on the package's
// database; on the embedded store, in its SQLite form (see sqliteForms).
func queryInt(t *testing.T, sql string, args ...any) int {
	t.Helper()
	if onSQLite {
		return sqliteQueryInt(t, sql, args...)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var n int
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// eventAnswer is an audit event as a client reads it.
type eventAnswer struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Action     string    `json:"action"`
	Outcome    string    `json:"outcome"`
	Endpoint   string    `json:"endpoint"`
	TokenID    string    `json:"token_id"`
	TokenName  string    `json:"token_name"`
	RemoteAddr string    `json:"remote_addr"`
	RequestID  string    `json:"request_id"`
	Detail     string    `json:"detail"`
}

// events reads every audit event that the query selects, newest first.
func (h *harness) events(query string) []eventAnswer {
	h.t.Helper()

	var all []eventAnswer
	cursor := ""
	for range 1000 {
		path := "/v1/audit?" + query
		if cursor != "" {
			path += "&cursor=" + cursor
		}

		var page struct {
			Events     []eventAnswer `json:"events"`
			NextCursor string        `json:"next_cursor"`
		}
		resp := h.do(request{method: "GET", path: path, token: h.admin})
		resp.expect(h.t, http.StatusOK, "")
		resp.decode(h.t, &page)

		all = append(all, page.Events...)
		if cursor = page.NextCursor; cursor == "" {
			return all
		}
	}
	h.t.Fatal("the audit trail never ends")
	return nil
}

func TestConcurrentCodeReadsAreEachRecordedOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("burst"), "generate": true})

	const readers, reads = 64, 10
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for range reads {
				resp, err := h.send(context.Background(), request{method: "GET",
					path: "/v1/endpoints/" + e.Name + "/code", token: h.admin})
				switch {
				case err != nil:
					t.Error(err)
				case resp.status == http.StatusOK:
					ok.Add(1)
				default:
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()

	recorded := 0
	for _, ev := range h.events("endpoint=" + e.Name + "&action=code.read&limit=1000") {
		if ev.Outcome == "success" {
			recorded++
		}
	}
	if int64(recorded) != ok.Load() {
		t.Errorf("%d code reads answered 200, %d recorded", ok.Load(), recorded)
	}
	if ok.Load() != readers*reads {
		t.Errorf("%d of %d reads answered 200 (%d refused)", ok.Load(), readers*reads, refused.Load())
	}
}

// Not parallel: while the trigger stands, every audit write fails, those
// of tests beside it too.
func TestAnUnwritableAuditTrailRefusesCodesAndChangesUntilItIsBack(t *testing.T) {
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("closed"), "generate": true})

	execSQL(t, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'audit trail unwritable'; END $$`)
	execSQL(t, `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
		FOR EACH ROW EXECUTE FUNCTION refuse_audit()`)
	restore := func() {
		execSQL(t, `DROP TRIGGER IF EXISTS refuse_audit ON audit_events`)
		execSQL(t, `DROP FUNCTION IF EXISTS refuse_audit()`)
	}
	t.Cleanup(restore)

	code := request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code", token: h.admin}
	resp := h.do(code)
	resp.expect(t, http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(string(resp.body), `"next"`) {
		t.Errorf("a refused read carries a code: %s", resp.body)
	}
	if got := resp.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}

	created := h.name("not-created")
	h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
		body: map[string]any{"name": created, "generate": true}}).
		expect(t, http.StatusServiceUnavailable, "unavailable")
	if n := queryInt(t, `SELECT count(*) FROM endpoints WHERE name = $1`, created); n != 0 {
		t.Error("an enrollment whose event failed was stored")
	}

	restore()
	h.do(code).expect(t, http.StatusOK, "")
}

func TestRefusedRequestsAreRecordedWithoutTheTokenPresented(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.enroll(map[string]any{"name": h.name("guarded"), "generate": true})
	runner := h.token(store.RoleRunner, []string{h.name("other-*")}, time.Time{})
	unknown := "tvt_" + strings.Repeat("Z", 43)
	sensitive.add(unknown)

	path := "/v1/endpoints/" + e.Name + "/code"
	h.do(request{method: "GET", path: path, token: unknown}).expect(t, 401, "unauthorized")
	h.do(request{method: "GET", path: path, token: runner}).expect(t, 403, "forbidden")

	denied := h.events("endpoint=" + e.Name + "&action=auth.denied")
	if len(denied) != 2 {
		t.Fatalf("%d auth.denied events, want 2: %+v", len(denied), denied)
	}
	forbidden, unauthorized := denied[0], denied[1]

	if forbidden.Outcome != "denied" || forbidden.TokenID != h.tokenID(runner) || forbidden.Detail == "" {
		t.Errorf("the 403 was recorded as %+v", forbidden)
	}
	if unauthorized.Outcome != "denied" || unauthorized.TokenID != "" || unauthorized.RemoteAddr == "" {
		t.Errorf("the 401 was recorded as %+v", unauthorized)
	}

	rows := queryInt(t, `SELECT count(*) FROM audit_events e
		WHERE e::text LIKE '%' || $1 || '%' OR e::text LIKE '%' || $2 || '%'`, unknown, runner)
	if rows != 0 {
		t.Errorf("%d audit rows hold a presented token", rows)
	}
}

func TestEveryChangeIsRecordedWithWhoAndWhat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	name := h.name("changed")
	admin := h.tokenID(h.admin)

	h.enroll(map[string]any{"name": name, "generate": true})
	steps := []request{
		{method: "PATCH", path: "/v1/endpoints/" + name, body: map[string]any{"account": "bob"}},
		{method: "PUT", path: "/v1/endpoints/" + name + "/secret", body: map[string]any{"generate": true}},
		{method: "GET", path: "/v1/endpoints/" + name + "/code"},
		{method: "POST", path: "/v1/endpoints/" + name + "/verify", body: map[string]any{"code": "000000"}},
		{method: "DELETE", path: "/v1/endpoints/" + name},
	}
	for _, req := range steps {
		req.token = h.admin
		h.clock.Advance(time.Second)
		if resp := h.do(req); resp.status >= 300 {
			t.Fatalf("%s %s: %d %s", req.method, req.path, resp.status, resp.body)
		}
	}

	got := h.events("endpoint=" + name)
	want := []string{"endpoint.delete", "code.verify", "code.read", "endpoint.secret_replace",
		"endpoint.update", "endpoint.create"}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for i, ev := range got {
		if ev.Action != want[i] || ev.Outcome != "success" || ev.TokenID != admin ||
			ev.RequestID == "" || ev.RemoteAddr != "127.0.0.1" {
			t.Errorf("event %d is %+v, want %s by %s", i, ev, want[i], admin)
		}
	}
	if !strings.Contains(got[4].Detail, "account") {
		t.Errorf("the update's detail %q does not name the field", got[4].Detail)
	}
}

func TestClientInputErrorsAreRecordedAsErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	name := h.name("bad-input")

	h.do(request{method: "POST", path: "/v1/endpoints", token: h.admin,
		body: map[string]any{"name": name, "secret": "too short"}}).expect(t, 400, "secret_too_short")

	got := h.events("endpoint=" + name)
	if len(got) != 1 || got[0].Action != "endpoint.create" || got[0].Outcome != "error" {
		t.Fatalf("got %+v, want one endpoint.create error", got)
	}
	if strings.Contains(got[0].Detail, "too short") {
		t.Errorf("the detail echoes the secret: %q", got[0].Detail)
	}
}

func TestTheAuditTrailFiltersAndPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.enroll(map[string]any{"name": h.name("a"), "generate": true})
	b := h.enroll(map[string]any{"name": h.name("b"), "generate": true})
	runner := h.token(store.RoleRunner, []string{h.name("*")}, time.Time{})

	start := h.clock.Now()
	for i := range 5 {
		h.clock.Advance(time.Second)
		h.do(request{method: "GET", path: "/v1/endpoints/" + a.Name + "/code", token: runner})
		if i%2 == 0 {
			h.do(request{method: "GET", path: "/v1/endpoints/" + b.Name + "/code", token: h.admin})
		}
	}

	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"by endpoint", "endpoint=" + a.Name, 6},
		{"by endpoint and action, one per page", "endpoint=" + a.Name + "&action=code.read&limit=1", 5},
		{"by token", "token_id=" + h.tokenID(runner), 5},
		{"since is inclusive", "endpoint=" + a.Name + "&since=" + start.Add(3*time.Second).Format(time.RFC3339), 3},
		{"until is exclusive", "endpoint=" + a.Name + "&action=code.read&until=" +
			start.Add(3*time.Second).Format(time.RFC3339), 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.events(tt.query)
			if len(got) != tt.want {
				t.Fatalf("%d events, want %d", len(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Time.After(got[i-1].Time) {
					t.Errorf("event %d is newer than the one before it", i)
				}
			}
		})
	}

	for _, bad := range []string{"action=code.steal", "since=yesterday", "cursor=YTp4"} {
		h.do(request{method: "GET", path: "/v1/audit?" + bad, token: h.admin}).
			expect(t, http.StatusBadRequest, "invalid_request")
	}
	h.do(request{method: "GET", path: "/v1/audit", token: runner}).expect(t, 403, "forbidden")
}

func TestTheClientAddressComesFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		trusted []string
		xff     string
		want    string
	}{
		{"without trusted proxies the header is ignored", nil, "203.0.113.9", "127.0.0.1"},
		{"a trusted peer's header names the client", []string{"127.0.0.0/8"}, "203.0.113.9", "203.0.113.9"},
		{"trusted hops are skipped from the right", []string{"127.0.0.1/32", "10.0.0.0/8"},
			"198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"},
		{"garbage stops the walk", []string{"127.0.0.1/32"}, "203.0.113.9, not-an-ip", "127.0.0.1"},
	}

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var prefixes []netip.Prefix
			for _, p := range tt.trusted {
				prefixes = append(prefixes, netip.MustParsePrefix(p))
			}
			h := newHarness(t, func(c *api.Config) { c.TrustedProxies = prefixes })
			e := h.enroll(map[string]any{"name": h.name(fmt.Sprint("xff-", i)), "generate": true})

			h.do(request{method: "GET", path: "/v1/endpoints/" + e.Name + "/code", token: h.admin,
				header: map[string]string{"X-Forwarded-For": tt.xff}})

			got := h.events("endpoint=" + e.Name + "&action=code.read")
			if len(got) != 1 || got[0].RemoteAddr != tt.want {
				t.Errorf("recorded %+v, want remote_addr %s", got, tt.want)
			}
		})
	}
}
