package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// envPrefix starts the name of every environment variable totpvault reads.
const envPrefix = "TOTPVAULT_"

// setting is one configuration value: a flag, the environment variable of
// the same name, and for secrets a _FILE variant of that variable.
type setting struct {
	name   string // flag name; the variable is TOTPVAULT_ + upper case, '-' as '_'
	def    string
	usage  string
	secret bool // has a _FILE variant, and is never printed
}

// settings is the one table of configuration and defaults.
var settings = []setting{
	{name: "listen", def: "127.0.0.1:8080", usage: "address to serve on"},
	{name: "database-url", secret: true,
		usage: "PostgreSQL URL (postgres://user@host:5432/db?sslmode=...)"},
	{name: "data-dir", def: "./data", usage: "where the embedded store and its key live"},
	{name: "master-key", secret: true,
		usage: "32-byte master key, base64 (make one with: totpvault keygen)"},
	{name: "old-master-keys", secret: true,
		usage: "comma-separated base64 keys still accepted for opening during rotation"},
	{name: "bootstrap-token", secret: true,
		usage: "first admin token, used only while the store holds no admin token"},
	{name: "log-level", def: "info", usage: "debug, info, warn or error"},
	{name: "log-format", def: "json", usage: "json or text"},
	{name: "tls-cert-file", usage: "certificate file; with tls-key-file serves HTTPS"},
	{name: "tls-key-file", usage: "private key file of tls-cert-file"},
	{name: "max-body-bytes", def: "4194304", usage: "largest request body in bytes"},
	{name: "trusted-proxies",
		usage: "comma-separated CIDRs of proxies whose X-Forwarded-For names the client"},
	{name: "audit-retention",
		usage: "how long audit events are kept, such as 2160h; empty keeps them all"},
}

// envName returns the environment variable of a setting.
func (s setting) envName() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(s.name, "-", "_"))
}

// Config is the parsed configuration of every command.
type Config struct {
	Listen         string
	DatabaseURL    string
	DataDir        string
	MasterKey      string
	OldMasterKeys  string
	BootstrapToken string
	LogLevel       slog.Level
	LogFormat      string
	TLSCertFile    string
	TLSKeyFile     string
	MaxBodyBytes   int64
	TrustedProxies []netip.Prefix

	// AuditRetention is zero when audit events are kept for ever.
	AuditRetention time.Duration
}

// environment is what configuration is read from besides flags.
type environment struct {
	getenv   func(string) string
	readFile func(string) ([]byte, error)
}

// osEnvironment reads the process's environment and files.
var osEnvironment = environment{getenv: os.Getenv, readFile: os.ReadFile}

// configFlags registers every setting as a flag of fs and returns a
// function that, after fs.Parse, resolves the configuration: a flag wins
// over the variable, the variable over its _FILE variant, that over the
// default.
func configFlags(fs *flag.FlagSet, env environment) func() (Config, error) {
	for _, s := range settings {
		fs.String(s.name, "", s.help())
		if s.secret {
			fs.String(s.name+"-file", "", "file holding "+s.name)
		}
	}

	return func() (Config, error) {
		set := map[string]string{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })

		raw := map[string]string{}
		for _, s := range settings {
			v, err := s.resolve(set, env)
			if err != nil {
				return Config{}, err
			}
			raw[s.name] = v
		}
		return buildConfig(raw)
	}
}

// help is a setting's flag usage with its variable and default.
func (s setting) help() string {
	h := fmt.Sprintf("%s (%s", s.usage, s.envName())
	if s.secret {
		h += ", or " + s.envName() + "_FILE"
	}
	if s.def != "" {
		h += "; default " + s.def
	}
	return h + ")"
}

