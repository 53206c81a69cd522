package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parse resolves the configuration from args and vars as serve would.
func parse(t *testing.T, args []string, vars map[string]string) (Config, error) {
	t.Helper()

	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseFlags(fs, args, fakeEnv(vars))
}

// defaultConfig is the configuration when nothing is set, as the contract's
// table gives it.
func defaultConfig() Config {
	return Config{
		Listen:       "127.0.0.1:8080",
		DataDir:      "./data",
		LogLevel:     slog.LevelInfo,
		LogFormat:    "json",
		MaxBodyBytes: 4194304,
	}
}

func TestConfigResolvesEachSource(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	keyFile := writeFile(t, dir, "master.key", "key-from-file\n")
	crlfFile := writeFile(t, dir, "crlf.key", "key-from-crlf-file\r\n")
	urlFile := writeFile(t, dir, "database.url", "postgres://from-file/db\n")

	tests := []struct {
		name string
		args []string
		vars map[string]string
		want func(*Config)
	}{
		{
			name: "nothing set gives the defaults",
			want: func(*Config) {},
		},
		{
			name: "variables set their settings",
			vars: map[string]string{
				"TOTPVAULT_LISTEN":          "0.0.0.0:9000",
				"TOTPVAULT_DATABASE_URL":    "postgres://env/db",
				"TOTPVAULT_DATA_DIR":        "/var/lib/totpvault",
				"TOTPVAULT_MASTER_KEY":      "env-key",
				"TOTPVAULT_OLD_MASTER_KEYS": "old-1,old-2",
				"TOTPVAULT_BOOTSTRAP_TOKEN": "env-bootstrap-token",
				"TOTPVAULT_LOG_LEVEL":       "debug",
				"TOTPVAULT_LOG_FORMAT":      "text",
				"TOTPVAULT_TLS_CERT_FILE":   "/etc/cert.pem",
				"TOTPVAULT_TLS_KEY_FILE":    "/etc/key.pem",
				"TOTPVAULT_MAX_BODY_BYTES":  "2048",
			},
			want: func(c *Config) {
				*c = Config{
					Listen:         "0.0.0.0:9000",
					DatabaseURL:    "postgres://env/db",
					DataDir:        "/var/lib/totpvault",
					MasterKey:      "env-key",
					OldMasterKeys:  "old-1,old-2",
					BootstrapToken: "env-bootstrap-token",
					LogLevel:       slog.LevelDebug,
					LogFormat:      "text",
					TLSCertFile:    "/etc/cert.pem",
					TLSKeyFile:     "/etc/key.pem",
					MaxBodyBytes:   2048,
				}
			},
		},
		{
			name: "a flag wins over its variable",
			args: []string{"--listen", "127.0.0.1:9999", "--log-level", "warn",
				"--master-key", "flag-key"},
			vars: map[string]string{
				"TOTPVAULT_LISTEN":     "0.0.0.0:9000",
				"TOTPVAULT_LOG_LEVEL":  "debug",
				"TOTPVAULT_MASTER_KEY": "env-key",
			},
			want: func(c *Config) {
				c.Listen = "127.0.0.1:9999"
				c.LogLevel = slog.LevelWarn
				c.MasterKey = "flag-key"
			},
		},
		{
			name: "a _FILE variable is read without its trailing newline",
			vars: map[string]string{
				"TOTPVAULT_MASTER_KEY_FILE":   keyFile,
				"TOTPVAULT_DATABASE_URL_FILE": urlFile,
			},
			want: func(c *Config) {
				c.MasterKey = "key-from-file"
				c.DatabaseURL = "postgres://from-file/db"
			},
		},
		{
			name: "a file ending in CRLF loses both characters",
			vars: map[string]string{"TOTPVAULT_BOOTSTRAP_TOKEN_FILE": crlfFile},
			want: func(c *Config) { c.BootstrapToken = "key-from-crlf-file" },
		},
		{
			name: "the --master-key-file flag is read",
			args: []string{"--master-key-file", keyFile},
			want: func(c *Config) { c.MasterKey = "key-from-file" },
		},
		{
			name: "a file flag wins over the variable",
			args: []string{"--master-key-file", keyFile},
			vars: map[string]string{"TOTPVAULT_MASTER_KEY": "env-key"},
			want: func(c *Config) { c.MasterKey = "key-from-file" },
		},
		{
			name: "a value flag wins over the _FILE variable",
			args: []string{"--master-key", "flag-key"},
			vars: map[string]string{"TOTPVAULT_MASTER_KEY_FILE": keyFile},
			want: func(c *Config) { c.MasterKey = "flag-key" },
		},
		{
			name: "log level and format are taken in upper case too",
			vars: map[string]string{"TOTPVAULT_LOG_LEVEL": "ERROR", "TOTPVAULT_LOG_FORMAT": "text"},
			want: func(c *Config) {
				c.LogLevel = slog.LevelError
				c.LogFormat = "text"
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, tt.args, tt.vars)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}

			want := defaultConfig()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestConfigRefusesBadInput(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	secret := "master-key-content-never-shown"
	keyFile := writeFile(t, dir, "master.key", secret+"\n")
	missing := filepath.Join(dir, "no-such.key")

	tests := []struct {
		name    string
		args    []string
		vars    map[string]string
		says    []string // the error holds each of these
		notSays []string // and none of these
	}{
		{
			name: "a variable and its _FILE variable together are refused",
			vars: map[string]string{
				"TOTPVAULT_MASTER_KEY":      secret,
				"TOTPVAULT_MASTER_KEY_FILE": keyFile,
			},
			says:    []string{"TOTPVAULT_MASTER_KEY", "TOTPVAULT_MASTER_KEY_FILE", "not both"},
			notSays: []string{secret},
		},
		{
			name:    "a flag and its file flag together are refused",
			args:    []string{"--master-key", secret, "--master-key-file", keyFile},
			says:    []string{"--master-key", "--master-key-file", "not both"},
			notSays: []string{secret},
		},
		{
			name: "a missing _FILE variable's file is named by path",
			vars: map[string]string{"TOTPVAULT_MASTER_KEY_FILE": missing},
			says: []string{"TOTPVAULT_MASTER_KEY_FILE", missing},
		},
		{
			name: "a missing --master-key-file is named by path",
			args: []string{"--master-key-file", missing},
			says: []string{"--master-key-file", missing},
		},
		{
			name: "a missing file's error shows no content of the file read before it",
			vars: map[string]string{
				"TOTPVAULT_MASTER_KEY_FILE":      keyFile,
				"TOTPVAULT_BOOTSTRAP_TOKEN_FILE": missing,
			},
			says:    []string{"TOTPVAULT_BOOTSTRAP_TOKEN_FILE", missing},
			notSays: []string{secret},
		},
		{
			name: "a _FILE variable naming a directory is refused",
			vars: map[string]string{"TOTPVAULT_DATABASE_URL_FILE": dir},
			says: []string{"TOTPVAULT_DATABASE_URL_FILE", dir},
		},
		{
			name: "an unknown log level is refused",
			vars: map[string]string{"TOTPVAULT_LOG_LEVEL": "loud"},
			says: []string{"log-level"},
		},
		{
			name: "an unknown log format is refused",
			args: []string{"--log-format", "xml"},
			says: []string{"log-format"},
		},
		{
			name: "a body limit that is not a number is refused",
			vars: map[string]string{"TOTPVAULT_MAX_BODY_BYTES": "4MiB"},
			says: []string{"max-body-bytes"},
		},
		{
			name: "a body limit of zero is refused",
			vars: map[string]string{"TOTPVAULT_MAX_BODY_BYTES": "0"},
			says: []string{"max-body-bytes"},
		},
		{
			name: "a body limit under 1024 bytes is refused",
			args: []string{"--max-body-bytes", "1023"},
			says: []string{"max-body-bytes"},
		},
		{
			name: "a negative body limit is refused",
			args: []string{"--max-body-bytes=-1"},
			says: []string{"max-body-bytes"},
		},
		{
			name: "a TLS certificate without a key is refused",
			vars: map[string]string{"TOTPVAULT_TLS_CERT_FILE": "/etc/cert.pem"},
			says: []string{"tls-cert-file", "tls-key-file"},
		},
		{
			name: "a TLS key without a certificate is refused",
			args: []string{"--tls-key-file", "/etc/key.pem"},
			says: []string{"tls-cert-file", "tls-key-file"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.args, tt.vars)
			if err == nil {
				t.Fatal("parse succeeded; want an error")
			}

			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			for _, s := range tt.notSays {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the secret %q", err, s)
				}
			}
		})
	}
}

