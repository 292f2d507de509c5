package sellers

import (
	"go.temporal.io/sdk/workflow"
)

// SellerVerification checks a seller's identity (being written).
func SellerVerification(ctx workflow.Context, in VerificationInput) (VerificationView, error) {
	return VerificationView{}, nil
}
