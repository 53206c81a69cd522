package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
// The reservation is one conditional UPDATE, in a write transaction that
// also tells, when it reserves nothing, why. Write transactions run one at
// a time (see the package comment), so every claimer gets a step of its own
// and the step of a refusal is exact, not a moment late.
func (db *DB) ClaimStep(ctx context.Context, name string, earliest, latest uint64) (
	store.Endpoint, uint64, error) {
	what := fmt.Sprintf("claim a step of %q", name)

	var e store.Endpoint
	var step int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, step, err = reserveStep(ctx, tx, name, int64(earliest), int64(latest))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}

		step, err = nextStep(ctx, tx, name, int64(earliest))
		if err != nil {
			return err
		}

		return store.ErrNoFreeStep
	})

	switch {
	case errors.Is(err, store.ErrNoFreeStep):
		return store.Endpoint{}, uint64(step), fmt.Errorf("%s: %w", what, err)
	case err != nil:
		return store.Endpoint{}, 0, wrap(what, err)
	}

	return e, uint64(step), nil
}

// reserveStep reserves the step as ClaimStep describes, inside tx, and
// returns the endpoint and the step; sql.ErrNoRows when it reserved nothing.
func reserveStep(ctx context.Context, tx *sql.Tx, name string, earliest, latest int64) (
	store.Endpoint, int64, error) {
	const reserve = `UPDATE endpoints SET claimed_step = max(claimed_step + 1, ?2)
		WHERE name = ?1 AND max(claimed_step + 1, ?2) <= ?3
		RETURNING claimed_step, ` + endpointColumns

	var r endpointRow
	var step int64
	err := tx.QueryRowContext(ctx, reserve, name, earliest, latest).
		Scan(append([]any{&step}, r.targets()...)...)
	if err != nil {
		return store.Endpoint{}, 0, err
	}

	e, err := r.record()

	return e, step, err
}

// nextStep returns, inside tx, the step that a claim of the endpoint called
// name would reserve; sql.ErrNoRows when there is no such endpoint.
func nextStep(ctx context.Context, tx *sql.Tx, name string, earliest int64) (int64, error) {
	const next = `SELECT max(claimed_step + 1, ?2) FROM endpoints WHERE name = ?1`

	var step int64
	err := tx.QueryRowContext(ctx, next, name, earliest).Scan(&step)

	return step, err
}
