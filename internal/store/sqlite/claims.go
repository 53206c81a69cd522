package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
// The reservation is one conditional UPDATE, in a write transaction that
// also tells, when it reserves nothing, why. Write transactions run one at
// a time (see the package comment), so every claimer gets a step of its own
// and the answer of a refusal is exact, not a moment late.
func (db *DB) ClaimStep(ctx context.Context, e store.Endpoint, earliest, latest uint64) (
	store.Endpoint, uint64, error) {
	what := fmt.Sprintf("claim a step of %q", e.Name)

	var got store.Endpoint
	var step int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		got, step, err = reserveStep(ctx, tx, e, int64(earliest), int64(latest))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}

		got, step, err = nextStep(ctx, tx, e.Name, int64(earliest))
		if err != nil {
			return err
		}

		return store.ErrNoFreeStep
	})

	switch {
	case errors.Is(err, store.ErrNoFreeStep):
		return got, uint64(step), fmt.Errorf("%s: %w", what, err)
	case err != nil:
		return store.Endpoint{}, 0, wrap(what, err)
	}

	return got, uint64(step), nil
}

// reserveStep reserves the step as ClaimStep describes, inside tx, and
// returns the endpoint and the step; sql.ErrNoRows when it reserved nothing.
func reserveStep(ctx context.Context, tx *sql.Tx, e store.Endpoint, earliest, latest int64) (
	store.Endpoint, int64, error) {
	const reserve = `UPDATE endpoints SET claimed_step = max(claimed_step + 1, ?4)
		WHERE name = ?1 AND period = ?2 AND sealed_secret = ?3
			AND max(claimed_step + 1, ?4) <= ?5
		RETURNING claimed_step, ` + endpointColumns

	row := tx.QueryRowContext(ctx, reserve, e.Name, e.Period, e.SealedSecret, earliest, latest)

	return scanClaim(row)
}

// nextStep returns, inside tx, the endpoint called name and the step that
// a claim of it would reserve; sql.ErrNoRows when there is no such
// endpoint.
func nextStep(ctx context.Context, tx *sql.Tx, name string, earliest int64) (
	store.Endpoint, int64, error) {
	const next = `SELECT max(claimed_step + 1, ?2), ` + endpointColumns + `
		FROM endpoints WHERE name = ?1`

	return scanClaim(tx.QueryRowContext(ctx, next, name, earliest))
}

// scanClaim scans one row of a step followed by endpointColumns.
func scanClaim(row *sql.Row) (store.Endpoint, int64, error) {
	var r endpointRow
	var step int64
	err := row.Scan(append([]any{&step}, r.targets()...)...)
	if err != nil {
		return store.Endpoint{}, 0, err
	}

	e, err := r.record()

	return e, step, err
}
