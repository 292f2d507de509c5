package deliveries

import "go.temporal.io/sdk/workflow"

// AccountDelivery follows one delivered account from ready to retired.
func AccountDelivery(ctx workflow.Context, in DeliveryInput) (DeliveryView, error) {
	if err := in.Validate(); err != nil {
		return DeliveryView{}, err
	}
	return DeliveryView{ID: in.ID, Status: StatusReady}, nil
}
