package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
)

// copyPage is how many records the copy command reads at a time.
const copyPage = 500

// runCopy copies every endpoint and every token that was not revoked from
// the configured store (the embedded one, unless a database URL is given)
// into an empty PostgreSQL database. Secrets stay sealed, or are resealed
// under the target's master key when --to-master-key-file names another.
func runCopy(ctx context.Context, args []string, env environment, out, errOut io.Writer) error {
	fs := newFlagSet("copy", errOut)
	to := fs.String("to", "", "PostgreSQL URL of the empty database to copy into (required)")
	toKeyFile := fs.String("to-master-key-file", "",
		"master key of the target, when it is not the source's: secrets are resealed under it")

	cfg, err := parseFlags(fs, args, env)
	if err != nil {
		return err
	}
	if *to == "" {
		return errors.New("--to is required: the PostgreSQL URL to copy into")
	}

	keys, err := cfg.keyring(cfg.newLogger(errOut))
	if err != nil {
		return err
	}
	reseal, err := targetKeyring(*toKeyFile)
	if err != nil {
		return err
	}

	src, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer src.Close()

	dst, err := openCopyTarget(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()

	c := copier{src: src, dst: dst, open: keys, seal: reseal}
	endpoints, tokens, err := c.run(ctx)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "copied %d endpoints and %d tokens; start totpvault with "+
		"TOTPVAULT_DATABASE_URL set to the target and its master key\n", endpoints, tokens)
	return nil
}

// targetKeyring reads the target's master key, or returns nil when the
// target keeps the source's key.
func targetKeyring(path string) (*keyring.Keyring, error) {
	if path == "" {
		return nil, nil
	}

	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--to-master-key-file: %w", err)
	}
	key, err := keyring.ParseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("--to-master-key-file: %w", err)
	}
	return keyring.New(key)
}

// openCopyTarget opens and migrates the target, which must hold no
// endpoint and no token.
func openCopyTarget(ctx context.Context, url string) (*postgres.DB, error) {
	dst, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open the target: %w", err)
	}
	if err := dst.Migrate(ctx); err != nil {
		dst.Close()
		return nil, fmt.Errorf("migrate the target: %w", err)
	}

	endpoints, err := dst.ListEndpoints(ctx, store.EndpointQuery{Limit: 1})
	if err == nil && len(endpoints) == 0 {
		var tokens []store.Token
		tokens, err = dst.ListTokens(ctx, store.TokenQuery{Limit: 1})
		if err == nil && len(tokens) > 0 {
			err = errors.New("the target holds tokens already; copy into an empty database")
		}
	} else if err == nil {
		err = errors.New("the target holds endpoints already; copy into an empty database")
	}
	if err != nil {
		dst.Close()
		return nil, err
	}
	return dst, nil
}

// copier moves records from one store to another.
type copier struct {
	src  backend
	dst  *postgres.DB
	open *keyring.Keyring

	// seal, when not nil, reseals every secret under the target's key.
	seal *keyring.Keyring
}

// run copies every endpoint, then every token, and reports how many.
func (c copier) run(ctx context.Context) (endpoints, tokens int, err error) {
	q := store.EndpointQuery{Limit: copyPage}
	for {
		page, err := c.src.ListEndpoints(ctx, q)
		if err != nil {
			return endpoints, 0, fmt.Errorf("read endpoints: %w", err)
		}
		for _, e := range page {
			if err := c.endpoint(ctx, e); err != nil {
				return endpoints, 0, err
			}
			endpoints++
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Name
	}

	tokens, err = c.tokens(ctx)
	return endpoints, tokens, err
}

// endpoint copies one endpoint, resealing its secret when asked to. The
// secret is opened even when it is not resealed, so that a copy never
// carries a row that the source's key could not open.
func (c copier) endpoint(ctx context.Context, e store.Endpoint) error {
	secret, err := c.open.Open(e.SealedSecret, e.SecretAD())
	if err != nil {
		return fmt.Errorf("endpoint %q: its sealed secret does not open: %w", e.Name, err)
	}
	if c.seal != nil {
		if e.SealedSecret, err = c.seal.Seal(secret, e.SecretAD()); err != nil {
			return fmt.Errorf("endpoint %q: reseal: %w", e.Name, err)
		}
	}

	ev := commandEvent(store.ActionEndpointCreate, "copied by the copy command")
	ev.Endpoint = e.Name
	if _, err := c.dst.CreateEndpoint(ctx, e, ev); err != nil {
		return fmt.Errorf("endpoint %q: %w", e.Name, err)
	}
	return nil
}

// tokens copies every token that was not revoked, hashes as they are.
func (c copier) tokens(ctx context.Context) (int, error) {
	n := 0
	q := store.TokenQuery{Limit: copyPage}
	for {
		page, err := c.src.ListTokens(ctx, q)
		if err != nil {
			return n, fmt.Errorf("read tokens: %w", err)
		}
		for _, t := range page {
			ev := commandEvent(store.ActionTokenCreate,
				fmt.Sprintf("token %s %q copied by the copy command", t.ID, t.Name))
			if _, err := c.dst.CreateToken(ctx, t, ev); err != nil {
				return n, fmt.Errorf("token %s: %w", t.ID, err)
			}
			n++
		}
		if len(page) < q.Limit {
			return n, nil
		}
		q.After = page[len(page)-1].ID
	}
}
