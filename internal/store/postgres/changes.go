package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// changeChannel is the channel the schema's triggers notify on.
const changeChannel = "totpvault_changes"

// ChangeListenerName is the application_name of the connection that
// WatchChanges listens on, so that an operator (or a test) can find it.
const ChangeListenerName = "totpvault-changes"

// ChangeHandler is told of the changes to endpoints and tokens that any
// instance commits.
type ChangeHandler interface {
	// Online reports whether changes are being listened for; while they
	// are not, any change may go unannounced.
	Online(online bool)

	// EndpointChanged announces that the endpoint called name was
	// created, changed or deleted.
	EndpointChanged(name string)

	// TokensChanged announces that a token was created, revoked or
	// deleted.
	TokensChanged()
}

// Reconnection delays of WatchChanges.
const (
	minListenBackoff = 100 * time.Millisecond
	maxListenBackoff = 2 * time.Second
)

// A listening connection that hears nothing for heartbeat is asked to
// answer within pingTimeout. A connection that died without a word (a
// network partition, a firewall dropping idle flows) would otherwise look
// alive for as long as the kernel keeps it, and the changes it missed with
// it; this way it is given up within heartbeat + pingTimeout.
const (
	heartbeat   = time.Second
	pingTimeout = time.Second
)

// WatchChanges listens, on a connection of its own, for the changes that
// every instance commits and tells h of each, until ctx ends. It calls
// h.Online(true) once it listens and h.Online(false) when the connection
// is lost or stops answering (see heartbeat), then connects again, waiting from 100 ms up to 2 s between
// tries. It returns when ctx ends, after a last h.Online(false).
func (db *DB) WatchChanges(ctx context.Context, h ChangeHandler) {
	backoff := minListenBackoff
	for {
		listened := db.listen(ctx, h)
		h.Online(false)

		if listened {
			backoff = minListenBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxListenBackoff)
	}
}

// listen connects, listens and passes notifications to h until the
// connection fails or ctx ends. It reports whether it got to listen.
func (db *DB) listen(ctx context.Context, h ChangeHandler) bool {
	cfg := db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ChangeListenerName

	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return false
	}
	h.Online(true)

	for {
		n, err := waitForNotification(ctx, conn)
		switch {
		case err == nil && n != nil:
			dispatch(h, n.Payload)
		case err != nil || !alive(ctx, conn):
			return true
		}
	}
}

// waitForNotification waits up to heartbeat for a notification. It returns
// nil and no error when none came in that time.
func waitForNotification(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	wait, cancel := context.WithTimeout(ctx, heartbeat)
	defer cancel()

	n, err := conn.WaitForNotification(wait)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, nil
	}
	return n, err
}

// alive reports whether conn answers a ping within pingTimeout.
func alive(ctx context.Context, conn *pgx.Conn) bool {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()

	return conn.Ping(ctx) == nil
}

// dispatch passes one notification's payload to h.
func dispatch(h ChangeHandler, payload string) {
	if name, ok := strings.CutPrefix(payload, "endpoint:"); ok {
		h.EndpointChanged(name)
		return
	}
	h.TokensChanged()
}
