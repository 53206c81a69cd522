package api_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// TestMain runs the tests on a database of their own, then searches all
// that the servers logged during the run for every secret, code and token
// value the tests saw: none may appear.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)

	if leaked := sensitive.foundIn(runLog.String()); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d secret, code or token values appear in the server's log\n",
			len(leaked))
		code = 1
	}
	os.Exit(code)
}
