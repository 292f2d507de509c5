package paymentsim

import (
	"net/http"

	"handoff/payments"
)

// Ledger is what GET /ledger answers: every movement of an order, or of a
// seller, oldest first, and the sums per kind and currency in minor units.
type Ledger struct {
	// OrderID is the order asked for (?order_id=), or empty.
	OrderID string `json:"order_id,omitempty"`
	// SellerID is the seller asked for (?seller_id=), or empty.
	SellerID  string                      `json:"seller_id,omitempty"`
	Movements []payments.Movement         `json:"movements"`
	Totals    map[string]map[string]int64 `json:"totals"`
	// Held is what is held now per currency: holds not released.
	Held map[string]int64 `json:"held"`
	// PayoutsHeld says whether a payout hold among the movements is held
	// now: for a seller's ledger, whether POST /payouts refuses to pay
	// the seller.
	PayoutsHeld bool `json:"payouts_held"`
}

func (s *Server) ledger(w http.ResponseWriter, r *http.Request) {
	orderID, sellerID := r.URL.Query().Get("order_id"), r.URL.Query().Get("seller_id")
	if (orderID == "") == (sellerID == "") {
		problem(w, http.StatusBadRequest, payments.CodeInvalidRequest, "one of order_id or seller_id is required")
		return
	}
	where, arg := `WHERE order_id = $1`, orderID
	if sellerID != "" {
		where, arg = `WHERE seller_id = $1`, sellerID
	}
	ms, err := s.query(r.Context(), where, arg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ledgerOf(orderID, sellerID, ms))
}

// sellerMovements is the signed GET /sellers/{id}/movements: the seller's
// part of GET /ledger?seller_id=, what payments.HTTP.SellerMovements reads.
func (s *Server) sellerMovements(w http.ResponseWriter, req request) {
	sellerID := req.r.PathValue("id")
	ms, err := s.query(req.r.Context(), `WHERE seller_id = $1`, sellerID)
	if err != nil {
		s.fail(w, req.r, err)
		return
	}
	l := ledgerOf("", sellerID, ms)
	writeJSON(w, http.StatusOK, payments.SellerLedger{SellerID: sellerID, Movements: l.Movements, PayoutsHeld: l.PayoutsHeld})
}

// ledgerOf sums the movements ms of an order or a seller, oldest first.
func ledgerOf(orderID, sellerID string, ms []payments.Movement) Ledger {
	l := Ledger{OrderID: orderID, SellerID: sellerID, Movements: ms, Totals: map[string]map[string]int64{}, Held: map[string]int64{}}
	for _, m := range ms {
		if m.Kind == payments.KindPayoutHold && m.Status == payments.StatusHeld {
			l.PayoutsHeld = true
		}
		if m.Amount.Currency == "" { // a payout hold or its release: no money
			continue
		}
		if l.Totals[m.Kind] == nil {
			l.Totals[m.Kind] = map[string]int64{}
		}
		l.Totals[m.Kind][m.Amount.Currency] += m.Amount.Minor
		if m.Kind == payments.KindHold && m.Status == payments.StatusHeld {
			l.Held[m.Amount.Currency] += m.Amount.Minor
		}
	}
	return l
}
