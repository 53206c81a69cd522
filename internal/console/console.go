// Package console serves totpvault's web console: plain HTML, CSS and
// JavaScript modules embedded in the binary, with no build step. The
// console is a client of the HTTP API and adds no API of its own; it keeps
// the token a person pastes in the browser's sessionStorage only.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is the path the console is served under.
const Prefix = "/ui/"

//go:embed static
var static embed.FS

// contentSecurityPolicy allows the console's own scripts, styles and API
// calls and nothing else: no inline script or style, no framing. Images
// may be data: URLs, which is how a generated key's QR code (qr_png) and
// the preview of a chosen QR image are shown.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'"

// Handler serves the console's files at paths under Prefix, every answer
// (errors and redirects too) with the security headers.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		// The folder is embedded at build time; only a broken build lacks it.
		panic("console: embedded files missing: " + err.Error())
	}
	return secure(http.StripPrefix(Prefix, http.FileServerFS(files)))
}

// Wrap puts the console in front of api: paths under Prefix are the
// console's, "/" and "/ui" redirect there, and every other path goes to
// api untouched. The console's answers, redirects included, carry the
// security headers.
func Wrap(api http.Handler) http.Handler {
	ui := Handler()
	home := secure(http.RedirectHandler(Prefix, http.StatusFound))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/" || r.URL.Path == strings.TrimSuffix(Prefix, "/"):
			home.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, Prefix):
			ui.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// secure sets the security headers before next writes anything.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")

		// A new binary may ship new files under the same names, so the
		// browser asks again each time; the files are small.
		h.Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}
