package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/keyring"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// runMainEnv, set to 1, makes the test binary be totpvault instead of
// running the tests, so that a test can start the real process and signal
// it (see TestSIGTERMDrainsAndExitsZero).
const runMainEnv = "TOTPVAULT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(mainWithSignals(os.Args[1:], osEnvironment, os.Stdout, os.Stderr))
	}
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

func TestHelpListsTheCommands(t *testing.T) {
	t.Parallel()

	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		t.Run(strings.Join(args, " ")+" lists every command and every setting", func(t *testing.T) {
			t.Parallel()

			r := run(t, nil, args...)

			if r.code != 0 {
				t.Errorf("exit code %d; want 0", r.code)
			}
			for name, cmd := range commands {
				line := fmt.Sprintf("  %-8s %s\n", name, cmd.summary)
				if !strings.Contains(r.errOut, line) {
					t.Errorf("help does not list %q:\n%s", line, r.errOut)
				}
			}
			for _, want := range helpWords() {
				if !strings.Contains(r.errOut, want) {
					t.Errorf("help does not mention %s:\n%s", want, r.errOut)
				}
			}
		})
	}
}

func TestHelpOfACommandIsItsFlags(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"help keygen is keygen's help", []string{"help", "keygen"}, 0, "usage: totpvault keygen"},
		{"help token is token's usage", []string{"help", "token"}, 0,
			"usage: totpvault token create"},
		{"help of an unknown command exits 2 with the list", []string{"help", "frobnicate"}, 2,
			"usage: totpvault [command]"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r := run(t, nil, tt.args...)

			if r.code != tt.code || !strings.Contains(r.errOut, tt.says) {
				t.Errorf("exit code %d, errOut:\n%s\nwant %d and %q",
					r.code, r.errOut, tt.code, tt.says)
			}
		})
	}
}

func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	t.Parallel()

	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--log-format", "json")
	cmd.Env = append(withoutSettings(os.Environ()), runMainEnv+"=1")
	logs := startLogged(t, cmd)

	addr := logs.await(t, "serving")["address"]
	resp, err := http.Get(fmt.Sprintf("http://%s/readyz", addr))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz answered %d; want 200", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-logs.done:
	case <-time.After(commandTimeout):
		t.Fatalf("still running %v after SIGTERM; it wrote:\n%s",
			commandTimeout, logs.text.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v; want exit code 0; it wrote:\n%s", err, logs.text.String())
	}
	logs.await(t, "shutting down")
}

// withoutSettings returns environ without totpvault's variables, so that a
// child process sees only the settings its test gives.
func withoutSettings(environ []string) []string {
	var kept []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, envPrefix) {
			kept = append(kept, kv)
		}
	}
	return kept
}

// childLog is what a child process writes on standard error, read as it
// comes.
type childLog struct {
	text  syncBuffer
	lines chan map[string]string
	done  chan struct{}
}

// startLogged starts cmd and reads its standard error into a childLog. The
// process is killed when the test ends, should it still run.
func startLogged(t *testing.T, cmd *exec.Cmd) *childLog {
	t.Helper()

	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	logs := &childLog{lines: make(chan map[string]string, 1000), done: make(chan struct{})}
	go logs.read(stderr)
	return logs
}

// read keeps every line of r and passes on those that are JSON log lines.
func (l *childLog) read(r io.Reader) {
	defer close(l.done)
	defer close(l.lines)

	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Fprintln(&l.text, sc.Text())

		var fields map[string]any
		if json.Unmarshal(sc.Bytes(), &fields) != nil {
			continue
		}
		line := map[string]string{}
		for k, v := range fields {
			line[k] = fmt.Sprint(v)
		}
		select {
		case l.lines <- line:
		default:
		}
	}
}

// await returns the first log line whose message is msg, failing t when
// the process ends, or commandTimeout passes, without writing one.
func (l *childLog) await(t *testing.T, msg string) map[string]string {
	t.Helper()

	timeout := time.After(commandTimeout)
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				t.Fatalf("no %q log line; the process wrote:\n%s", msg, l.text.String())
			}
			if line["msg"] == msg {
				return line
			}
		case <-timeout:
			t.Fatalf("no %q log line within %v; the process wrote:\n%s", msg, commandTimeout,
				l.text.String())
		}
	}
}
