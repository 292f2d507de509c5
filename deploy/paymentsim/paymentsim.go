// Package paymentsim is the local stack's stand-in for the marketplace's
// payment provider: it serves the wire format of docs/payments.md (what
// payments.HTTP sends), verifies every signature, and keeps its ledger in
// Postgres in its own tables (paymentsim_*), created on start, so tests and
// demos can check that every cent moved exactly once:
//
//	POST /refunds, /store-credits, /holds, /payout-holds         signed, Idempotency-Key
//	POST /holds/{id}/release (a hold or a payout hold)           signed, Idempotency-Key
//	POST /payouts (refused while the seller's payouts are held)  signed, Idempotency-Key
//	GET  /movements/{id}                                         signed
//	GET  /sellers/{id}/movements                                 signed
//	GET  /ledger?order_id= or ?seller_id=                        unsigned, local only
//	POST /faults {"fail_next": N, "status": 503}                 unsigned, local only
//	GET  /healthz
//
// Each idempotency key is recorded once (a unique index): a repeat of the
// same request answers the stored first answer, the same key with another
// request answers 409. Nothing here is meant for production.
package paymentsim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"handoff/payments"
	"handoff/signedhttp"
)

// DefaultTolerance is how far X-Handoff-Timestamp may be from the clock.
const DefaultTolerance = 5 * time.Minute

const maxBody = 1 << 20

// Options tunes a Server; the zero value serves.
type Options struct {
	// KeyID is the X-Handoff-Key-Id the secret goes by; empty accepts any.
	KeyID string
	// Tolerance bounds the timestamp's distance from now (DefaultTolerance).
	Tolerance time.Duration
	// Logger hears one record per request (slog.Default()).
	Logger *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Faults makes the next requests fail, for tests (POST /faults).
type Faults struct {
	// FailNext is how many of the next signed requests fail.
	FailNext int `json:"fail_next"`
	// Status is the status they answer (503 when 0).
	Status int `json:"status,omitempty"`
	// Code is the problem code they carry (insufficient_funds with a 402…).
	Code string `json:"code,omitempty"`
	// AfterCommit fails a money movement after recording it, as when the
	// answer is lost on the way back: a retry with the same key must then
	// answer the recorded movement without moving the money again.
	AfterCommit bool `json:"after_commit,omitempty"`
}

// Server is the stand-in, an http.Handler.
type Server struct {
	pool      *pgxpool.Pool
	secret    []byte
	keyID     string
	tolerance time.Duration
	logger    *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux

	mu     sync.Mutex
	faults Faults
}

// New answers a stand-in keeping its ledger in pool, creating its tables
// when missing. secret must have at least payments.MinSecretLen bytes.
func New(ctx context.Context, pool *pgxpool.Pool, secret string, opts Options) (*Server, error) {
	if len(secret) < payments.MinSecretLen {
		return nil, fmt.Errorf("the signing secret must have at least %d bytes, got %d", payments.MinSecretLen, len(secret))
	}
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	s := &Server{
		pool: pool, secret: []byte(secret), keyID: opts.KeyID,
		tolerance: opts.Tolerance, logger: opts.Logger, now: opts.Now,
	}
	if s.tolerance <= 0 {
		s.tolerance = DefaultTolerance
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /refunds", s.signed(s.refund))
	mux.HandleFunc("POST /store-credits", s.signed(s.storeCredit))
	mux.HandleFunc("POST /holds", s.signed(s.hold))
	mux.HandleFunc("POST /payout-holds", s.signed(s.holdPayouts))
	mux.HandleFunc("POST /holds/{id}/release", s.signed(s.release))
	mux.HandleFunc("POST /payouts", s.signed(s.payout))
	mux.HandleFunc("GET /movements/{id}", s.signed(s.get))
	mux.HandleFunc("GET /sellers/{id}/movements", s.signed(s.sellerMovements))
	mux.HandleFunc("GET /ledger", s.ledger)
	mux.HandleFunc("POST /faults", s.setFaults)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			problem(w, http.StatusServiceUnavailable, payments.CodeUnavailable, "postgres: "+err.Error())
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	s.mux = mux
	return s, nil
}

// ServeHTTP serves the wire format of docs/payments.md.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// schema is the stand-in's own tables; the unique index on the idempotency
// key is what makes a movement happen once per key, and the one on
// hold_id what makes a hold (of either kind) released once. Every
// statement is safe to run again, on a table an older stand-in created
// too: that table's check (amount_minor > 0) refuses the zero amount of a
// payout hold, so it is replaced by amount_by_kind the first time only,
// and later starts take no lock on the table.
const schema = `
CREATE TABLE IF NOT EXISTS paymentsim_movements (
	id              text PRIMARY KEY,
	kind            text NOT NULL,
	status          text NOT NULL,
	amount_minor    bigint NOT NULL,
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
CREATE UNIQUE INDEX IF NOT EXISTS paymentsim_movements_idempotency_key ON paymentsim_movements (idempotency_key);
CREATE UNIQUE INDEX IF NOT EXISTS paymentsim_movements_release_once ON paymentsim_movements (hold_id) WHERE kind = 'release';
CREATE INDEX IF NOT EXISTS paymentsim_movements_order ON paymentsim_movements (order_id, created_at);
CREATE INDEX IF NOT EXISTS paymentsim_movements_seller ON paymentsim_movements (seller_id, created_at);
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_constraint
		WHERE conrelid = 'paymentsim_movements'::regclass AND conname = 'paymentsim_movements_amount_by_kind') THEN
		ALTER TABLE paymentsim_movements DROP CONSTRAINT IF EXISTS paymentsim_movements_amount_minor_check;
		ALTER TABLE paymentsim_movements ADD CONSTRAINT paymentsim_movements_amount_by_kind
			CHECK (amount_minor > 0 OR (amount_minor = 0 AND kind IN ('payout_hold', 'release')));
	END IF;
END $$;
`

// Migrate creates the stand-in's tables when missing; concurrent callers
// wait for each other.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('paymentsim_schema'))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("create paymentsim tables: %w", err)
	}
	return nil
}

