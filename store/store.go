// Package store is Handoff's access to Postgres: the connection pool, the
// schema migrations and the queries shared by the API and the activities.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound reports that a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store holds the Postgres connection pool.
type Store struct {
	pool *pgxpool.Pool
}

// Option changes how Open makes the pool.
type Option func(*options)

type options struct {
	tracer pgx.QueryTracer
}

// WithTracer has every connection of the pool report its statements to
// tracer (telemetry.ClientCounters.SQLTracer counts them). pgx also calls
// its batch, COPY, prepare and connect methods when tracer has them.
func WithTracer(tracer pgx.QueryTracer) Option {
	return func(o *options) { o.tracer = tracer }
}

// defaultMaxConns is the pool's size when DATABASE_URL does not set
// pool_max_conns. pgx's own default, the number of CPUs and at least 4, is
// too few for a worker whose workflow tasks each write the read model and
// the delivery log: a delivery's record of a sent message would queue
// behind projections, and the longer that wait, the longer a killed
// worker's sent-but-unrecorded window.
const defaultMaxConns = 8

// Open makes a pool for databaseURL. It connects lazily, so a process can
// start while Postgres is down and report it through its readiness check.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, errors.New("parse DATABASE_URL: not a valid Postgres connection string")
	}
	if o.tracer != nil {
		cfg.ConnConfig.Tracer = o.tracer
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open Postgres pool: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Pool returns the underlying pool for callers that run their own queries.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that Postgres answers a round trip.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping Postgres: %w", err)
	}
	return nil
}

// Close releases every connection.
func (s *Store) Close() { s.pool.Close() }

// Migrate applies every migration not applied yet. A Postgres advisory lock
// makes concurrent callers (two test runs, a deploy) take turns.
func (s *Store) Migrate(ctx context.Context, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrationsFS(),
		goose.WithSessionLocker(locker), goose.WithSlog(logger))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrationVersion answers the newest applied migration, 0 when none is.
func (s *Store) MigrationVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := s.pool.QueryRow(ctx,
		`SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read migration version: %w", err)
	}
	return v.Int64, nil
}

// VacuumAnalyze runs VACUUM (ANALYZE) on each of tables, one statement
// each (VACUUM takes no transaction): after a bulk load, so index-only
// scans and the planner see the new rows.
func (s *Store) VacuumAnalyze(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if _, err := s.pool.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return nil
}
