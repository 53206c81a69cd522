package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/totpvault/totpvault/internal/keyring"
)

// embeddedKeyFile is the name of the key that the embedded store makes for
// itself in the data folder when no master key is configured.
const embeddedKeyFile = "master.key"

// errNoMasterKey says how to give PostgreSQL a master key.
var errNoMasterKey = errors.New("no master key: set TOTPVAULT_MASTER_KEY or " +
	"TOTPVAULT_MASTER_KEY_FILE (or --master-key-file) to a key made by " +
	"`totpvault keygen`, and keep it apart from the database")

// keyring builds the keyring from the configured master keys. Without one,
// the embedded store uses the key in its data folder, made on first start;
// PostgreSQL refuses to start.
func (c Config) keyring(log *slog.Logger) (*keyring.Keyring, error) {
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

// embeddedKey reads the embedded store's own key, making it on the first
// start. A store file without its key is refused rather than given a new
// key, which could never open the secrets already sealed in it.
func (c Config) embeddedKey(log *slog.Logger) (string, error) {
	path := filepath.Join(c.DataDir, embeddedKeyFile)

	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return string(b), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read the master key: %w", err)
	}

	if _, err := os.Stat(c.embeddedPath()); err == nil {
		return "", fmt.Errorf("the embedded store %s exists but its master key %s does not: "+
			"restore the key, or set TOTPVAULT_MASTER_KEY_FILE to it", c.embeddedPath(), path)
	}
	return makeEmbeddedKey(path, log)
}

// makeEmbeddedKey writes a fresh key to path, readable by the owner only.
func makeEmbeddedKey(path string, log *slog.Logger) (string, error) {
	key, err := keyring.NewKey(rand.Reader)
	if err != nil {
		return "", err
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("make the data folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write the master key: %w", err)
	}
	if _, err := fmt.Fprintln(f, key); err != nil {
		f.Close()
		return "", fmt.Errorf("write the master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write the master key: %w", err)
	}

	log.Warn("made a master key beside the embedded store: whoever copies the data "+
		"folder can open every secret in it; move the key elsewhere and point "+
		"TOTPVAULT_MASTER_KEY_FILE at it", slog.String("key_file", path))
	return key, nil
}