// SetFaults replaces the faults to inject (what POST /faults does).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// takeFault answers the fault for this request, if one is due before
// (afterCommit false) or after the movement is recorded.
func (s *Server) takeFault(afterCommit bool) (Faults, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.FailNext <= 0 || s.faults.AfterCommit != afterCommit {
		return Faults{}, false
	}
	s.faults.FailNext--
	return s.faults, true
}

func answerFault(w http.ResponseWriter, f Faults) {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	code := f.Code
	if code == "" && status >= 500 {
		code = payments.CodeUnavailable
	}
	problem(w, status, code, "fault injected through /faults")
}

// request is what a signed handler gets: the verified raw body.
type request struct {
	r    *http.Request
	body []byte
	key  string
}

// signed verifies the signature, then injects a due fault, then calls h.
func (s *Server) signed(h func(w http.ResponseWriter, req request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			problem(w, http.StatusRequestEntityTooLarge, payments.CodeInvalidRequest, "body too large")
			return
		}
		if err := s.verify(r, body); err != nil {
			s.logger.WarnContext(r.Context(), "payments request refused", "method", r.Method, "target", r.RequestURI, "err", err)
			problem(w, http.StatusUnauthorized, payments.CodeUnauthorized, err.Error())
			return
		}
		if f, ok := s.takeFault(false); ok {
			s.logger.InfoContext(r.Context(), "fault injected", "method", r.Method, "target", r.RequestURI, "status", f.Status)
			answerFault(w, f)
			return
		}
		h(w, request{r: r, body: body, key: r.Header.Get(signedhttp.HeaderIdempotencyKey)})
	}
}

// verify checks the signature as docs/account-service.md tells implementers.
func (s *Server) verify(r *http.Request, body []byte) error {
	if s.keyID != "" && r.Header.Get(signedhttp.HeaderKeyID) != s.keyID {
		return fmt.Errorf("unknown key id %q", r.Header.Get(signedhttp.HeaderKeyID))
	}
	err := signedhttp.Verify(r.Header, s.secret, r.Method, r.RequestURI, body, s.now(), s.tolerance)
	var ve *signedhttp.VerifyError
	if errors.As(err, &ve) && ve.Failure == signedhttp.BadSignature {
		return errors.New("signature does not match")
	}
	// The other failures say what docs/account-service.md says, as they are.
	return err
}

