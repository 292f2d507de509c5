package deliveries

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// StartRequest is what the marketplace gives to start a delivery; Start
// fills in what the policy decides.
type StartRequest struct {
	// ID names the delivery; Start derives it when empty (from the key, or
	// at random).
	ID           string
	AccountID    string
	OrderID      string
	Buyer        vocab.Customer
	SellerID     string
	Product      string
	AllowedUse   string
	RecoveryPath RecoveryPath
	Region       string
	// Warranty, when set, is this delivery's instead of the product's.
	Warranty  time.Duration
	StartedBy string
}

// NewInput resolves req against the delivery policy and checks it: every
// missing or malformed handoff field is named at once, so the integrator
// fixes them in one go.
func NewInput(policy sla.DeliveryPolicy, req StartRequest, now time.Time) (DeliveryInput, error) {
	in := DeliveryInput{
		ID: req.ID, AccountID: strings.TrimSpace(req.AccountID), OrderID: strings.TrimSpace(req.OrderID),
		Buyer: req.Buyer, SellerID: strings.TrimSpace(req.SellerID), Product: strings.TrimSpace(req.Product),
		AllowedUse: strings.TrimSpace(req.AllowedUse), RecoveryPath: req.RecoveryPath, Region: strings.TrimSpace(req.Region),
		StartedBy: req.StartedBy, StartedAt: now,
		ConfirmationWindow: policy.ConfirmationWindow, Warranty: policy.WarrantyFor(strings.TrimSpace(req.Product)),
		WarrantyNotice: policy.WarrantyNotice, Revision: DeliveryRevision,
	}
	if req.Warranty > 0 {
		in.Warranty = req.Warranty
	}
	if err := in.Validate(); err != nil {
		return DeliveryInput{}, err
	}
	return in, nil
}

// Validate checks the handoff fields of a new delivery; Start calls it
// before starting a workflow and the workflow again at start.
func (in DeliveryInput) Validate() error {
	var problems []string
	need := func(field, value string) {
		if strings.TrimSpace(value) == "" {
			problems = append(problems, field+": must not be empty")
		}
	}
	need("id", in.ID)
	need("account_id", in.AccountID)
	need("order_id", in.OrderID)
	need("buyer.id", in.Buyer.ID)
	if !strings.Contains(in.Buyer.Email, "@") {
		problems = append(problems, "buyer.email: must be an email address")
	}
	if !slices.Contains(vocab.Locales, in.Buyer.Locale) {
		problems = append(problems, fmt.Sprintf("buyer.locale: want en or fr, got %q", in.Buyer.Locale))
	}
	need("seller_id", in.SellerID)
	need("product", in.Product)
	need("allowed_use", in.AllowedUse)
	need("region", in.Region)
	rp := in.RecoveryPath
	if rp.Email == "" && rp.Phone == "" && !rp.BackupCodesHeld {
		problems = append(problems, "recovery_path: name the recovery email or phone on file, or that the buyer holds the backup codes")
	}
	if rp.Email != "" && !strings.Contains(rp.Email, "@") {
		problems = append(problems, "recovery_path.email: must be an email address")
	}
	if !slices.Contains(ResetByValues, rp.ResetBy) {
		problems = append(problems, fmt.Sprintf("recovery_path.reset_by: want one of %s, got %q", strings.Join(ResetByValues, ", "), rp.ResetBy))
	}
	if in.ConfirmationWindow <= 0 || in.Warranty <= 0 {
		problems = append(problems, "warranty: the confirmation window and the warranty must be positive")
	}
	if len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

// Starter starts deliveries: the API and the command-line tool go through
// Start, so the id, the start policies and the starting time are decided
// in one place.
type Starter struct {
	Temporal  client.Client
	Policy    sla.DeliveryPolicy
	TaskQueue string
}

// Start resolves req and starts its delivery, ready now, and answers the
// input it started with. A refused request is a vocab.ErrInvalidArgument
// application error and starts nothing.
func (s Starter) Start(ctx context.Context, req StartRequest, opt vocab.Once) (DeliveryInput, error) {
	req.ID = vocab.ChooseID("D-", req.ID, opt.KeyScope, opt.Key)
	in, err := NewInput(s.Policy, req, time.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return DeliveryInput{}, err
	}
	opts := DeliveryStartOptions(in, s.TaskQueue)
	opts.Memo = opt.Memo
	if _, err := vocab.StartOnce(ctx, s.Temporal, opts, WorkflowType, in); err != nil {
		return in, fmt.Errorf("start delivery %s: %w", in.ID, err)
	}
	return in, nil
}
