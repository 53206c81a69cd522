package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/sqlite"
)

// embeddedKeyFile is the name of the key that the embedded store makes for
// itself in the data folder when no master key is configured.
const embeddedKeyFile = "master.key"

// errNoMasterKey says how to give PostgreSQL a master key.
var errNoMasterKey = errors.New("no master key: set TOTPVAULT_MASTER_KEY or " +
	"TOTPVAULT_MASTER_KEY_FILE (or --master-key-file) to a key made by " +
	"`totpvault keygen`, and keep it apart from the database")

// keyring builds the keyring that serve seals and opens with, from the
// configured master keys. Without one, the embedded store uses the key in
// its data folder, which it makes while the store holds no endpoint;
// PostgreSQL refuses to start. On the embedded store it also logs where the
// store and its key lie, and warns when others may read the data folder.
func (c Config) keyring(log *slog.Logger) (*keyring.Keyring, error) {
	if c.embedded() {
		c.logDataDir(log)
	}

	master := c.MasterKey
	if master == "" {
		if !c.embedded() {
			return nil, errNoMasterKey
		}

		var err error
		if master, err = c.embeddedKey(log); err != nil {
			return nil, err
		}
	}
	return c.keyringOf(master)
}

// existingKeyring builds the keyring as keyring does, but never makes a
// key: the embedded store's key must be in the data folder already.
func (c Config) existingKeyring() (*keyring.Keyring, error) {
	master := c.MasterKey
	if master == "" && c.embedded() {
		b, err := os.ReadFile(c.keyPath())
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no master key at %s: set TOTPVAULT_MASTER_KEY_FILE "+
				"to the embedded store's key", absPath(c.keyPath()))
		}
		if err != nil {
			return nil, fmt.Errorf("read the master key: %w", err)
		}
		master = string(b)
	}
	if master == "" {
		return nil, errNoMasterKey
	}
	return c.keyringOf(master)
}

// keyringOf builds a keyring that seals under master and opens under it
// and the configured old master keys.
func (c Config) keyringOf(master string) (*keyring.Keyring, error) {
	primary, err := keyring.ParseKey(master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	old, err := keyring.ParseKeys(c.OldMasterKeys)
	if err != nil {
		return nil, fmt.Errorf("old master keys: %w", err)
	}
	return keyring.New(primary, old...)
}

// keyPath is where the embedded store keeps the key it made.
func (c Config) keyPath() string {
	return filepath.Join(c.DataDir, embeddedKeyFile)
}

// absPath returns path made absolute, or path itself when the working
// folder is unknown.
func absPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	return abs
}

// logDataDir logs where the embedded store and its key lie, and warns when
// an existing data folder lets other users in: the key lies in it, unless
// one is configured.
func (c Config) logDataDir(log *slog.Logger) {
	key := "configured"
	if c.MasterKey == "" {
		key = absPath(c.keyPath())
	}
	log.Info("embedded store", slog.String("store_file", absPath(c.embeddedPath())),
		slog.String("key_file", key))

	info, err := os.Stat(c.DataDir)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return
	}
	log.Warn("other users may read or enter the data folder; make it the owner's "+
		"alone with chmod 700", slog.String("data_dir", absPath(c.DataDir)),
		slog.String("mode", info.Mode().Perm().String()))
}

// embeddedKey reads the embedded store's own key, making it while there is
// no store yet or the store holds no endpoint (migrate or token create made
// it). A store that may hold secrets but lacks its key is refused rather
// than given a new key, which could never open them.
func (c Config) embeddedKey(log *slog.Logger) (string, error) {
	path := c.keyPath()

	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return string(b), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read the master key: %w", err)
	}

	sealed, err := c.storeMayHoldSecrets()
	if err != nil {
		return "", err
	}
	if sealed {
		return "", fmt.Errorf("the embedded store %s exists but its master key %s does not, "+
			"and the store may hold secrets sealed under it: restore the key, or set "+
			"TOTPVAULT_MASTER_KEY_FILE to it", absPath(c.embeddedPath()), absPath(path))
	}
	return makeEmbeddedKey(path, log)
}

// storeMayHoldSecrets reports whether the embedded store exists and holds
// an endpoint, or was never migrated: an empty file or a foreign one, of
// which nothing tells that it holds no secret. It reads a local file once
// at start-up, before anything could cancel it.
func (c Config) storeMayHoldSecrets() (bool, error) {
	path := c.embeddedPath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}

	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return false, fmt.Errorf("open the embedded store: %w", err)
	}
	defer db.Close()

	holds, err := db.HoldsEndpoints(ctx)
	if errors.Is(err, store.ErrSchemaNotCurrent) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the embedded store: %w", err)
	}
	return holds, nil
}

// makeEmbeddedKey makes a fresh key at path, readable by the owner only,
// and returns it. When another start made the key first, it returns that
// one instead: of processes starting at once, one key wins.
func makeEmbeddedKey(path string, log *slog.Logger) (string, error) {
	key, err := keyring.NewKey(rand.Reader)
	if err != nil {
		return "", err
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("make the data folder: %w", err)
	}
	made, err := writeNewFile(path, []byte(key+"\n"))
	if err != nil {
		return "", fmt.Errorf("write the master key: %w", err)
	}
	if !made {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the master key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}

	log.Warn("made a master key beside the embedded store: whoever copies the data "+
		"folder can open every secret in it; move the key elsewhere and point "+
		"TOTPVAULT_MASTER_KEY_FILE at it", slog.String("key_file", absPath(path)))
	return key, nil
}

// writeNewFile makes the file path holding data, mode 0600, durably: data
// goes to a temporary file of the same folder, which is synced and then
// linked to path, and the folder is synced. The link fails when path
// exists, so the file appears whole or not at all and is never replaced;
// writeNewFile then reports false and leaves path as it was.
func writeNewFile(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())

	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}

	err = os.Link(f.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, syncDir(dir)
}

// syncDir makes the entries of the folder dir durable. Windows cannot open
// a folder to sync it; there a new entry lasts as its file system's journal
// keeps it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}

	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
