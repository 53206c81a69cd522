package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// readyTimeout bounds the database check of /readyz.
const readyTimeout = 2 * time.Second

// statusOK is the body of a healthy answer.
var statusOK = map[string]string{"status": "ok"}

// healthz answers while the process runs.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusOK)
}

// readyz answers 200 when the database answers and its schema is current.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()

	err := s.store.Ready(ctx)
	if err == nil {
		writeJSON(w, http.StatusOK, statusOK)
		return
	}

	s.log.WarnContext(r.Context(), "not ready",
		slog.String("request_id", requestID(r.Context())),
		slog.String("error", err.Error()))

	detail := "the database does not answer"
	if errors.Is(err, store.ErrSchemaNotCurrent) {
		detail = "the database schema is not the one this build expects; " +
			"run totpvault migrate, or start an instance of the matching version"
	}
	writeProblem(w, r, fail(codeUnavailable, detail))
}

// openAPI serves the contract this server implements.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(s.spec)
}
