package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"handoff/workflows/erasure"
)

// Erasure: an admin asks for a customer's personal data to be erased (the
// right to erasure); an Erasure workflow (erasure/<id>) carries it out
// across the running cases, the read model and the evidence bucket, and
// answers what it erased where.

// registerErasure adds the erasure operations; op builds an operation as
// register does (its roles from access).
func (s *server) registerErasure(api huma.API, op func(id, method, path, summary string, status int) huma.Operation) {
	start := op("erase-customer", http.MethodPost, "/v1/customers/{id}/erasure", "Erase a customer's personal data", http.StatusAccepted)
	start.Description = eraseCustomerDoc + " " + start.Description
	huma.Register(api, start, s.eraseCustomer)
	huma.Register(api, op("get-erasure", http.MethodGet, "/v1/erasures/{id}", "Read an erasure and what it erased where", http.StatusOK), s.getErasure)
}

const eraseCustomerDoc = "Starts the erasure of the customer's personal data: every running case drops the name, email, " +
	"subject, description and free text of its timeline from its state and records who asked; the read model of every " +
	"case of the customer is pseudonymised the same way (inbound mail senders and notification addresses too); every " +
	"version of their evidence files is deleted from S3, except files under legal hold (Object Lock), which are listed " +
	"with their retention end. The deliveries, returns and disputes the customer is the buyer of are erased the same " +
	"way: the running ones drop the buyer's name, email, address and the free text (reasons, statements, claims) from " +
	"their state and tell the buyer nothing more, and their rows and timelines are pseudonymised. Cases opened later for the same customer are not touched. Read the result at the " +
	"Location answered. The same Idempotency-Key answers the same erasure."

type eraseCustomerInput struct {
	CustomerIDParam
	IdempotencyParam
}

// CustomerIDParam names a customer in a path.
type CustomerIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"100" doc:"The customer's id, as cases carry it."`
}

// ErasureIDParam names an erasure in a path.
type ErasureIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"64" pattern:"^E-[0-9a-f]+$" doc:"The erasure's id."`
}

type erasureOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     erasure.Result
}

// eraseCustomer starts the erasure, or answers the one the same
// Idempotency-Key already started.
func (s *server) eraseCustomer(ctx context.Context, in *eraseCustomerInput) (*erasureOutput, error) {
	sum := sha256.Sum256([]byte("erasure/" + scopedKey(ctx, in.IdempotencyKey)))
	e := erasure.Input{ID: "E-" + hex.EncodeToString(sum[:8]), CustomerID: in.ID, RequestedBy: callerFrom(ctx).actor(),
		RequestedAt: time.Now().UTC()}
	opts := erasure.StartOptions(e, s.taskQueue)
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true // an ended erasure answers its result, below
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	wid := erasure.WorkflowID(e.ID)
	if _, err := s.temporal.ExecuteWorkflow(ctx, opts, erasure.WorkflowType, e); err != nil {
		if !isAlreadyStarted(err) {
			return nil, s.flowError(ctx, wid, "erasure "+e.ID, err)
		}
		// The erasure this key asked for has ended: answer its result.
		done, err := readFlow[erasure.Result](ctx, s, wid, erasure.QueryErasure, "erasure "+e.ID)
		if err != nil {
			return nil, err
		}
		return &erasureOutput{Status: http.StatusAccepted, Location: "/v1/erasures/" + e.ID, Body: done}, nil
	}
	res := erasure.Result{ID: e.ID, CustomerID: e.CustomerID, RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt,
		Status: erasure.StatusRunning, Cases: []string{}, RunningCases: []string{}, Deliveries: []string{}, RunningDeliveries: []string{},
		Returns: []string{}, RunningReturns: []string{}, Disputes: []string{}, RunningDisputes: []string{}}
	return &erasureOutput{Status: http.StatusAccepted, Location: "/v1/erasures/" + e.ID, Body: res}, nil
}

// getErasure answers an erasure as far as it has come, or its result.
func (s *server) getErasure(ctx context.Context, in *ErasureIDParam) (*erasureOutput, error) {
	v, err := readFlow[erasure.Result](ctx, s, erasure.WorkflowID(in.ID), erasure.QueryErasure, "erasure "+in.ID)
	if err != nil {
		return nil, err
	}
	return &erasureOutput{Status: http.StatusOK, Body: v}, nil
}

// isAlreadyStarted reports that the workflow id was taken by a run that
// has ended: the erasure that key asked for is done already.
func isAlreadyStarted(err error) bool {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &started)
}
