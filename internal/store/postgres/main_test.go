package postgres_test

import (
	"testing"

	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