func (s *Server) refund(w http.ResponseWriter, req request) {
	var in payments.RefundRequest
	if !decode(w, req.body, &in) {
		return
	}
	s.record(w, req, in, in.Validate(), func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error {
		m.Kind, m.Status, m.OrderID, m.Amount, m.Reason = payments.KindRefund, payments.StatusSucceeded, in.OrderID, in.Amount, in.Reason
		return nil
	})
}

func (s *Server) storeCredit(w http.ResponseWriter, req request) {
	var in payments.StoreCreditRequest
	if !decode(w, req.body, &in) {
		return
	}
	s.record(w, req, in, in.Validate(), func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error {
		m.Kind, m.Status, m.BuyerID, m.OrderID, m.Amount, m.Reason = payments.KindStoreCredit, payments.StatusSucceeded, in.BuyerID, in.OrderID, in.Amount, in.Reason
		return nil
	})
}

func (s *Server) hold(w http.ResponseWriter, req request) {
	var in payments.HoldRequest
	if !decode(w, req.body, &in) {
		return
	}
	s.record(w, req, in, in.Validate(), func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error {
		m.Kind, m.Status, m.SellerID, m.OrderID, m.Amount, m.Reason = payments.KindHold, payments.StatusHeld, in.SellerID, in.OrderID, in.Amount, in.Reason
		return nil
	})
}

func (s *Server) release(w http.ResponseWriter, req request) {
	var in struct {
		Reason string `json:"reason,omitempty"`
	}
	if len(req.body) > 0 && !decode(w, req.body, &in) {
		return
	}
	holdID := req.r.PathValue("id")
	fingerprint := struct {
		HoldID string `json:"hold_id"`
		Reason string `json:"reason,omitempty"`
	}{holdID, in.Reason}
	s.record(w, req, fingerprint, nil, func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error {
		var kind, status string
		err := tx.QueryRow(ctx, `SELECT kind, status, amount_minor, currency, order_id, seller_id
			FROM paymentsim_movements WHERE id = $1 FOR UPDATE`, holdID).
			Scan(&kind, &status, &m.Amount.Minor, &m.Amount.Currency, &m.OrderID, &m.SellerID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && kind != payments.KindHold && kind != payments.KindPayoutHold) {
			return &payments.Error{Class: payments.ErrNotFound, Status: http.StatusNotFound, Code: payments.CodeNotFound,
				Detail: fmt.Sprintf("no hold %s", holdID)}
		}
		if err != nil {
			return err
		}
		if status != payments.StatusHeld {
			return &payments.Error{Class: payments.ErrRefused, Status: http.StatusConflict, Code: payments.CodeAlreadyReleased,
				Detail: fmt.Sprintf("hold %s is already %s", holdID, status)}
		}
		m.Kind, m.Status, m.HoldID, m.Reason = payments.KindRelease, payments.StatusSucceeded, holdID, in.Reason
		_, err = tx.Exec(ctx, `UPDATE paymentsim_movements SET status = $2, released_by = $3, updated_at = $4 WHERE id = $1`,
			holdID, payments.StatusReleased, m.ID, m.CreatedAt)
		return err
	})
}

func (s *Server) get(w http.ResponseWriter, req request) {
	id := req.r.PathValue("id")
	ms, err := s.query(req.r.Context(), `WHERE id = $1`, id)
	if err != nil {
		s.fail(w, req.r, err)
		return
	}
	if len(ms) == 0 {
		problem(w, http.StatusNotFound, payments.CodeNotFound, "no movement "+id)
		return
	}
	writeJSON(w, http.StatusOK, ms[0])
}