func TestConfigRefusesUnexpectedArguments(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
	}{
		{"a stray word is a usage error", []string{"extra"}},
		{"a word after the flags is a usage error", []string{"--listen", ":0", "extra"}},
		{"an unknown flag is a usage error", []string{"--no-such-flag"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.args, nil)
			if !errors.Is(err, errUsage) {
				t.Errorf("parse(%q) = %v; want errUsage", tt.args, err)
			}
		})
	}
}

func TestRedactedShowsNoSecret(t *testing.T) {
	t.Parallel()

	c := defaultConfig()
	c.DatabaseURL = "postgres://user:db-password@host/db"
	c.MasterKey = "master-key-value"
	c.OldMasterKeys = "old-key-one,old-key-two"
	c.BootstrapToken = "bootstrap-token-value"
	secrets := []string{"db-password", "master-key-value", "old-key-one",
		"old-key-two", "bootstrap-token-value"}

	shown := c.Redacted()

	for key, value := range shown {
		for _, s := range secrets {
			if strings.Contains(value, s) {
				t.Errorf("Redacted()[%q] = %q shows a secret", key, value)
			}
		}
	}
	for _, key := range []string{"database_url", "master_key", "old_master_keys", "bootstrap_token"} {
		if shown[key] != "(set)" {
			t.Errorf("Redacted()[%q] = %q; want (set)", key, shown[key])
		}
	}
	if shown["listen"] != c.Listen {
		t.Errorf("Redacted()[listen] = %q; want %q, which is no secret", shown["listen"], c.Listen)
	}
}

