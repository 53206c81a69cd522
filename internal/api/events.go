package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// eventJSON is an audit event as the API shows it; absent values are
// left out.
type eventJSON struct {
	ID         string        `json:"id"`
	Time       time.Time     `json:"time"`
	Action     store.Action  `json:"action"`
	Outcome    store.Outcome `json:"outcome"`
	Endpoint   string        `json:"endpoint,omitempty"`
	TokenID    string        `json:"token_id,omitempty"`
	TokenName  string        `json:"token_name,omitempty"`
	RemoteAddr string        `json:"remote_addr,omitempty"`
	RequestID  string        `json:"request_id,omitempty"`
	Detail     string        `json:"detail,omitempty"`
}

// listEvents answers a page of the audit trail, newest first.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q, err := eventQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	want := q.Limit
	q.Limit++
	events, err := s.store.ListEvents(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	out := struct {
		Events     []eventJSON `json:"events"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Events: make([]eventJSON, 0, len(events))}

	if len(events) > want {
		events = events[:want]
		last := events[want-1]
		out.NextCursor = encodeCursor("a", last.Time.UTC().Format(time.RFC3339Nano)+","+last.ID)
	}
	for _, e := range events {
		out.Events = append(out.Events, eventJSON(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// eventQuery reads the filters and the page of GET /v1/audit.
func eventQuery(v url.Values) (store.EventQuery, error) {
	q := store.EventQuery{
		Endpoint: v.Get("endpoint"),
		Action:   store.Action(v.Get("action")),
		TokenID:  v.Get("token_id"),
	}

	if q.Action != "" && !knownAction(q.Action) {
		return q, fail(codeInvalidRequest, fmt.Sprintf(
			"action %q is not one the audit trail records; see /openapi.yaml", truncate(v.Get("action"), 64)))
	}

	var err error
	if q.Since, err = timeParam(v, "since"); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(v, "until"); err != nil {
		return q, err
	}

	limit, after, err := pageParams(v, "a")
	if err != nil {
		return q, err
	}
	q.Limit = limit
	if after != "" {
		q.Before, err = eventKey(after)
	}
	return q, err
}

// knownAction reports whether a is an action of the audit trail.
func knownAction(a store.Action) bool {
	if a == store.ActionAuthDenied {
		return true
	}
	for _, known := range actions {
		if a == known {
			return true
		}
	}
	return false
}

// timeParam reads an optional RFC 3339 time from the query.
func timeParam(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}

	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fail(codeInvalidRequest, fmt.Sprintf(
			"%s must be an RFC 3339 time such as 2026-12-03T18:00:00Z", name))
	}
	return t, nil
}

// eventKey reads back the position that listEvents put into a cursor.
func eventKey(s string) (*store.EventKey, error) {
	at, id, ok := strings.Cut(s, ",")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || id == "" {
		return nil, errBadCursor
	}
	return &store.EventKey{Time: t, ID: id}, nil
}