// record applies one money movement once per idempotency key: a repeat
// with the same request answers the stored answer; the same key with
// another request answers 409. fingerprint is the request as parsed,
// hashed (with the route) to tell requests apart. apply fills the movement
// (its ID and times are set) and may refuse with a *payments.Error.
func (s *Server) record(w http.ResponseWriter, req request, fingerprint any, invalid error,
	apply func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error,
) {
	r := req.r
	if err := errors.Join(payments.CheckIdempotencyKey(req.key), invalid); err != nil {
		code := payments.CodeOf(err)
		problem(w, http.StatusUnprocessableEntity, code, err.Error())
		return
	}
	canon, err := json.Marshal(fingerprint)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), canon...))
	hash := hex.EncodeToString(sum[:])

	ctx := r.Context()
	var answer []byte
	replayed := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Same-key requests wait for each other; the unique index backs it.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "paymentsim:"+req.key); err != nil {
			return err
		}
		var storedHash string
		err := tx.QueryRow(ctx, `SELECT request_hash, answer FROM paymentsim_movements WHERE idempotency_key = $1`, req.key).
			Scan(&storedHash, &answer)
		if err == nil {
			if storedHash != hash {
				return &payments.Error{Class: payments.ErrRefused, Status: http.StatusConflict, Code: payments.CodeIdempotencyConflict,
					Detail: fmt.Sprintf("idempotency key %q was used for another request", req.key)}
			}
			replayed = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		m := payments.Movement{ID: newID(), IdempotencyKey: req.key, CreatedAt: now, UpdatedAt: now}
		if err := apply(ctx, tx, &m); err != nil {
			return err
		}
		if answer, err = json.Marshal(m); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO paymentsim_movements
			(id, kind, status, amount_minor, currency, order_id, buyer_id, seller_id, hold_id, reason,
			 idempotency_key, request_hash, answer, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$14)`,
			m.ID, m.Kind, m.Status, m.Amount.Minor, m.Amount.Currency, m.OrderID, m.BuyerID, m.SellerID, m.HoldID, m.Reason,
			m.IdempotencyKey, hash, answer, m.CreatedAt)
		return err
	})
	var pe *payments.Error
	if errors.As(err, &pe) {
		problem(w, pe.Status, pe.Code, pe.Detail)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f, ok := s.takeFault(true); ok && !replayed {
		s.logger.InfoContext(ctx, "fault injected after the movement was recorded", "idempotency_key", req.key, "status", f.Status)
		answerFault(w, f)
		return
	}
	s.logger.InfoContext(ctx, "payments movement", "target", r.RequestURI, "idempotency_key", req.key, "replayed", replayed)
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

func (s *Server) setFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil || json.Unmarshal(body, &f) != nil || f.FailNext < 0 || (f.Status != 0 && (f.Status < 400 || f.Status > 599)) {
		problem(w, http.StatusBadRequest, payments.CodeInvalidRequest, `want {"fail_next": N, "status": 4xx or 5xx}`)
		return
	}
	s.SetFaults(f)
	s.logger.InfoContext(r.Context(), "faults set", "fail_next", f.FailNext, "status", f.Status, "after_commit", f.AfterCommit)
	writeJSON(w, http.StatusOK, f)
}

// query answers the movements matching where, oldest first, as they are now.
func (s *Server) query(ctx context.Context, where string, args ...any) ([]payments.Movement, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, status, amount_minor, currency, order_id, buyer_id, seller_id,
		hold_id, released_by, reason, idempotency_key, created_at, updated_at
		FROM paymentsim_movements `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (payments.Movement, error) {
		var m payments.Movement
		err := row.Scan(&m.ID, &m.Kind, &m.Status, &m.Amount.Minor, &m.Amount.Currency, &m.OrderID, &m.BuyerID, &m.SellerID,
			&m.HoldID, &m.ReleasedBy, &m.Reason, &m.IdempotencyKey, &m.CreatedAt, &m.UpdatedAt)
		m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
		return m, err
	})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.ErrorContext(r.Context(), "payments request failed", "method", r.Method, "target", r.RequestURI, "err", err)
	problem(w, http.StatusInternalServerError, payments.CodeUnavailable, "internal error")
}

func decode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		problem(w, http.StatusBadRequest, payments.CodeInvalidRequest, "body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(payments.Problem{Title: http.StatusText(status), Status: status, Detail: detail, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newID answers a fresh movement id.
func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "pm_" + hex.EncodeToString(b)
}
