// Command bare is the yardstick of the load benchmark: a plain net/http
// server that answers every request, whatever its method or path, with a
// small JSON body shaped like a /code answer. totpvault's figures are read as
// a ratio to this one's, measured in the same round on the same core.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"
)

// body is about the size of a real /code answer without its "next" part.
var body = []byte(`{"name":"bench-0000001","code":"492039","digits":6,"period":30,` +
	`"counter":59102640,"valid_from":"2026-12-03T18:00:00Z",` +
	`"valid_until":"2026-12-03T18:00:30Z","seconds_remaining":17}`)

func main() {
	addr := flag.String("listen", "127.0.0.1:18080", "address to serve on")
	flag.Parse()

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	})

	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Fatal(srv.ListenAndServe())
}
