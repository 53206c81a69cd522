package main

import (
	"net/http"

	"github.com/totpvault/totpvault/internal/console"
)

// withConsole puts the web console in front of the API: paths under /ui/
// go to the console, "/" and "/ui" redirect there (with the console's
// security headers), and every other path is the API's.
func withConsole(apiHandler http.Handler) http.Handler {
	return console.Wrap(apiHandler)
}
