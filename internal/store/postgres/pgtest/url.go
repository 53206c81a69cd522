package pgtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
)

// serverURL returns the URL of the server's maintenance database.
func serverURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}

	return defaultURL
}

// inCI reports whether the tests run under continuous integration.
func inCI() bool {
	return os.Getenv("CI") == "true"
}

// isURL reports whether raw is a postgres:// (or postgresql://) URL, the
// only form whose database pgtest knows how to replace.
func isURL(raw string) bool {
	u, err := url.Parse(raw)

	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// databaseURL returns server, a URL that isURL accepts, with its database
// replaced by name.
func databaseURL(server, name string) string {
	u, _ := url.Parse(server)
	u.Path = "/" + name
	u.RawPath = ""

	return u.String()
}

// noServer explains, in one line, that no server answers at server and how
// to get one. The URL is shown without its password.
func noServer(server string) string {
	u, _ := url.Parse(server)
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}

	return fmt.Sprintf("no PostgreSQL at %s: start one "+
		"(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "+
		"or set %s", u, EnvURL)
}

// randomHex returns 16 random hexadecimal digits.
func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)

	return hex.EncodeToString(b)
}
