package api

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/totpvault/totpvault/internal/qr"
	"github.com/totpvault/totpvault/internal/store"
)

// enrollRequest is the body of POST /v1/endpoints.
type enrollRequest struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	secretSource
}

// createEndpoint enrolls a new endpoint.
func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var req enrollRequest
	if _, err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	noteOf(r).endpoint = truncate(req.Name, store.MaxNameLen)

	if err := checkName(req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkLabels(req.Labels); err != nil {
		s.writeError(w, r, err)
		return
	}

	now := s.clock.Now()
	e := store.Endpoint{
		ID:        store.NewID(),
		Name:      req.Name,
		Labels:    req.Labels,
		CreatedAt: now,
		UpdatedAt: now,
	}
	shown, err := s.newSecret(r, req.secretSource, &e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	ev, written := s.changeEvent(r, req.secretSource.describe())
	created, err := s.store.CreateEndpoint(r.Context(), e, ev)
	if errors.Is(err, store.ErrAlreadyExists) {
		err = fail(codeAlreadyExists, fmt.Sprintf(
			"an endpoint named %q exists already; pick another name, or replace its "+
				"secret with PUT /v1/endpoints/%[1]s/secret", req.Name))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	written()

	w.Header().Set("Location", "/v1/endpoints/"+url.PathEscape(created.Name))
	writeJSON(w, http.StatusCreated, shown.with(showEndpoint(created)))
}

// newSecret turns the request's secret source into a key and seals it
// into e, whose issuer and account stay unless the source gives new ones.
// It returns what the answer shows once of a generated secret.
func (s *Server) newSecret(r *http.Request, src secretSource, e *store.Endpoint) (
	oneTime, error) {
	key, err := s.key(r.Context(), src)
	if err != nil {
		return oneTime{}, err
	}

	key.Issuer = cmp.Or(key.Issuer, e.Issuer)
	key.Account = cmp.Or(key.Account, e.Account)
	if err := s.seal(e, key); err != nil {
		return oneTime{}, err
	}

	if src.Generate == nil || !*src.Generate {
		return oneTime{}, nil
	}
	// An app lists the key by its label: without an account, the
	// endpoint's name says which one it is.
	key.Account = cmp.Or(key.Account, e.Name)
	uri := key.URI()
	png, err := qr.Encode(uri)
	if err != nil {
		return oneTime{}, fmt.Errorf("QR code of a generated secret: %w", err)
	}
	return oneTime{uri: uri, png: png}, nil
}

// oneTime is what an answer shows once of a secret the server generated:
// its URI and a QR code of it, to put it into a provider or an app.
type oneTime struct {
	uri string
	png []byte
}

// with adds the one-time fields to an endpoint's answer.
func (o oneTime) with(out endpointJSON) endpointJSON {
	out.OTPAuthURI, out.QRPNG = o.uri, o.png
	return out
}

// getEndpoint answers the endpoint that authentication found.
func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	writeJSON(w, http.StatusOK, showEndpoint(e))
}

// endpointPatch is the body of PATCH /v1/endpoints/{name}; null clears.
type endpointPatch struct {
	Issuer  *string           `json:"issuer"`
	Account *string           `json:"account"`
	Labels  map[string]string `json:"labels"`
}

// updateEndpoint changes an endpoint's issuer, account or labels.
func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	var req endpointPatch
	fields, err := decodeJSON(r, &req, mergePatch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	u, err := req.update(fields)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	u.UpdatedAt = s.clock.Now()
	ev, written := s.changeEvent(r, "changed "+strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
	updated, err := s.store.UpdateEndpoint(r.Context(), e.Name, u, ev)
	if err != nil {
		s.writeError(w, r, notFoundAs(err, "endpoint", e.Name))
		return
	}
	written()
	s.forgetEndpoint(e.Name)

	writeJSON(w, http.StatusOK, showEndpoint(updated))
}

// update turns the patch into a store update: absent fields stay as they
// are, null ones are cleared.
func (p endpointPatch) update(fields rawFields) (store.EndpointUpdate, error) {
	var u store.EndpointUpdate

	for _, f := range []struct {
		name string
		in   *string
		out  **string
	}{{"issuer", p.Issuer, &u.Issuer}, {"account", p.Account, &u.Account}} {
		raw, sent := fields[f.name]
		if !sent {
			continue
		}

		value := ""
		if !isNull(raw) {
			value = *f.in
		}
		if err := checkText(f.name, value); err != nil {
			return u, err
		}
		*f.out = &value
	}

	if raw, sent := fields["labels"]; sent {
		labels := p.Labels
		if isNull(raw) || labels == nil {
			labels = map[string]string{}
		}
		if err := checkLabels(labels); err != nil {
			return u, err
		}
		u.Labels = &labels
	}
	return u, nil
}

// deleteEndpoint removes an endpoint and its secret.
func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	ev, written := s.changeEvent(r, "")
	if err := s.store.DeleteEndpoint(r.Context(), e.Name, ev); err != nil {
		s.writeError(w, r, notFoundAs(err, "endpoint", e.Name))
		return
	}
	written()
	s.forgetEndpoint(e.Name)

	w.WriteHeader(http.StatusNoContent)
}

// replaceSecret re-enrolls an endpoint with a new secret. Algorithm,
// digits and period are taken afresh; issuer and account are kept unless
// the request or its URI gives new ones.
func (s *Server) replaceSecret(w http.ResponseWriter, r *http.Request) {
	e, err := endpointOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	var src secretSource
	if _, err := decodeJSON(r, &src); err != nil {
		s.writeError(w, r, err)
		return
	}

	e.UpdatedAt = s.clock.Now()
	shown, err := s.newSecret(r, src, &e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	ev, written := s.changeEvent(r, src.describe())
	replaced, err := s.store.ReplaceSecret(r.Context(), e, ev)
	if err != nil {
		s.writeError(w, r, notFoundAs(err, "endpoint", e.Name))
		return
	}
	written()
	s.forgetEndpoint(e.Name)

	writeJSON(w, http.StatusOK, shown.with(showEndpoint(replaced)))
}

// notFoundAs turns store.ErrNotFound into a not_found problem about the
// named record; other errors pass through.
func notFoundAs(err error, kind, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fail(codeNotFound, fmt.Sprintf("no %s is named %q", kind, name))
	}
	return err
}

// listEndpoints answers a page of the endpoints the token may see.
func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) {
	q, err := endpointQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	page, next, err := s.endpointPage(r, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	out := struct {
		Endpoints  []endpointJSON `json:"endpoints"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}{Endpoints: make([]endpointJSON, 0, len(page)), NextCursor: next}

	for _, e := range page {
		out.Endpoints = append(out.Endpoints, showEndpoint(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// endpointQuery reads ?prefix=, ?label=, ?limit= and ?cursor=.
func endpointQuery(v url.Values) (store.EndpointQuery, error) {
	q := store.EndpointQuery{Prefix: v.Get("prefix")}
	if err := checkQueryText("prefix", q.Prefix); err != nil {
		return q, err
	}

	limit, after, err := pageParams(v, "n")
	if err != nil {
		return q, err
	}
	q.Limit, q.After = limit, after

	for _, pair := range v["label"] {
		if err := checkQueryText("label", pair); err != nil {
			return q, err
		}
		k, val, ok := strings.Cut(pair, ":")
		if !ok || k == "" {
			return q, fail(codeInvalidRequest,
				`label filters take the form key:value, as in ?label=team:sre`)
		}
		if q.Labels == nil {
			q.Labels = map[string]string{}
		}
		q.Labels[k] = val
	}
	return q, nil
}

// checkQueryText refuses a query parameter that no stored text can match:
// bytes that are not UTF-8, or control characters such as NUL.
func checkQueryText(param, value string) error {
	if utf8.ValidString(value) && strings.IndexFunc(value, unicode.IsControl) < 0 {
		return nil
	}
	return fail(codeInvalidRequest, fmt.Sprintf("the %s parameter must be UTF-8 text "+
		"without control characters; percent-encode the UTF-8 bytes of the text only", param))
}

// endpointPage fetches one page of the endpoints the token may see and the
// cursor of the next page ("" on the last). A runner's page is filtered by
// its scopes, fetching further batches until the page is full.
func (s *Server) endpointPage(r *http.Request, q store.EndpointQuery) (
	[]store.Endpoint, string, error) {
	want := q.Limit
	q.Limit = want + 1

	var page []store.Endpoint
	for {
		batch, err := s.store.ListEndpoints(r.Context(), q)
		if err != nil {
			return nil, "", err
		}

		for _, e := range batch {
			if visible(r, e.Name) {
				page = append(page, e)
			}
		}
		if len(page) > want || len(batch) < q.Limit {
			break
		}
		q.After = batch[len(batch)-1].Name
	}

	if len(page) <= want {
		return page, "", nil
	}
	page = page[:want]
	return page, encodeCursor("n", page[want-1].Name), nil
}

// Page sizes of list routes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageParams reads ?limit= and ?cursor=; kind tells cursors of different
// lists apart.
func pageParams(v url.Values, kind string) (limit int, after string, err error) {
	limit = defaultPageSize
	if s := v.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit < 1 || limit > maxPageSize {
			return 0, "", fail(codeInvalidRequest, fmt.Sprintf(
				"limit must be an integer from 1 to %d", maxPageSize))
		}
	}

	if c := v.Get("cursor"); c != "" {
		after, err = decodeCursor(kind, c)
	}
	return limit, after, err
}

// encodeCursor makes an opaque cursor that resumes a list after key.
func encodeCursor(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

// decodeCursor reads back what encodeCursor made for the same kind.
func decodeCursor(kind, cursor string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	k, key, ok := strings.Cut(string(b), ":")
	if err != nil || !ok || k != kind || key == "" {
		return "", errBadCursor
	}
	return key, nil
}

// errBadCursor is the problem for a cursor this server did not give out.
var errBadCursor = fail(codeInvalidRequest,
	"cursor is not one this list gave out; start again without it")
