package main

import (
	"net/http"
	"strings"

	"github.com/totpvault/totpvault/internal/console"
)

// withConsole puts the web console in front of the API: paths under /ui/
// go to the console, "/" itself redirects there, and every other path is
// the API's.
func withConsole(apiHandler http.Handler) http.Handler {
	ui := console.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/" || r.URL.Path == "/ui":
			http.Redirect(w, r, console.Prefix, http.StatusFound)
		case strings.HasPrefix(r.URL.Path, console.Prefix):
			ui.ServeHTTP(w, r)
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})
}
