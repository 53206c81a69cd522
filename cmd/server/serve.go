package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/totpvault/totpvault"
	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
)

// Server timeouts. A code request may wait for the next time step, up to
// one period (at most five minutes), so writes get longer than that.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	writeTimeout      = 6 * time.Minute
	idleTimeout       = 2 * time.Minute
	drainTimeout      = 20 * time.Second
)

// minProcsForFileIO is the fewest Go processors the server runs the
// embedded store with (see keepProcsForFileIO).
const minProcsForFileIO = 2

// keepProcsForFileIO gives the embedded store at least minProcsForFileIO
// processors, unless GOMAXPROCS is set. The store reads, writes and syncs
// its file in blocking system calls, and Go limits itself to one processor
// on one CPU (a small machine, a container's CPU limit, taskset). With one,
// each such call holds up every other request until the runtime's monitor
// hands the processor on, which it may take up to 10 ms to do. Under 32
// concurrent claims on one core that gave 1,470 claims/s with answers up to
// 1.2 s late; with two processors on the same core, 2,350 claims/s and at
// most 90 ms.
func keepProcsForFileIO(env environment, log *slog.Logger) {
	if env.getenv("GOMAXPROCS") != "" || runtime.GOMAXPROCS(0) >= minProcsForFileIO {
		return
	}

	runtime.GOMAXPROCS(minProcsForFileIO)
	log.Info("running the embedded store with two Go processors on one CPU, so that " +
		"requests go on while it waits on the disk; set GOMAXPROCS to choose otherwise")
}

// runServe serves the HTTP API until ctx is done, then drains.
func runServe(ctx context.Context, args []string, env environment, _, errOut io.Writer) error {
	cfg, err := parseFlags(newFlagSet("serve", errOut), args, env)
	if err != nil {
		return err
	}

	log := cfg.newLogger(errOut)
	log.Info("starting", slog.Any("config", cfg.Redacted()))
	if cfg.embedded() {
		keepProcsForFileIO(env, log)
	}

	keys, err := cfg.keyring(log)
	if err != nil {
		return err
	}

	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}

	if err := bootstrapAdmin(ctx, db, cfg, log, errOut, baseURL(cfg, ln)); err != nil {
		ln.Close()
		return err
	}

	trail := startAudit(ctx, db, cfg, log)
	defer closeAudit(trail, log)

	srv := api.New(api.Config{
		Store:          db,
		Lookups:        startLookups(ctx, db),
		Sealer:         keys,
		Audit:          trail,
		Log:            log,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		TrustedProxies: cfg.TrustedProxies,
		Spec:           totpvault.APISpec,
	})
	return serveHTTP(ctx, srv, ln, cfg, log)
}

// auditWriters is how many batches of audit events commit at once: with
// two, a batch gathers while the one before it commits, so the server
// does not wait idle on the database (see bench/RESULTS.md).
const auditWriters = 2

// startAudit starts the group-commit writer of audit events and, when a
// retention is set, the pruner of old events.
func startAudit(ctx context.Context, db backend, cfg Config, log *slog.Logger) *audit.Batcher {
	if cfg.AuditRetention > 0 {
		go audit.Pruner{Sink: db, Retention: cfg.AuditRetention, Log: log}.Run(ctx)
	}
	return audit.NewBatcher(db, log, audit.Options{Writers: auditWriters})
}

// closeAudit writes the audit events still queued, for at most
// drainTimeout.
func closeAudit(trail *audit.Batcher, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()

	if err := trail.Close(ctx); err != nil {
		log.Error("audit events left unwritten at shutdown", slog.String("error", err.Error()))
	}
}

// baseURL is the address to reach the server on, for the bootstrap message.
func baseURL(cfg Config, ln net.Listener) string {
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// bootstrapAdmin creates the first admin token when the store holds none
// at all. Its value is the configured bootstrap token, or a new one that is
// printed this once on errOut.
func bootstrapAdmin(ctx context.Context, db backend, cfg Config, log *slog.Logger,
	errOut io.Writer, base string) error {
	value, hash, err := bootstrapValue(cfg.BootstrapToken)
	if err != nil {
		return err
	}

	t := store.Token{
		ID:        store.NewID(),
		Name:      "bootstrap-admin",
		Role:      store.RoleAdmin,
		Hash:      hash,
		CreatedAt: time.Now(),
	}
	created, err := db.CreateFirstAdminToken(ctx, t,
		commandEvent(store.ActionTokenCreate, "bootstrap admin token "+t.ID+" made at start-up"))
	if err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}

	switch {
	case !created && cfg.BootstrapToken != "":
		log.Info("admin tokens exist; the bootstrap token setting is not used")
	case created && cfg.BootstrapToken != "":
		log.Info("created the bootstrap admin token from configuration",
			slog.String("token_id", t.ID))
	case created:
		log.Info("created a bootstrap admin token", slog.String("token_id", t.ID))
		fmt.Fprintf(errOut, "\ntotpvault: no admin token existed, so this one was made. "+
			"It is shown only now; keep it safe:\n\n    %s\n\n"+
			"Try it: curl -H 'Authorization: Bearer %[1]s' %s/v1/endpoints\n\n", value, base)
	}
	return nil
}

// bootstrapValue returns the configured bootstrap token or mints one.
func bootstrapValue(configured string) (value string, hash []byte, err error) {
	if configured == "" {
		return access.Mint(rand.Reader)
	}

	if err := access.CheckTokenValue(configured); err != nil {
		return "", nil, fmt.Errorf("bootstrap token: %w", err)
	}
	return configured, access.Hash(configured), nil
}

// serveHTTP serves srv on ln until ctx is done, then stops the waits,
// drains requests for at most drainTimeout and returns.
func serveHTTP(ctx context.Context, srv *api.Server, ln net.Listener, cfg Config,
	log *slog.Logger) error {
	hs := &http.Server{
		Handler:           withConsole(srv.Handler()),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 1)
	go func() {
		log.Info("serving", slog.String("address", ln.Addr().String()),
			slog.Bool("tls", cfg.TLSCertFile != ""))
		if cfg.TLSCertFile != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
			return
		}
		errc <- hs.Serve(ln)
	}()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	log.Info("shutting down", slog.Duration("drain_timeout", drainTimeout))
	srv.StopWaiting()

	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := hs.Shutdown(drainCtx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	return nil
}

// runMigrate applies the schema and exits.
func runMigrate(ctx context.Context, args []string, env environment, out, errOut io.Writer) error {
	cfg, err := parseFlags(newFlagSet("migrate", errOut), args, env)
	if err != nil {
		return err
	}

	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	db.Close()

	fmt.Fprintln(out, "the database schema is current")
	return nil
}

// runKeygen prints a fresh master key.
func runKeygen(_ context.Context, args []string, _ environment, out, errOut io.Writer) error {
	fs := newFlagSet("keygen", errOut)
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: totpvault keygen > master.key\n\n"+
			"Prints a fresh 32-byte master key, base64, for TOTPVAULT_MASTER_KEY(_FILE).")
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	// "keygen master.key" must not look as if it wrote the key to a file.
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}

	key, err := keyring.NewKey(rand.Reader)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, key)
	return nil
}

// flagError passes flag.ErrHelp on and turns other parse errors into
// errUsage (the flag package has printed them).
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}
