package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"handoff/verification"
	"handoff/workflows/sellers"
)

// Application error types of the identity-check activities' refusals,
// for the workflows' NonRetryableErrorTypes.
const (
	// ErrTypeVerificationRefused: the provider will not run or answer the
	// check, now or on retry (an invalid request, the key reused with
	// another request, a bad signature). Its details are the provider's
	// code (verification.Code*).
	ErrTypeVerificationRefused = "VerificationRefused"
	// ErrTypeVerificationNotFound: the provider knows no check of that id.
	ErrTypeVerificationNotFound = "VerificationNotFound"
)

// Verification runs sellers' identity checks (KYC) through the provider
// for SellerVerification. Every check request carries the workflow's
// idempotency key, the same on every retry, so a check retried after a
// lost answer starts once and answers its id.
type Verification struct {
	verifier verification.Verifier
}

// NewVerification answers the identity-check activities over v.
func NewVerification(v verification.Verifier) *Verification {
	return &Verification{verifier: v}
}

// StartIdentityCheck starts the identity check of a seller, once per
// req.Key, and answers it as the provider has it now: decided, or pending
// or needs_review with the decision to come by webhook
// (sellers.ActivityStartIdentityCheck).
func (v *Verification) StartIdentityCheck(ctx context.Context, req sellers.IdentityCheckRequest) (sellers.CheckResult, error) {
	c, err := v.verifier.Check(ctx, verification.CheckRequest{
		IdempotencyKey: req.Key, SellerID: req.SellerID, LegalName: req.Identity.LegalName,
		Country: req.Identity.Country, DocumentIDs: req.Identity.DocumentIDs,
		PayoutAccountLast4: req.Identity.PayoutAccountLast4,
	})
	if err != nil {
		return sellers.CheckResult{}, verificationError("start identity check "+req.Key, err)
	}
	return checkResult(c), nil
}

// GetIdentityCheck answers check id as the provider has it now
// (sellers.ActivityGetIdentityCheck): what the workflow asks when the
// decision webhook is late.
func (v *Verification) GetIdentityCheck(ctx context.Context, id string) (sellers.CheckResult, error) {
	c, err := v.verifier.Get(ctx, id)
	if err != nil {
		return sellers.CheckResult{}, verificationError("get identity check "+id, err)
	}
	return checkResult(c), nil
}

// verificationError makes the provider's refusals final for Temporal (no
// retry makes an invalid request valid) and leaves the rest retryable
// under the same key.
func verificationError(op string, err error) error {
	switch {
	case errors.Is(err, verification.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), ErrTypeVerificationNotFound, err,
			verification.CodeOf(err))
	case errors.Is(err, verification.ErrRefused):
		return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), ErrTypeVerificationRefused, err,
			verification.CodeOf(err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

func checkResult(c verification.Check) sellers.CheckResult {
	return sellers.CheckResult{ID: c.ID, SellerID: c.SellerID, Status: c.Status, Reasons: c.Reasons,
		DecidedAt: c.DecidedAt}
}
