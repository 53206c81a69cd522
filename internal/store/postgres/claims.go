package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store"
)

// ClaimStep reserves a time step of the endpoint called name for one
// claimer: the earliest step that is not before earliest and is later than
// every step reserved before. It returns the endpoint as it stood at the
// reservation and the step reserved.
//
// When that step would be after latest, nothing is reserved: the error
// wraps store.ErrNoFreeStep and the step returned is the one that would
// have been reserved. An unknown name gives store.ErrNotFound.
//
// The reservation is one conditional UPDATE. Under READ COMMITTED a
// concurrent claimer's update makes PostgreSQL re-check this one against
// the row's newest version, so every claimer of every instance gets a step
// of its own, and no lock is held once it returns.
func (db *DB) ClaimStep(ctx context.Context, name string, earliest, latest uint64) (
	store.Endpoint, uint64, error) {
	const reserve = `UPDATE endpoints SET claimed_step = greatest(claimed_step + 1, $2)
		WHERE name = $1 AND greatest(claimed_step + 1, $2) <= $3
		RETURNING claimed_step, ` + endpointColumns

	var step int64
	e, err := queryOne(ctx, db.pool, func(row pgx.CollectableRow) (store.Endpoint, error) {
		var e store.Endpoint
		err := row.Scan(append([]any{&step}, endpointTargets(&e)...)...)
		return finishEndpoint(e), err
	}, reserve, name, int64(earliest), int64(latest))

	switch {
	case err == nil:
		return e, uint64(step), nil
	case !errors.Is(err, pgx.ErrNoRows):
		return store.Endpoint{}, 0, wrap(fmt.Sprintf("claim a step of %q", name), err)
	}
	return db.refusedClaim(ctx, name, earliest)
}

// refusedClaim tells why ClaimStep reserved nothing: no such endpoint, or
// no free step in bounds, with the step that would have been reserved.
func (db *DB) refusedClaim(ctx context.Context, name string, earliest uint64) (
	store.Endpoint, uint64, error) {
	const next = `SELECT greatest(claimed_step + 1, $2) FROM endpoints WHERE name = $1`

	var step int64
	err := db.pool.QueryRow(ctx, next, name, int64(earliest)).Scan(&step)
	if err != nil {
		return store.Endpoint{}, 0, wrap(fmt.Sprintf("claim a step of %q", name), err)
	}
	return store.Endpoint{}, uint64(step), fmt.Errorf("claim a step of %q: %w",
		name, store.ErrNoFreeStep)
}
