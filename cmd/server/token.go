package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/totpvault/totpvault/internal/access"
	"github.com/totpvault/totpvault/internal/store"
)

// scopeList collects repeated --scope flags.
type scopeList []string

func (s *scopeList) String() string     { return strings.Join(*s, ",") }
func (s *scopeList) Set(v string) error { *s = append(*s, v); return nil }

// runToken runs "token create": it makes a token straight in the
// database, which is the way back in when every admin token is gone, and
// prints its value on out.
func runToken(ctx context.Context, args []string, env environment, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(errOut, "usage: totpvault token create --name NAME --role admin|runner "+
			"[--scope GLOB ...] [--ttl DURATION]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return errUsage
	}

	fs := newFlagSet("token create", errOut)
	name := fs.String("name", "", "what the token is for, such as eu-runners (required)")
	role := fs.String("role", "", "admin or runner (required)")
	ttl := fs.Duration("ttl", 0, "lifetime such as 720h; 0 never expires")
	var scopes scopeList
	fs.Var(&scopes, "scope", "endpoint name glob a runner may read, such as o365-* (repeatable)")

	cfg, err := parseFlags(fs, args[1:], env)
	if err != nil {
		return err
	}

	t, err := newToken(*name, *role, scopes, *ttl, time.Now())
	if err != nil {
		return err
	}

	value, hash, err := access.Mint(rand.Reader)
	if err != nil {
		return err
	}
	t.Hash = hash

	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	ev := commandEvent(store.ActionTokenCreate, fmt.Sprintf("token %s %q, role %s, made by the token create command",
		t.ID, t.Name, t.Role))
	if _, err := db.CreateToken(ctx, t, ev); err != nil {
		return fmt.Errorf("create token: %w", err)
	}

	fmt.Fprintln(out, value)
	return nil
}

// newToken checks the command's flags and makes the token record.
func newToken(name, role string, scopes []string, ttl time.Duration, now time.Time) (
	store.Token, error) {
	if err := access.CheckTokenName(name); err != nil {
		return store.Token{}, fmt.Errorf("--name: %w", err)
	}
	if ttl < 0 {
		return store.Token{}, errors.New("--ttl must not be negative")
	}
	if err := access.CheckGrant(role, scopes); err != nil {
		return store.Token{}, err
	}

	t := store.Token{
		ID:        store.NewID(),
		Name:      name,
		Role:      store.Role(role),
		Scopes:    scopes,
		CreatedAt: now,
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	return t, nil
}

// Compile-time check that scopeList is a flag value.
var _ flag.Value = (*scopeList)(nil)
