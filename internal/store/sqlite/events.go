package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// insertEventsHead starts a multi-row INSERT of events; eventValues follows
// it once per event, the rows separated by commas.
const insertEventsHead = `INSERT INTO audit_events (time, action, outcome, endpoint, token_id,
	token_name, remote_addr, request_id, detail) VALUES `

// eventValues is one row of insertEventsHead, given eventArgs.
const eventValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`

// maxEventsPerInsert bounds the rows of one INSERT: 9 parameters each keep
// it well under SQLite's 32766 parameters a statement, and it holds a whole
// batch of the audit batcher (512 events by default) at once.
const maxEventsPerInsert = 1000

// eventArgs returns the arguments of eventValues for e, its text made
// storable, empty strings as NULL and its token ID in the canonical form
// of a UUID. It returns errNotUUID when e.TokenID is not empty and not a
// UUID.
func eventArgs(e store.Event) ([]any, error) {
	tokenID := store.StorableText(e.TokenID)
	if tokenID != "" {
		id, ok := parseID(tokenID)
		if !ok {
			return nil, fmt.Errorf("token %w", errNotUUID)
		}
		tokenID = id
	}

	return []any{
		micros(e.Time), store.StorableText(string(e.Action)), store.StorableText(string(e.Outcome)),
		nullIfEmpty(store.StorableText(e.Endpoint)), nullIfEmpty(tokenID),
		nullIfEmpty(store.StorableText(e.TokenName)), nullIfEmpty(store.StorableText(e.RemoteAddr)),
		nullIfEmpty(store.StorableText(e.RequestID)), nullIfEmpty(store.StorableText(e.Detail)),
	}, nil
}

// nullIfEmpty returns nil (NULL) for "", else s.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}

	return s
}

// insertEvents writes events through ex, maxEventsPerInsert rows a
// statement, in the order of the slice, which is the order of their IDs.
// ex is a transaction when there may be more than one statement.
func insertEvents(ctx context.Context, ex execer, events []store.Event) error {
	for len(events) > 0 {
		n := min(len(events), maxEventsPerInsert)

		args := make([]any, 0, n*9)
		for i, e := range events[:n] {
			a, err := eventArgs(e)
			if err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
			args = append(args, a...)
		}

		values := strings.Repeat(eventValues+", ", n-1) + eventValues
		_, err := ex.ExecContext(ctx, insertEventsHead+values, args...)
		if err != nil {
			return err
		}

		events = events[n:]
	}

	return nil
}

// AppendEvents writes events in one transaction, and so in one commit; they
// are durable when it returns nil (synchronous=FULL: the commit is on disk).
// The database gives each event its ID, in the order of the slice. An empty
// slice is a no-op. NUL bytes and invalid UTF-8 in the events' text are
// stored as U+FFFD (see store.StorableText). The batch is written whole or not at all:
// an event that the schema refuses (an unknown Action or Outcome, a TokenID
// that is not a UUID) fails it.
func (db *DB) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}

	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return insertEvents(ctx, tx, events)
	})
	if err != nil {
		return wrap(fmt.Sprintf("append %d events", len(events)), err)
	}

	return nil
}

// ListEvents returns up to q.Limit events matching q, newest first: by Time,
// then ID, both descending. q.Endpoint (compared byte for byte), q.Action
// and q.TokenID keep exact matches; q.Since is inclusive and q.Until
// exclusive; q.Before keeps the events after it in that order. The list is
// empty, never nil, when none match, and also when q.TokenID is not a UUID
// or q.Before.ID is not a decimal number, since no event can match them. A
// q.Limit that is not positive is an error. Filters are made storable as
// events are, so that an endpoint name holding a NUL byte finds the events
// that AppendEvents stored for it.
func (db *DB) ListEvents(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("list events: limit %d is not positive", q.Limit)
	}

	query, args, ok := eventListQuery(q)
	if !ok {
		return []store.Event{}, nil
	}

	list, err := queryAll(ctx, db.read, scanEvent, query, args...)
	if err != nil {
		return nil, wrap("list events", err)
	}

	return list, nil
}

// eventListQuery builds ListEvents' statement: one condition for each
// filter that q sets, so that SQLite picks the index of the filter (see
// migration 00002). It reports false when q can match no event.
func eventListQuery(q store.EventQuery) (string, []any, bool) {
	var conds []string
	var args []any
	add := func(cond string, values ...any) {
		conds = append(conds, cond)
		args = append(args, values...)
	}

	if q.Endpoint != "" {
		add(`endpoint = ?`, store.StorableText(q.Endpoint))
	}
	if q.Action != "" {
		add(`action = ?`, store.StorableText(string(q.Action)))
	}
	if q.TokenID != "" {
		id, ok := parseID(q.TokenID)
		if !ok {
			return "", nil, false
		}
		add(`token_id = ?`, id)
	}
	if !q.Since.IsZero() {
		add(`time >= ?`, micros(q.Since))
	}
	if !q.Until.IsZero() {
		add(`time < ?`, micros(q.Until))
	}
	if q.Before != nil {
		id, err := strconv.ParseInt(q.Before.ID, 10, 64)
		if err != nil {
			return "", nil, false
		}
		// A row value comparison is one range of the (..., time, id)
		// indexes.
		add(`(time, id) < (?, ?)`, micros(q.Before.Time), id)
	}

	query := `SELECT ` + eventColumns + ` FROM audit_events`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	query += ` ORDER BY time DESC, id DESC LIMIT ?`

	return query, append(args, q.Limit), true
}

// PruneEvents deletes up to limit of the oldest events whose time is before
// before, and returns how many it deleted: 0 once none is left. Callers
// prune in small batches, calling again while it returns limit, so that no
// statement holds the write lock for long. Writes queue for the one writer
// connection, so calls made at the same moment run one after the other,
// each deleting the oldest events left. A limit that is not positive is an
// error.
func (db *DB) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	const query = `DELETE FROM audit_events WHERE id IN (
		SELECT id FROM audit_events WHERE time < ?
		ORDER BY time, id LIMIT ?)`

	if limit <= 0 {
		return 0, fmt.Errorf("prune events: limit %d is not positive", limit)
	}

	res, err := db.write.ExecContext(ctx, query, micros(before), limit)
	if err != nil {
		return 0, wrap("prune events", err)
	}

	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("prune events", err)
	}

	return int(n), nil
}

// withEvent runs change in a write transaction and then, in the same
// transaction, inserts ev as AppendEvents does: the change and its record
// commit together or not at all. When change fails, ev is not written and
// its error comes back as it is; when ev cannot be inserted, the change is
// rolled back.
func (db *DB) withEvent(ctx context.Context, ev store.Event, change func(tx *sql.Tx) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		err := change(tx)
		if err != nil {
			return err
		}

		err = insertEvents(ctx, tx, []store.Event{ev})
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}

		return nil
	})
}

// queryOneWithEvent runs query as queryOne does, and inserts ev in the same
// transaction (see withEvent).
func queryOneWithEvent[T any](
	ctx context.Context, db *DB, ev store.Event, scan func(scanner) (T, error),
	query string, args ...any,
) (T, error) {
	var row T
	err := db.withEvent(ctx, ev, func(tx *sql.Tx) error {
		var err error
		row, err = queryOne(ctx, tx, scan, query, args...)
		return err
	})

	return row, err
}

// execOneWithEvent runs statement, which changes at most one row, and
// inserts ev in the same transaction (see withEvent). It returns
// store.ErrNotFound, and writes nothing, when the statement changes no row.
func (db *DB) execOneWithEvent(
	ctx context.Context, ev store.Event, statement string, args ...any,
) error {
	return db.withEvent(ctx, ev, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, statement, args...)
		if err != nil {
			return err
		}

		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}

		return nil
	})
}
