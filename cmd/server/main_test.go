package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m)
}

// commandTimeout bounds a command that should return on its own, so that a
// command that starts serving by mistake fails its test instead of hanging.
const commandTimeout = 30 * time.Second

// unreachableDatabase is a database URL where nothing answers: commands
// that check their flags and settings first never try it.
const unreachableDatabase = "postgres://totpvault@127.0.0.1:1/unreachable?sslmode=disable"

// fakeEnv is an environment whose variables are vars; files are read from
// the disk, so that errors look exactly as an operator would see them.
func fakeEnv(vars map[string]string) environment {
	return environment{
		getenv:   func(name string) string { return vars[name] },
		readFile: os.ReadFile,
	}
}

// syncBuffer is a buffer that the server's goroutines may write while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// result is what one run of Main left behind.
type result struct {
	code        int
	out, errOut string
}

// run runs Main with args and vars to its end and returns what it wrote.
func run(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- Main(ctx, args, fakeEnv(vars), &out, &errOut) }()

	select {
	case code := <-done:
		return result{code: code, out: out.String(), errOut: errOut.String()}
	case <-time.After(commandTimeout):
		t.Fatalf("totpvault %s did not return within %v; it wrote:\n%s",
			strings.Join(args, " "), commandTimeout, errOut.String())
		return result{}
	}
}

// newMasterKey returns a fresh master key as keygen prints it.
func newMasterKey(t *testing.T) string {
	t.Helper()

	key, err := keyring.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// writeFile writes content to name in a directory of t's and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()

	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
