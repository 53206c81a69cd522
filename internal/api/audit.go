package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/totpvault/totpvault/internal/store"
)

// actions names the audited routes. Routes not listed (lists, reads of
// endpoints and tokens, the audit trail itself) are recorded only when
// they are refused.
var actions = map[string]store.Action{
	"POST /v1/endpoints":               store.ActionEndpointCreate,
	"PATCH /v1/endpoints/{name}":       store.ActionEndpointUpdate,
	"PUT /v1/endpoints/{name}/secret":  store.ActionSecretReplace,
	"DELETE /v1/endpoints/{name}":      store.ActionEndpointDelete,
	"GET /v1/endpoints/{name}/code":    store.ActionCodeRead,
	"POST /v1/endpoints/{name}/verify": store.ActionCodeVerify,
	"POST /v1/endpoints/{name}/claim":  store.ActionCodeClaim,
	"POST /v1/tokens":                  store.ActionTokenCreate,
	"DELETE /v1/tokens/{id}":           store.ActionTokenRevoke,
}

// auditNote is what a request's handlers tell the audit trail about it, on
// top of what the trail sees for itself (route, status, client).
type auditNote struct {
	start    time.Time
	token    store.Token
	endpoint string
	detail   string

	// written is set once the store wrote the event together with the
	// request's change, so the trail must not record it again.
	written bool
}

// noteOf returns the request's note; auditTrail puts one in every /v1
// request's context.
func noteOf(r *http.Request) *auditNote {
	st := stateOf(r.Context())
	if st.note == nil {
		st.note = &auditNote{}
	}
	return st.note
}

// auditTrail records every audited request before its answer leaves:
// the handler's answer is held back until its event is durable, and is
// replaced by a 503 when the event cannot be written, so that no code or
// change reaches a client unrecorded.
func (s *Server) auditTrail(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		note := &auditNote{start: s.clock.Now()}
		held := heldResponses.Get().(*heldResponse)
		defer held.release()

		stateOf(r.Context()).note = note
		next.ServeHTTP(held, r)

		ev, ok := s.finalEvent(r, note, held.status)
		if ok {
			if err := s.record(r.Context(), ev); err != nil {
				s.refuseUnrecorded(w, r, ev, err)
				return
			}
		}
		held.sendTo(w)
	})
}

// finalEvent returns the event that records the request, and false when
// there is none to write: the route is not audited, or the store already
// wrote it with the change.
func (s *Server) finalEvent(r *http.Request, note *auditNote, status int) (store.Event, bool) {
	action := actions[r.Method+" "+routePattern(r)]
	outcome := store.OutcomeError

	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		action, outcome = store.ActionAuthDenied, store.OutcomeDenied
	case action == "" || note.written:
		return store.Event{}, false
	case status == 0:
		note.detail = joinDetail(note.detail, "the client went away before the answer")
	case status < 400:
		outcome = store.OutcomeSuccess
	}

	return s.event(r, note, action, outcome), true
}

// event builds the audit event of the request.
func (s *Server) event(r *http.Request, note *auditNote, action store.Action,
	outcome store.Outcome) store.Event {
	endpoint := note.endpoint
	if endpoint == "" {
		endpoint = truncate(chi.URLParam(r, "name"), store.MaxNameLen)
	}

	return store.Event{
		Time:       note.start,
		Action:     action,
		Outcome:    outcome,
		Endpoint:   endpoint,
		TokenID:    note.token.ID,
		TokenName:  note.token.Name,
		RemoteAddr: s.clientAddr(r),
		RequestID:  requestID(r.Context()),
		Detail:     note.detail,
	}
}

// record makes ev durable. A client that went away does not cancel it:
// the request may already have used something up (a claimed step), and the
// trail must say so all the same. The wait needs no bound of its own: the
// audit writer bounds each commit, and so the queue ahead of ev.
func (s *Server) record(ctx context.Context, ev store.Event) error {
	return s.audit.Record(context.WithoutCancel(ctx), ev)
}

// joinDetail appends more to detail, which may be empty.
func joinDetail(detail, more string) string {
	if detail == "" {
		return more
	}
	return detail + "; " + more
}

// changeEvent returns the success event to write together with the
// request's change, and marks it written: the store commits both or
// neither, and when neither, the trail records the failure instead.
func (s *Server) changeEvent(r *http.Request, detail string) (store.Event, func()) {
	note := noteOf(r)
	note.detail = detail

	ev := s.event(r, note, actions[r.Method+" "+routePattern(r)], store.OutcomeSuccess)
	return ev, func() { note.written = true }
}

// refuseUnrecorded answers 503 in place of an answer whose event could not
// be written.
func (s *Server) refuseUnrecorded(w http.ResponseWriter, r *http.Request, ev store.Event,
	err error) {
	s.log.ErrorContext(r.Context(), "audit event not written; request refused",
		slog.String("request_id", ev.RequestID),
		slog.String("action", string(ev.Action)),
		slog.String("error", err.Error()))

	writeProblem(w, r, retryIn(1, codeUnavailable,
		"the audit trail could not record this request, so it was refused; retry shortly"))
}

// clientAddr returns the client's IP address: the connection's peer, or,
// when that peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}

	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}

	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if peer = addr; !s.trusted(addr) {
			break
		}
	}
	return peer.Unmap().String()
}

// trusted reports whether addr is one of the trusted proxies.
func (s *Server) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range s.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// heldResponse keeps a handler's answer until the audit trail lets it go.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// heldResponses keeps released heldResponses for the next request, with
// their header map and body buffer: every request holds one.
var heldResponses = sync.Pool{New: func() any {
	return &heldResponse{header: http.Header{}}
}}

// maxPooledBody is the largest body buffer kept for reuse; the few answers
// larger than that (a QR code's PNG) get a buffer of their own.
const maxPooledBody = 16 << 10

// release empties h and puts it back in the pool. sendTo handed the
// header's value slices on to the real response, which keeps them; the
// next handler's Set makes new ones, so they are never written twice.
func (h *heldResponse) release() {
	clear(h.header)
	h.status = 0
	if h.body.Cap() > maxPooledBody {
		h.body = bytes.Buffer{}
	}
	h.body.Reset()
	heldResponses.Put(h)
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

// sendTo writes the held answer to w; nothing when the handler wrote none.
func (h *heldResponse) sendTo(w http.ResponseWriter) {
	if h.status == 0 {
		return
	}

	for k, v := range h.header {
		w.Header()[k] = v
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}

// noteDetail sets the detail of the request's audit event.
func noteDetail(r *http.Request, format string, args ...any) {
	noteOf(r).detail = fmt.Sprintf(format, args...)
}
