package accounts

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"handoff/config"
)

// New answers the directory the configuration names: Postgres over pool
// (ACCOUNT_DIRECTORY=postgres), or HTTP towards the account service
// (ACCOUNT_DIRECTORY=http, which needs no pool). Errors name the variable
// to fix, as config.Load's do.
func New(cfg config.Accounts, pool *pgxpool.Pool, logger *slog.Logger) (Directory, error) {
	switch cfg.Directory {
	case "postgres":
		if pool == nil {
			return nil, errors.New("ACCOUNT_DIRECTORY: postgres needs a Postgres pool")
		}
		return NewPostgres(pool), nil
	case "http":
		if cfg.ServiceURL == "" {
			return nil, errors.New("ACCOUNT_SERVICE_URL: must be set when ACCOUNT_DIRECTORY is http")
		}
		if cfg.ServiceSecret == "" {
			return nil, errors.New("ACCOUNT_SERVICE_SECRET: must be set when ACCOUNT_DIRECTORY is http")
		}
		h, err := NewHTTP(HTTPConfig{
			BaseURL: cfg.ServiceURL,
			KeyID:   cfg.ServiceKeyID,
			Secret:  cfg.ServiceSecret,
			Logger:  logger,
		})
		if err != nil {
			return nil, fmt.Errorf("account directory: %w", err)
		}
		return h, nil
	default:
		return nil, fmt.Errorf("ACCOUNT_DIRECTORY: want postgres or http, got %q", cfg.Directory)
	}
}
