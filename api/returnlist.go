package main

import (
	"context"

	"github.com/danielgtaylor/huma/v2"

	"handoff/store"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
)

// returnListStatus is a return status in a query, its allowed values
// from the workflow's own list.
type returnListStatus string

// Schema lists every return status.
func (returnListStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(returns.Statuses) }

// disputeListStatus is a dispute status in a query, its allowed values
// from the workflow's own list.
type disputeListStatus string

// Schema lists every dispute status.
func (disputeListStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(disputes.Statuses) }

// PartyListParams are the filters returns and disputes share, and the page.
type PartyListParams struct {
	SellerID   string `query:"seller_id" maxLength:"100"`
	OrderID    string `query:"order_id" maxLength:"100"`
	CustomerID string `query:"customer_id" maxLength:"100" doc:"The buyer's id."`
	CaseID     string `query:"case_id" maxLength:"100"`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor     string `query:"cursor" maxLength:"500" doc:"next_cursor of the previous page."`
}

// filter answers the store's filter of p with status.
func (p PartyListParams) filter(status string) store.PartyFilter {
	return store.PartyFilter{
		Status: status, SellerID: p.SellerID, OrderID: p.OrderID, CustomerID: p.CustomerID, CaseID: p.CaseID,
		Limit: p.Limit, Cursor: p.Cursor,
	}
}

type listReturnsInput struct {
	Status returnListStatus `query:"status"`
	PartyListParams
}

type listReturnsOutput struct {
	Body struct {
		// Returns come as the read model has them, without their timeline.
		Returns    []returnView `json:"returns" doc:"The deadline waited on soonest first, returns waiting on none last, then by id."`
		NextCursor string       `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last."`
	}
}

// listReturns answers GET /v1/returns from the read model.
func (s *server) listReturns(ctx context.Context, in *listReturnsInput) (*listReturnsOutput, error) {
	views, next, err := s.store.ListReturns(ctx, in.filter(string(in.Status)))
	if err != nil {
		return nil, s.listError(ctx, err)
	}
	out := &listReturnsOutput{}
	out.Body.Returns = make([]returnView, len(views))
	for i, v := range views {
		out.Body.Returns[i] = returnView{v}
	}
	out.Body.NextCursor = next
	return out, nil
}

type listDisputesInput struct {
	Status disputeListStatus `query:"status"`
	PartyListParams
}

type listDisputesOutput struct {
	Body struct {
		// Disputes come as the read model has them, without their timeline.
		Disputes   []disputeView `json:"disputes" doc:"The party's deadline soonest first, disputes waiting on none last, then by id."`
		NextCursor string        `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last."`
	}
}

// listDisputes answers GET /v1/disputes from the read model.
func (s *server) listDisputes(ctx context.Context, in *listDisputesInput) (*listDisputesOutput, error) {
	views, next, err := s.store.ListDisputes(ctx, in.filter(string(in.Status)))
	if err != nil {
		return nil, s.listError(ctx, err)
	}
	out := &listDisputesOutput{}
	out.Body.Disputes = make([]disputeView, len(views))
	for i, v := range views {
		out.Body.Disputes[i] = disputeView{v}
	}
	out.Body.NextCursor = next
	return out, nil
}
