package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store"
)

// ErrNotEmpty means the database holds an endpoint or a token (a revoked
// one counts), so Import would mix its records with others.
var ErrNotEmpty = errors.New("the database holds endpoints or tokens")

// Snapshot is every record that Import writes into an empty database.
type Snapshot struct {
	// Endpoints are stored as CreateEndpoint stores them.
	Endpoints []store.Endpoint

	// ClaimedSteps holds, by endpoint name, the last time step that a claim
	// reserved; an endpoint not in it was never claimed.
	ClaimedSteps map[string]int64

	// Tokens are stored as CreateToken stores them.
	Tokens []store.Token
}

// CheckEmpty returns an error wrapping ErrNotEmpty when the database holds
// any endpoint or any token, revoked ones included.
func (db *DB) CheckEmpty(ctx context.Context) error {
	err := checkEmpty(ctx, db.pool)
	if err != nil && !errors.Is(err, ErrNotEmpty) {
		return wrap("check empty", err)
	}

	return err
}

// checkEmpty does the work of CheckEmpty on q, the pool or a transaction.
func checkEmpty(ctx context.Context, q querier) error {
	const query = `SELECT EXISTS (SELECT 1 FROM endpoints) OR EXISTS (SELECT 1 FROM tokens)`

	held, err := queryOne(ctx, q, pgx.RowTo[bool], query)
	if err != nil {
		return err
	}
	if held {
		return ErrNotEmpty
	}

	return nil
}

// Import writes every record of s, and ev that records the import, in one
// transaction: all of them or, on any failure, none. It locks the endpoints
// and tokens tables against other writers and then returns an error
// wrapping ErrNotEmpty, writing nothing, unless the database holds no
// endpoint and no token. A record that the schema refuses fails the whole
// import, with the error of CreateEndpoint or CreateToken.
func (db *DB) Import(ctx context.Context, s Snapshot, ev store.Event) error {
	err := db.withEvent(ctx, ev, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `LOCK TABLE endpoints, tokens IN EXCLUSIVE MODE`)
		if err != nil {
			return err
		}
		if err := checkEmpty(ctx, tx); err != nil {
			return err
		}

		b := importBatch(s)
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})

	switch {
	case errors.Is(err, ErrNotEmpty):
		return fmt.Errorf("import: %w", err)
	case err != nil:
		return wrap(fmt.Sprintf("import %d endpoints and %d tokens",
			len(s.Endpoints), len(s.Tokens)), err)
	}

	return nil
}

// importBatch queues one insert for each record of s.
func importBatch(s Snapshot) *pgx.Batch {
	const insertEndpoint = `INSERT INTO endpoints (` + endpointColumns + `, claimed_step)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

	b := &pgx.Batch{}
	for _, e := range s.Endpoints {
		step, ok := s.ClaimedSteps[e.Name]
		if !ok {
			step = -1
		}

		b.Queue(insertEndpoint, e.ID, e.Name, e.Issuer, e.Account, e.Algorithm, e.Digits,
			e.Period, labelsOrEmpty(e.Labels), e.SealedSecret, e.CreatedAt, e.UpdatedAt, step)
	}
	for _, t := range s.Tokens {
		b.Queue(insertToken, tokenArgs(t)...)
	}

	return b
}

// ClaimedSteps returns, by endpoint name, the last time step that a claim
// reserved of each endpoint that was ever claimed (since its secret was
// last replaced). An endpoint never claimed is not in the map.
func (db *DB) ClaimedSteps(ctx context.Context) (map[string]int64, error) {
	const query = `SELECT name, claimed_step FROM endpoints WHERE claimed_step >= 0`

	rows, err := db.pool.Query(ctx, query)
	if err != nil {
		return nil, wrap("claimed steps", err)
	}

	steps := map[string]int64{}
	var name string
	var step int64
	_, err = pgx.ForEachRow(rows, []any{&name, &step}, func() error {
		steps[name] = step
		return nil
	})
	if err != nil {
		return nil, wrap("claimed steps", err)
	}

	return steps, nil
}
