package sellers

import (
	"go.temporal.io/sdk/workflow"
)

// SellerOnboarding keeps a seller's checklist (being written).
func SellerOnboarding(ctx workflow.Context, in OnboardingInput) (SellerView, error) {
	_ = childOptions
	return SellerView{}, in.Validate()
}