// resolve finds a setting's value: flag, variable, _FILE flag or
// variable, default. Giving a value and a file for the same setting at the
// same level is refused as ambiguous.
func (s setting) resolve(flags map[string]string, env environment) (string, error) {
	if v, ok := flags[s.name]; ok {
		if _, both := flags[s.name+"-file"]; both {
			return "", fmt.Errorf("give --%s or --%[1]s-file, not both", s.name)
		}
		return v, nil
	}
	if s.secret {
		if path, ok := flags[s.name+"-file"]; ok {
			return readSecretFile(env, "--"+s.name+"-file", path)
		}
	}

	if v := env.getenv(s.envName()); v != "" {
		if s.secret && env.getenv(s.envName()+"_FILE") != "" {
			return "", fmt.Errorf("set %s or %[1]s_FILE, not both", s.envName())
		}
		return v, nil
	}
	if path := env.getenv(s.envName() + "_FILE"); s.secret && path != "" {
		return readSecretFile(env, s.envName()+"_FILE", path)
	}
	return s.def, nil
}

// readSecretFile reads a secret from a file, without its trailing newline.
// The error names the setting and the path, never the content.
func readSecretFile(env environment, from, path string) (string, error) {
	b, err := env.readFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// buildConfig turns resolved values into a Config, checking each and the
// ones that go together.
func buildConfig(raw map[string]string) (Config, error) {
	c := Config{
		Listen:         raw["listen"],
		DatabaseURL:    raw["database-url"],
		DataDir:        raw["data-dir"],
		MasterKey:      raw["master-key"],
		OldMasterKeys:  raw["old-master-keys"],
		BootstrapToken: raw["bootstrap-token"],
		LogFormat:      raw["log-format"],
		TLSCertFile:    raw["tls-cert-file"],
		TLSKeyFile:     raw["tls-key-file"],
	}

	if err := c.LogLevel.UnmarshalText([]byte(raw["log-level"])); err != nil {
		return c, fmt.Errorf("log-level must be debug, info, warn or error")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("log-format must be json or text")
	}

	n, err := strconv.ParseInt(raw["max-body-bytes"], 10, 64)
	if err != nil || n < 1024 {
		return c, fmt.Errorf("max-body-bytes must be a whole number of at least 1024")
	}
	c.MaxBodyBytes = n

	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return c, errors.New("set tls-cert-file and tls-key-file together, or neither")
	}

	if c.TrustedProxies, err = parsePrefixes(raw["trusted-proxies"]); err != nil {
		return c, err
	}
	if v := raw["audit-retention"]; v != "" {
		c.AuditRetention, err = time.ParseDuration(v)
		if err != nil || c.AuditRetention < time.Hour {
			return c, errors.New(`audit-retention must be a duration of at least 1h, ` +
				`such as "2160h" for 90 days, or empty to keep every event`)
		}
	}
	return c, nil
}

// parsePrefixes reads a comma-separated list of CIDRs; a bare address
// stands for itself alone.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}

		p, err := netip.ParsePrefix(item)
		if err != nil {
			addr, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return nil, fmt.Errorf("trusted-proxies: %q is neither a CIDR nor an address", item)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}

// Redacted returns the configuration for printing: secrets show only
// whether they are set.
func (c Config) Redacted() map[string]string {
	shown := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}

	return map[string]string{
		"listen":          c.Listen,
		"database_url":    shown(c.DatabaseURL),
		"data_dir":        c.DataDir,
		"master_key":      shown(c.MasterKey),
		"old_master_keys": shown(c.OldMasterKeys),
		"bootstrap_token": shown(c.BootstrapToken),
		"log_level":       c.LogLevel.String(),
		"log_format":      c.LogFormat,
		"tls":             strconv.FormatBool(c.TLSCertFile != ""),
		"max_body_bytes":  strconv.FormatInt(c.MaxBodyBytes, 10),
		"trusted_proxies": fmt.Sprint(c.TrustedProxies),
		"audit_retention": c.AuditRetention.String(),
	}
}

// newLogger makes the process's logger as configured.
func (c Config) newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
