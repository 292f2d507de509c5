package main

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"handoff/store"
	"handoff/workflows/deliveries"
)

// deliveryListStatus is a delivery status in a query, its allowed values
// from the workflow's own list.
type deliveryListStatus string

// Schema lists every delivery status.
func (deliveryListStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(deliveries.Statuses) }

type listDeliveriesInput struct {
	Status             deliveryListStatus `query:"status"`
	AccountID          string             `query:"account_id" maxLength:"100"`
	OrderID            string             `query:"order_id" maxLength:"100"`
	BuyerID            string             `query:"buyer_id" maxLength:"100"`
	SellerID           string             `query:"seller_id" maxLength:"100"`
	WarrantyEndsBefore time.Time          `query:"warranty_ends_before" doc:"Only deliveries whose warranty ends before this instant (RFC 3339); one not delivered yet has no warranty end."`
	Limit              int                `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor             string             `query:"cursor" maxLength:"500" doc:"next_cursor of the previous page."`
}

type listDeliveriesOutput struct {
	Body struct {
		// Deliveries come as the read model has them, without their timeline.
		Deliveries []deliveries.DeliveryView `json:"deliveries" doc:"The warranty that ends soonest first, deliveries without a warranty end last, then by id."`
		NextCursor string                    `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last."`
	}
}

// listDeliveries answers GET /v1/deliveries from the read model.
func (s *server) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*listDeliveriesOutput, error) {
	f := store.DeliveryFilter{
		Status: string(in.Status), AccountID: in.AccountID, OrderID: in.OrderID,
		BuyerID: in.BuyerID, SellerID: in.SellerID, Limit: in.Limit, Cursor: in.Cursor,
	}
	if !in.WarrantyEndsBefore.IsZero() {
		f.WarrantyEndsBefore = &in.WarrantyEndsBefore
	}
	views, next, err := s.store.ListDeliveries(ctx, f)
	if err != nil {
		return nil, s.listError(ctx, err)
	}
	out := &listDeliveriesOutput{}
	out.Body.Deliveries = views
	out.Body.NextCursor = next
	return out, nil
}
