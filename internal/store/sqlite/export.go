package sqlite

import (
	"context"
	"fmt"

	"github.com/totpvault/totpvault/internal/store"
)

// HoldsEndpoints reports whether the store holds at least one endpoint,
// and so a secret sealed under some master key. A store that was never
// migrated (an empty file, or one that is not totpvault's) gives an error
// wrapping store.ErrSchemaNotCurrent: nothing tells what it holds.
func (db *DB) HoldsEndpoints(ctx context.Context) (bool, error) {
	const tables = `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'endpoints'`
	const query = `SELECT EXISTS (SELECT 1 FROM endpoints)`

	var n int
	err := db.read.QueryRowContext(ctx, tables).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("holds endpoints: %w", err)
	}
	if n == 0 {
		return false, fmt.Errorf("holds endpoints: never migrated: %w", store.ErrSchemaNotCurrent)
	}

	var holds bool
	err = db.read.QueryRowContext(ctx, query).Scan(&holds)
	if err != nil {
		return false, fmt.Errorf("holds endpoints: %w", err)
	}

	return holds, nil
}

// ClaimedSteps returns, by endpoint name, the last time step that a claim
// reserved of each endpoint that was ever claimed (since its secret was
// last replaced). An endpoint never claimed is not in the map.
func (db *DB) ClaimedSteps(ctx context.Context) (map[string]int64, error) {
	const query = `SELECT name, claimed_step FROM endpoints WHERE claimed_step >= 0`

	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("claimed steps: %w", err)
	}
	defer rows.Close()

	steps := map[string]int64{}
	for rows.Next() {
		var name string
		var step int64
		if err := rows.Scan(&name, &step); err != nil {
			return nil, fmt.Errorf("claimed steps: %w", err)
		}
		steps[name] = step
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claimed steps: %w", err)
	}

	return steps, nil
}
