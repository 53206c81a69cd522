// Package api serves totpvault's HTTP contract: the chi router, its
// middleware, the handlers and the one writer of problem+json errors. It
// declares what it needs of the layers below as small interfaces and knows
// nothing of SQL.
package api

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/totpvault/totpvault/internal/clock"
	"github.com/totpvault/totpvault/internal/store"
)

// Store is what the API needs of storage. Methods return errors wrapping
// store.ErrNotFound and store.ErrAlreadyExists as their documentation in
// the store implementations says. Every change takes the audit event that
// records it and commits both together, or neither.
type Store interface {
	Ready(ctx context.Context) error

	CreateEndpoint(ctx context.Context, e store.Endpoint, ev store.Event) (store.Endpoint, error)
	ListEndpoints(ctx context.Context, q store.EndpointQuery) ([]store.Endpoint, error)
	UpdateEndpoint(ctx context.Context, name string, u store.EndpointUpdate, ev store.Event) (
		store.Endpoint, error)
	ReplaceSecret(ctx context.Context, e store.Endpoint, ev store.Event) (store.Endpoint, error)
	DeleteEndpoint(ctx context.Context, name string, ev store.Event) error

	CreateToken(ctx context.Context, t store.Token, ev store.Event) (store.Token, error)
	GetToken(ctx context.Context, id string) (store.Token, error)
	ListTokens(ctx context.Context, q store.TokenQuery) ([]store.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time, ev store.Event) error

	// TokenByHash returns revoked and expired tokens too.
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)

	// TokenAndEndpoint costs one round trip; the endpoint is nil when no
	// endpoint has the name.
	TokenAndEndpoint(ctx context.Context, hash []byte, name string) (
		store.Token, *store.Endpoint, error)

	ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error)

	// ClaimStep reserves the earliest step not before earliest and later
	// than every step reserved so far, while the endpoint still has e's
	// period and sealed secret. Past latest, or once another secret
	// replaced e's, it reserves nothing and returns store.ErrNoFreeStep
	// with the endpoint as it stands and the step it would have reserved.
	ClaimStep(ctx context.Context, e store.Endpoint, earliest, latest uint64) (
		store.Endpoint, uint64, error)

	// GetEndpoint reads the endpoint from the database, past any cache: a
	// claim that waited checks with it that its secret still stands.
	GetEndpoint(ctx context.Context, name string) (store.Endpoint, error)
}

// Lookups answers the two lookups that authenticate every request. The
// store answers them with a round trip each; a cache in front of it (see
// internal/cache) answers most from memory.
type Lookups interface {
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)
	TokenAndEndpoint(ctx context.Context, hash []byte, name string) (
		store.Token, *store.Endpoint, error)
}

// Forgetter is what Lookups that keep records may also do: forget a
// record at once when this server changed it, rather than a moment later,
// when the change feed brings the news to every instance.
type Forgetter interface {
	EndpointChanged(name string)
	TokensChanged()
}

// Recorder makes an audit event durable: Record returns nil only once the
// event is committed. A request whose event cannot be recorded is refused.
type Recorder interface {
	Record(ctx context.Context, e store.Event) error
}

// Sealer seals TOTP secrets for storage and opens them again; the
// associated data binds a sealed secret to its endpoint.
type Sealer interface {
	Seal(plaintext, ad []byte) ([]byte, error)
	Open(sealed, ad []byte) ([]byte, error)
}

// ErrShuttingDown ends the waits of requests when StopWaiting is called.
var ErrShuttingDown = errors.New("server shutting down")

// DefaultMaxBodyBytes is the body limit when Config leaves it zero: room
// for a screenshot of a QR code.
const DefaultMaxBodyBytes = 4 << 20

// Config is what a Server is made of. Store, Sealer, Audit and Log are
// required.
type Config struct {
	Store  Store
	Sealer Sealer
	Audit  Recorder
	Log    *slog.Logger

	// Lookups defaults to Store.
	Lookups Lookups

	// TrustedProxies are the addresses whose X-Forwarded-For header is
	// believed when recording a client's address.
	TrustedProxies []netip.Prefix

	// Clock defaults to the wall clock.
	Clock clock.Clock

	// Random is where new secrets and token values come from; it defaults
	// to crypto/rand.
	Random io.Reader

	// MaxBodyBytes defaults to DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Spec is the OpenAPI document served at /openapi.yaml.
	Spec []byte
}

