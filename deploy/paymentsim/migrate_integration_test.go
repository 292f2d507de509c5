//go:build integration

package paymentsim

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
)

// oldSchema is the table as stand-ins before payout holds created it,
// with its amount check of the time.
const oldSchema = `
CREATE TABLE paymentsim_movements (
	id              text PRIMARY KEY,
	kind            text NOT NULL,
	status          text NOT NULL,
	amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
	currency        text NOT NULL,
	order_id        text NOT NULL DEFAULT '',
	buyer_id        text NOT NULL DEFAULT '',
	seller_id       text NOT NULL DEFAULT '',
	hold_id         text NOT NULL DEFAULT '',
	released_by     text NOT NULL DEFAULT '',
	reason          text NOT NULL DEFAULT '',
	idempotency_key text NOT NULL,
	request_hash    text NOT NULL,
	answer          jsonb NOT NULL,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX paymentsim_movements_idempotency_key ON paymentsim_movements (idempotency_key);
CREATE UNIQUE INDEX paymentsim_movements_release_once ON paymentsim_movements (hold_id) WHERE kind = 'release';
CREATE INDEX paymentsim_movements_order ON paymentsim_movements (order_id, created_at);
INSERT INTO paymentsim_movements (id, kind, status, amount_minor, currency, order_id, idempotency_key, request_hash, answer, created_at, updated_at)
VALUES ('pm_old', 'refund', 'succeeded', 1999, 'EUR', 'ord-old', 'old-key', 'h', '{}', now(), now());
`

// schemaPool answers a pool whose tables live in a fresh schema of the
// stack's Postgres, dropped after the test.
func schemaPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := stacktest.Context(t)
	admin, err := pgxpool.New(ctx, stacktest.Config(t).DatabaseURL)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	name := "paymentsim_test_" + strings.ToLower(rand.Text())
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+name)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(ctx, "DROP SCHEMA "+name+" CASCADE") })

	cfg, err := pgxpool.ParseConfig(stacktest.Config(t).DatabaseURL)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func insertMovement(t *testing.T, pool *pgxpool.Pool, id, kind string, minor int64) error {
	t.Helper()
	_, err := pool.Exec(stacktest.Context(t), `INSERT INTO paymentsim_movements
		(id, kind, status, amount_minor, currency, seller_id, idempotency_key, request_hash, answer, created_at, updated_at)
		VALUES ($1, $2, 'held', $3, '', 'seller-1', $1, 'h', '{}', now(), now())`, id, kind, minor)
	return err
}

func assertAmountRules(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	assert.NoError(t, insertMovement(t, pool, "pm_payout_hold", "payout_hold", 0), "a payout hold has no amount")
	for _, bad := range []struct {
		kind  string
		minor int64
	}{{"refund", 0}, {"hold", 0}, {"payout_hold", -1}} {
		err := insertMovement(t, pool, "pm_bad_"+bad.kind, bad.kind, bad.minor)
		var pe *pgconn.PgError
		if assert.ErrorAs(t, err, &pe, "%s of %d", bad.kind, bad.minor) {
			assert.Equal(t, "23514", pe.Code, "a check violation")
		}
	}
}

func TestMigrateLetsAnOlderTableHoldPayouts(t *testing.T) {
	pool := schemaPool(t)
	ctx := stacktest.Context(t)
	_, err := pool.Exec(ctx, oldSchema)
	require.NoError(t, err)

	require.NoError(t, Migrate(ctx, pool))
	require.NoError(t, Migrate(ctx, pool), "a second start changes nothing")

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM paymentsim_movements WHERE id = 'pm_old'`).Scan(&n))
	assert.Equal(t, 1, n, "the movements recorded before stay")
	assertAmountRules(t, pool)

	rows, err := pool.Query(ctx, `SELECT conname FROM pg_constraint
		WHERE conrelid = 'paymentsim_movements'::regclass AND contype = 'c' ORDER BY conname`)
	require.NoError(t, err)
	checks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{"paymentsim_movements_amount_by_kind"}, checks, "the old check is gone, the new one is there once")
}

func TestMigrateCreatesTheTableWithTheAmountRules(t *testing.T) {
	pool := schemaPool(t)
	ctx := stacktest.Context(t)
	require.NoError(t, Migrate(ctx, pool))
	require.NoError(t, Migrate(ctx, pool))
	assertAmountRules(t, pool)
}
