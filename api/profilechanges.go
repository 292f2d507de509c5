package main

import (
	"context"
	"net/http"

	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
)

// Profile changes: a case's account changes its email or phone (verified
// by code, announced to the old address, applied after a cool-down) or is
// merged into another account (approved by account management).

type startProfileChangeInput struct {
	IdempotencyParam
	Body struct {
		CaseID string `json:"case_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The case whose account changes."`
		Kind   string `json:"kind" enum:"email,phone,merge"`
		Value  string `json:"value,omitempty" maxLength:"320" doc:"The new email, or phone in E.164 form; for email and phone."`
		IntoID string `json:"into_account_id,omitempty" maxLength:"64" doc:"The account to merge into; for merge."`
	}
}

type profileChangeStartBody struct {
	CaseID        string            `json:"case_id"`
	ProfileChange cases.AccountFlow `json:"profile_change"`
}

type profileChangeStartOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     profileChangeStartBody
}

// startProfileChange starts a profile change on a case's account.
func (s *server) startProfileChange(ctx context.Context, in *startProfileChangeInput) (*profileChangeStartOutput, error) {
	out, err := s.act(ctx, in.Body.CaseID, in.IdempotencyKey, cases.UpdateRequestProfileChange, cases.ProfileChangeRequest{
		Actor: callerFrom(ctx).actor(), Kind: in.Body.Kind, Value: in.Body.Value, IntoID: in.Body.IntoID})
	if err != nil {
		return nil, err
	}
	pc := out.Body.ProfileChange
	if pc == nil {
		return nil, newProblem(http.StatusServiceUnavailable, "the profile change did not start; retry with the same Idempotency-Key")
	}
	return &profileChangeStartOutput{Status: http.StatusCreated, Location: "/v1/profile-changes/" + pc.ID,
		Body: profileChangeStartBody{CaseID: in.Body.CaseID, ProfileChange: *pc}}, nil
}

// ProfileChangeIDParam is a profile change id in a path.
type ProfileChangeIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"80" pattern:"^[A-Za-z0-9_-]+$" doc:"The profile change id."`
}

type profileChangeOutput struct {
	Body accountflows.ProfileChangeView
}

// getProfileChange answers a profile change as its workflow sees it.
func (s *server) getProfileChange(ctx context.Context, in *ProfileChangeIDParam) (*profileChangeOutput, error) {
	out := &profileChangeOutput{}
	if err := s.queryFlow(ctx, accountflows.ProfileChangeWorkflowID(in.ID), accountflows.QueryProfileChange, &out.Body); err != nil {
		return nil, s.flowError(ctx, accountflows.ProfileChangeWorkflowID(in.ID), "profile change "+in.ID, err)
	}
	return out, nil
}

type profileVerifyInput struct {
	ProfileChangeIDParam
	IdempotencyParam
	Body struct {
		Code string `json:"code" minLength:"1" maxLength:"20" pattern:"^[0-9 -]+$" doc:"The code sent to the new contact."`
	}
}

// verifyProfileChange checks the code sent to the new contact; like a
// recovery's, a wrong code answers 200 with verified false.
func (s *server) verifyProfileChange(ctx context.Context, in *profileVerifyInput) (*verifyOutput, error) {
	return s.verifyCode(ctx, accountflows.ProfileChangeWorkflowID(in.ID), "profile change "+in.ID, in.IdempotencyKey, in.Body.Code)
}

type profileCancelInput struct {
	ProfileChangeIDParam
	IdempotencyParam
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why; a cancelled email or phone change opens a security case."`
	}
}

// cancelProfileChange stops a change before it applies.
func (s *server) cancelProfileChange(ctx context.Context, in *profileCancelInput) (*profileChangeOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	out := &profileChangeOutput{}
	if err := s.runUpdate(ctx, accountflows.ProfileChangeWorkflowID(in.ID), accountflows.UpdateCancelProfileChange, scopedKey(ctx, in.IdempotencyKey),
		accountflows.CancelInput{Actor: callerFrom(ctx).actor(), Reason: in.Body.Reason}, &out.Body); err != nil {
		return nil, s.flowError(ctx, accountflows.ProfileChangeWorkflowID(in.ID), "profile change "+in.ID, err)
	}
	return out, nil
}

type profileApproveInput struct {
	ProfileChangeIDParam
	IdempotencyParam
}

// approveProfileChange approves a merge, which then applies once.
func (s *server) approveProfileChange(ctx context.Context, in *profileApproveInput) (*profileChangeOutput, error) {
	out := &profileChangeOutput{}
	if err := s.runUpdate(ctx, accountflows.ProfileChangeWorkflowID(in.ID), accountflows.UpdateApproveMerge, scopedKey(ctx, in.IdempotencyKey),
		accountflows.ApproveInput{Actor: callerFrom(ctx).actor()}, &out.Body); err != nil {
		return nil, s.flowError(ctx, accountflows.ProfileChangeWorkflowID(in.ID), "profile change "+in.ID, err)
	}
	return out, nil
}