// Server answers totpvault's HTTP API.
type Server struct {
	store   Store
	lookups Lookups
	sealer  Sealer
	audit   Recorder
	proxies []netip.Prefix
	log     *slog.Logger
	clock   clock.Clock
	random  io.Reader
	maxBody int64
	spec    []byte

	// stopping is done once StopWaiting was called.
	stopping    context.Context
	stopWaiting context.CancelFunc
}

// New returns a Server made of cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:   cfg.Store,
		lookups: cfg.Lookups,
		sealer:  cfg.Sealer,
		audit:   cfg.Audit,
		proxies: cfg.TrustedProxies,
		log:     cfg.Log,
		clock:   cfg.Clock,
		random:  cfg.Random,
		maxBody: cfg.MaxBodyBytes,
		spec:    cfg.Spec,
	}

	s.stopping, s.stopWaiting = context.WithCancel(context.Background())

	if s.lookups == nil {
		s.lookups = s.store
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	return s
}

// forgetEndpoint tells the lookups that this server changed the endpoint
// called name, and forgetTokens that it changed a token.
func (s *Server) forgetEndpoint(name string) {
	if f, ok := s.lookups.(Forgetter); ok {
		f.EndpointChanged(name)
	}
}

func (s *Server) forgetTokens() {
	if f, ok := s.lookups.(Forgetter); ok {
		f.TokensChanged()
	}
}

// StopWaiting ends every wait for a time step, now and from now on: those
// requests answer 503 at once. Call it before http.Server.Shutdown, so that
// no waiting request holds the shutdown up.
func (s *Server) StopWaiting() {
	s.stopWaiting()
}

// Handler returns the router with every route of the contract.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID, s.accessLog, s.recoverPanics)

	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, fail(codeNotFound, "no such route; see /openapi.yaml"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", strings.Join(allowedMethods(r, req.URL.Path), ", "))
		writeProblem(w, req, fail(codeMethodNotAllowed,
			"this route does not answer that method; see the Allow header and /openapi.yaml"))
	})

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/openapi.yaml", s.openAPI)

	r.Route("/v1", s.v1Routes)
	return r
}

// v1Routes lays out the authenticated API. Routes that name an endpoint
// authenticate with the endpoint lookup folded into the token lookup, so a
// code read costs one round trip.
func (s *Server) v1Routes(r chi.Router) {
	// Panics are recovered inside the audit trail as well, so that a
	// request that panicked is recorded as an error like any other 500.
	r.Use(s.auditTrail, s.recoverPanics, noStore, s.limitBody)

	r.Group(func(r chi.Router) {
		r.Use(s.authenticate)

		r.With(requireAdmin).Post("/endpoints", s.createEndpoint)
		r.Get("/endpoints", s.listEndpoints)

		r.With(requireAdmin).Post("/tokens", s.createToken)
		r.With(requireAdmin).Get("/tokens", s.listTokens)
		r.With(requireAdmin).Get("/tokens/{id}", s.getToken)
		r.With(requireAdmin).Delete("/tokens/{id}", s.revokeToken)

		r.With(requireAdmin).Get("/audit", s.listEvents)
	})

	r.Group(func(r chi.Router) {
		r.Use(s.authenticateWithEndpoint)

		r.With(requireScope).Get("/endpoints/{name}", s.getEndpoint)
		r.With(requireAdmin).Patch("/endpoints/{name}", s.updateEndpoint)
		r.With(requireAdmin).Delete("/endpoints/{name}", s.deleteEndpoint)
		r.With(requireAdmin).Put("/endpoints/{name}/secret", s.replaceSecret)
		r.With(requireScope).Get("/endpoints/{name}/code", s.getCode)
		r.With(requireScope).Post("/endpoints/{name}/verify", s.verifyCode)
		r.With(requireScope).Post("/endpoints/{name}/claim", s.claimCode)
	})
}

// allowedMethods returns the methods that routes answers on path.
func allowedMethods(routes chi.Routes, path string) []string {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if routes.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// noStore keeps every /v1 answer out of caches: many carry a code or a
// token, and the rest describe who may get them.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
