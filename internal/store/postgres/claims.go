package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store"
)

// ClaimStep reserves a time step of the endpoint e.Name for one claimer:
// the earliest step that is not before earliest and is later than every
// step reserved before. It returns the endpoint as it stood at the
// reservation and the step reserved.
//
// The caller computed earliest and latest from e's period, so the step is
// reserved only while the endpoint still has e's period and sealed secret.
// When it has not (a new secret replaced it since e was read), or when the
// step would be after latest, nothing is reserved: the error wraps
// store.ErrNoFreeStep, the endpoint returned is the endpoint as it stands,
// and the step returned is the one that would have been reserved. A caller
// that finds another secret in it builds its bounds again and claims again.
// An unknown name gives store.ErrNotFound.
//
// The reservation is one conditional UPDATE. Under READ COMMITTED a
// concurrent claim or secret replacement makes PostgreSQL re-check this one
// against the row's newest version, so every claimer of every instance gets
// a step of its own, counted in the period of the secret it gets, and no
// lock is held once it returns.
func (db *DB) ClaimStep(ctx context.Context, e store.Endpoint, earliest, latest uint64) (
	store.Endpoint, uint64, error) {
	const reserve = `UPDATE endpoints SET claimed_step = greatest(claimed_step + 1, $4)
		WHERE name = $1 AND period = $2 AND sealed_secret = $3
			AND greatest(claimed_step + 1, $4) <= $5
		RETURNING claimed_step, ` + endpointColumns

	reserved, step, err := queryClaim(ctx, db, reserve,
		e.Name, e.Period, e.SealedSecret, int64(earliest), int64(latest))
	switch {
	case err == nil:
		return reserved, step, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return store.Endpoint{}, 0, wrap(fmt.Sprintf("claim a step of %q", e.Name), err)
	}

	return db.refusedClaim(ctx, e.Name, earliest)
}

// refusedClaim tells why ClaimStep reserved nothing: no such endpoint, or
// no free step in bounds, with the endpoint as it stands and the step that
// would have been reserved.
func (db *DB) refusedClaim(ctx context.Context, name string, earliest uint64) (
	store.Endpoint, uint64, error) {
	const next = `SELECT greatest(claimed_step + 1, $2), ` + endpointColumns + `
		FROM endpoints WHERE name = $1`

	e, step, err := queryClaim(ctx, db, next, name, int64(earliest))
	if err != nil {
		return store.Endpoint{}, 0, wrap(fmt.Sprintf("claim a step of %q", name), err)
	}

	return e, step, fmt.Errorf("claim a step of %q: %w", name, store.ErrNoFreeStep)
}

// queryClaim runs query, which returns one row of a step followed by
// endpointColumns, and scans it; pgx.ErrNoRows when there is no row.
func queryClaim(ctx context.Context, db *DB, query string, args ...any) (
	store.Endpoint, uint64, error) {
	var step int64
	e, err := queryOne(ctx, db.pool, func(row pgx.CollectableRow) (store.Endpoint, error) {
		var e store.Endpoint
		err := row.Scan(append([]any{&step}, endpointTargets(&e)...)...)

		return finishEndpoint(e), err
	}, query, args...)

	return e, uint64(step), err
}