func TestRedactedLeavesUnsetSecretsEmpty(t *testing.T) {
	t.Parallel()

	shown := defaultConfig().Redacted()

	for _, key := range []string{"database_url", "master_key", "old_master_keys", "bootstrap_token"} {
		if shown[key] != "" {
			t.Errorf("Redacted()[%q] = %q for an unset secret; want empty", key, shown[key])
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
	}{
		{"serve --help lists every setting", []string{"serve", "--help"}},
		{"--help alone is serve's help", []string{"--help"}},
		{"migrate --help lists every setting", []string{"migrate", "--help"}},
		{"token create --help lists every setting", []string{"token", "create", "--help"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r := run(t, nil, tt.args...)

			if r.code != 0 {
				t.Errorf("exit code %d; want 0", r.code)
			}
			for _, want := range helpWords() {
				if !strings.Contains(r.errOut, want) {
					t.Errorf("help does not mention %s:\n%s", want, r.errOut)
				}
			}
		})
	}
}

// helpWords are what help must name: each setting's flag and variable, and
// for secrets their file variants too.
func helpWords() []string {
	var words []string
	for _, s := range settings {
		words = append(words, "-"+s.name+" ", s.envName())
		if s.secret {
			words = append(words, "-"+s.name+"-file ", s.envName()+"_FILE")
		}
	}
	return words
}

func TestTrustedProxiesAndAuditRetention(t *testing.T) {
	t.Parallel()

	got, err := parse(t, []string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.7,::1",
		"--audit-retention", "2160h"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("::1/128")}
	if !reflect.DeepEqual(got.TrustedProxies, want) {
		t.Errorf("trusted proxies %v, want %v", got.TrustedProxies, want)
	}
	if got.AuditRetention != 2160*time.Hour {
		t.Errorf("audit retention %v", got.AuditRetention)
	}

	for _, bad := range [][]string{
		{"--trusted-proxies", "10.0.0.0/33"},
		{"--trusted-proxies", "proxy.example"},
		{"--audit-retention", "90d"},
		{"--audit-retention", "5m"},
	} {
		if _, err := parse(t, bad, nil); err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
}
