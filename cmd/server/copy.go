package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
)

// copyPage is how many records the copy command reads at a time.
const copyPage = 500

// errTargetNotEmpty says which databases copy writes into.
var errTargetNotEmpty = errors.New("the target holds endpoints or tokens (revoked ones " +
	"count, and so does the bootstrap admin token of a server that started on it): " +
	"copy into an empty database that no server has started on")

// runCopy copies every endpoint, with its claimed step, and every token
// that was not revoked from the configured store (the embedded one, unless
// a database URL is given) into an empty PostgreSQL database. It reads the
// whole source into memory and reseals every secret under the target's
// master key (the source's primary key, unless --to-master-key-file names
// another) before it writes anything, and then writes everything in one
// transaction: a copy that fails leaves the target as it was.
func runCopy(ctx context.Context, args []string, env environment, out, errOut io.Writer) error {
	flags := newFlagSet("copy", errOut)
	to := flags.String("to", "", "PostgreSQL URL of the empty database to copy into (required)")
	toKeyFile := flags.String("to-master-key-file", "",
		"master key of the target, when it is not the source's: secrets are resealed under it")

	cfg, err := parseFlags(flags, args, env)
	if err != nil {
		return err
	}
	if *to == "" {
		return errors.New("--to is required: the PostgreSQL URL to copy into")
	}

	if err := cfg.requireEmbeddedStore(); err != nil {
		return err
	}
	open, err := cfg.existingKeyring()
	if err != nil {
		return err
	}
	seal, err := targetKeyring(*toKeyFile, open)
	if err != nil {
		return err
	}

	copied, err := copyStore(ctx, cfg, *to, open, seal)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "copied %d endpoints and %d tokens; start totpvault with "+
		"TOTPVAULT_DATABASE_URL set to the target and its master key\n",
		len(copied.Endpoints), len(copied.Tokens))
	return nil
}

// requireEmbeddedStore returns an error, and creates nothing, when the
// configuration names an embedded store that does not exist.
func (c Config) requireEmbeddedStore() error {
	if !c.embedded() {
		return nil
	}

	_, err := os.Stat(c.embeddedPath())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no embedded store at %s; run copy where the server's "+
			"data folder is or set --data-dir", absPath(c.embeddedPath()))
	}
	if err != nil {
		return fmt.Errorf("open the embedded store: %w", err)
	}
	return nil
}

// targetKeyring reads the target's master key from path, or returns
// source when path is empty: the target keeps the source's primary key.
func targetKeyring(path string, source *keyring.Keyring) (*keyring.Keyring, error) {
	if path == "" {
		return source, nil
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

// copyStore reads the source as snapshot does and imports it into the
// target at url, and returns what it copied.
func copyStore(ctx context.Context, cfg Config, url string, open, seal *keyring.Keyring) (
	postgres.Snapshot, error) {
	src, err := openMigrated(ctx, cfg)
	if err != nil {
		return postgres.Snapshot{}, err
	}
	defer src.Close()

	dst, err := openCopyTarget(ctx, url)
	if err != nil {
		return postgres.Snapshot{}, err
	}
	defer dst.Close()

	snap, err := snapshot(ctx, src, open, seal)
	if err != nil {
		return postgres.Snapshot{}, err
	}

	ev := commandEvent(store.ActionEndpointCreate, fmt.Sprintf(
		"%d endpoints and %d tokens imported by the copy command",
		len(snap.Endpoints), len(snap.Tokens)))
	err = dst.Import(ctx, snap, ev)
	if errors.Is(err, postgres.ErrNotEmpty) {
		return postgres.Snapshot{}, errTargetNotEmpty
	}
	if err != nil {
		return postgres.Snapshot{}, fmt.Errorf("write the target: %w", err)
	}
	return snap, nil
}

// openCopyTarget opens and migrates the target, and refuses it unless it
// holds no endpoint and no token. Import checks that again as it writes;
// this check fails before the source is read.
func openCopyTarget(ctx context.Context, url string) (*postgres.DB, error) {
	dst, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open the target: %w", err)
	}
	if err := dst.Migrate(ctx); err != nil {
		dst.Close()
		return nil, fmt.Errorf("migrate the target: %w", err)
	}

	err = dst.CheckEmpty(ctx)
	if errors.Is(err, postgres.ErrNotEmpty) {
		err = errTargetNotEmpty
	}
	if err != nil {
		dst.Close()
		return nil, err
	}
	return dst, nil
}

// snapshot reads every endpoint, claimed step and token that was not
// revoked of src into memory, each secret opened with open and sealed again
// with seal. It writes nothing.
func snapshot(ctx context.Context, src backend, open, seal *keyring.Keyring) (
	postgres.Snapshot, error) {
	endpoints, err := allEndpoints(ctx, src)
	if err != nil {
		return postgres.Snapshot{}, err
	}
	for i := range endpoints {
		if err := reseal(&endpoints[i], open, seal); err != nil {
			return postgres.Snapshot{}, err
		}
	}

	steps, err := src.ClaimedSteps(ctx)
	if err != nil {
		return postgres.Snapshot{}, fmt.Errorf("read claimed steps: %w", err)
	}
	tokens, err := allTokens(ctx, src)
	if err != nil {
		return postgres.Snapshot{}, err
	}
	return postgres.Snapshot{Endpoints: endpoints, ClaimedSteps: steps, Tokens: tokens}, nil
}

// reseal opens e's secret with open and seals it again with seal, under
// seal's primary key: a row sealed under an old key of the source needs no
// old key on the target.
func reseal(e *store.Endpoint, open, seal *keyring.Keyring) error {
	secret, err := open.Open(e.SealedSecret, e.SecretAD())
	if err != nil {
		return fmt.Errorf("endpoint %q: its sealed secret does not open with the source's "+
			"master keys: %w", e.Name, err)
	}
	defer clear(secret)

	if e.SealedSecret, err = seal.Seal(secret, e.SecretAD()); err != nil {
		return fmt.Errorf("endpoint %q: reseal: %w", e.Name, err)
	}
	return nil
}

// allEndpoints reads every endpoint of src, page by page.
func allEndpoints(ctx context.Context, src backend) ([]store.Endpoint, error) {
	var all []store.Endpoint
	q := store.EndpointQuery{Limit: copyPage}
	for {
		page, err := src.ListEndpoints(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read endpoints: %w", err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all, nil
		}
		q.After = page[len(page)-1].Name
	}
}

// allTokens reads every token of src that was not revoked, page by page.
func allTokens(ctx context.Context, src backend) ([]store.Token, error) {
	var all []store.Token
	q := store.TokenQuery{Limit: copyPage}
	for {
		page, err := src.ListTokens(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read tokens: %w", err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all, nil
		}
		q.After = page[len(page)-1].ID
	}
}
