package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/disputes"
)

// enumOf answers the values the enum tag of field Body.<name> of T allows.
func enumOf[T any](t *testing.T, name string) []string {
	t.Helper()
	body, ok := reflect.TypeFor[T]().FieldByName("Body")
	if !ok {
		t.Fatalf("%s has no Body", reflect.TypeFor[T]())
	}
	f, ok := body.Type.FieldByName(name)
	if !ok {
		t.Fatalf("%s.Body has no %s", reflect.TypeFor[T](), name)
	}
	return strings.Split(f.Tag.Get("enum"), ",")
}

// The enums the API documents and validates are spelled in struct tags;
// they must be the contracts' values, or a request the workflow takes would
// be refused (or one it refuses let through).
func TestRequestEnumsAreTheContractsValues(t *testing.T) {
	assert.Equal(t, []string{accountflows.DecisionConfirmed, accountflows.DecisionFalseAlarm}, enumOf[decisionInput](t, "Decision"))
	assert.Equal(t, accountflows.SignalKinds, enumOf[signalInput](t, "Kind"))
	assert.Equal(t, accountflows.ProfileChangeKinds, enumOf[startProfileChangeInput](t, "Kind"))
	assert.Equal(t, []string{disputes.RespondAccept, disputes.RespondOfferPartial, disputes.RespondContest}, enumOf[sellerResponseInput](t, "Kind"))
	assert.Equal(t, []string{disputes.AnswerAcceptOffer, disputes.AnswerDeclineOffer}, enumOf[buyerAnswerInput](t, "Answer"))
	assert.Equal(t, []string{disputes.PartyBuyer, disputes.PartySeller}, enumOf[appealDisputeInput](t, "Party"))
	var roles []string
	for _, r := range store.Roles {
		roles = append(roles, string(r))
	}
	assert.Equal(t, roles, enumOf[createKeyInput](t, "Role"))
}
