package vocab

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Error types of refused actions, stable across the Temporal boundary; the
// API maps them to status codes.
const (
	// ErrInvalidTransition: the action is not allowed in the workflow's status (409).
	ErrInvalidTransition = "InvalidTransition"
	// ErrInvalidArgument: a field of the action is missing or malformed (422).
	ErrInvalidArgument = "InvalidArgument"
	// ErrMissingHandoffContext: an escalation lacks what the target team needs (422).
	ErrMissingHandoffContext = "MissingHandoffContext"
	// ErrPermissionDenied: the actor's team does not own the case (403).
	ErrPermissionDenied = "PermissionDenied"
)

// InvalidTransition refuses action because the case is in state: the
// message names it ("cannot reopen: the case is new").
func InvalidTransition(action, state string) error { return Refuse(action, "case", state) }

// Refuse refuses action because what (a case, a delivery) is in state:
// "cannot deliver: the delivery is retired".
func Refuse(action, what, state string) error {
	return temporal.NewApplicationError(fmt.Sprintf("cannot %s: the %s is %s", action, what, state), ErrInvalidTransition)
}

// InvalidArgument refuses a field; msg starts with the field's name.
func InvalidArgument(msg string) error {
	return temporal.NewApplicationError(msg, ErrInvalidArgument)
}

// Required refuses an empty or blank value of field.
func Required(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return InvalidArgument(field + ": must not be empty")
	}
	return nil
}
