package vocab

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Typed search attributes that workflows keep current so operators can
// search cases in the Temporal Web UI and CLI. They hold ids, states and
// categories only, never what a customer wrote.
var (
	CaseStatusKey          = temporal.NewSearchAttributeKeyKeyword("CaseStatus")
	CasePriorityKey        = temporal.NewSearchAttributeKeyKeyword("CasePriority")
	CaseCategoryKey        = temporal.NewSearchAttributeKeyKeyword("CaseCategory")
	CaseTeamKey            = temporal.NewSearchAttributeKeyKeyword("CaseTeam")
	CaseAssigneeKey        = temporal.NewSearchAttributeKeyKeyword("CaseAssignee")
	CaseEscalationLevelKey = temporal.NewSearchAttributeKeyInt64("CaseEscalationLevel")
	SLADueAtKey            = temporal.NewSearchAttributeKeyTime("SLADueAt")
	SLABreachedKey         = temporal.NewSearchAttributeKeyBool("SLABreached")
	AccountIDKey           = temporal.NewSearchAttributeKeyKeyword("AccountId")
	OrderIDKey             = temporal.NewSearchAttributeKeyKeyword("OrderId")
	CustomerIDKey          = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	DeliveryStatusKey      = temporal.NewSearchAttributeKeyKeyword("DeliveryStatus")
	SellerIDKey            = temporal.NewSearchAttributeKeyKeyword("SellerId")
	WarrantyEndsAtKey      = temporal.NewSearchAttributeKeyTime("WarrantyEndsAt")
	// ReturnStatusKey and DisputeStatusKey hold one status each, as keyword
	// lists: SQL visibility (the dev server's SQLite, a Postgres cluster)
	// has ten keyword columns and the case and delivery use them all, while
	// a one-item list still answers ReturnStatus = 'shipped'.
	ReturnStatusKey  = temporal.NewSearchAttributeKeyKeywordList("ReturnStatus")
	DisputeStatusKey = temporal.NewSearchAttributeKeyKeywordList("DisputeStatus")
	// RespondByKey is when the party a dispute or return waits on must act.
	RespondByKey = temporal.NewSearchAttributeKeyTime("RespondBy")
	// VerificationStatusKey is a seller's identity-check status, as a
	// one-item keyword list for the same reason (the third and last list
	// SQL visibility allows).
	VerificationStatusKey = temporal.NewSearchAttributeKeyKeywordList("VerificationStatus")
	// PayoutHoldKey says a seller's payouts are held by this workflow.
	PayoutHoldKey = temporal.NewSearchAttributeKeyBool("PayoutHold")
)

// SearchAttribute names one custom search attribute and its indexed type,
// as the namespace must register it before any workflow upserts it.
type SearchAttribute struct {
	Name string
	Type enumspb.IndexedValueType
}

// SearchAttributes lists every custom search attribute Handoff's workflows
// use; the local stack and deployments register exactly these.
var SearchAttributes = []SearchAttribute{
	{CaseStatusKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{CasePriorityKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{CaseCategoryKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{CaseTeamKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{CaseAssigneeKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{CaseEscalationLevelKey.GetName(), enumspb.INDEXED_VALUE_TYPE_INT},
	{SLADueAtKey.GetName(), enumspb.INDEXED_VALUE_TYPE_DATETIME},
	{SLABreachedKey.GetName(), enumspb.INDEXED_VALUE_TYPE_BOOL},
	{AccountIDKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{OrderIDKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{CustomerIDKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{DeliveryStatusKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{SellerIDKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	{WarrantyEndsAtKey.GetName(), enumspb.INDEXED_VALUE_TYPE_DATETIME},
	{ReturnStatusKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST},
	{DisputeStatusKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST},
	{RespondByKey.GetName(), enumspb.INDEXED_VALUE_TYPE_DATETIME},
	{VerificationStatusKey.GetName(), enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST},
	{PayoutHoldKey.GetName(), enumspb.INDEXED_VALUE_TYPE_BOOL},
}

// SearchAttributeCacheTTL is how long a Temporal Server process may serve
// the search attributes it read last (the server refreshes its cache every
// minute), with a margin: attributes added now are served everywhere after
// it. A dev server refreshes on every read.
const SearchAttributeCacheTTL = 65 * time.Second

// AwaitSearchAttributeCaches waits SearchAttributeCacheTTL, or until ctx
// ends: after it, every server process serves the attributes added before.
func AwaitSearchAttributeCaches(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(SearchAttributeCacheTTL):
		return nil
	}
}

// RegisterSearchAttributes adds to namespace every attribute of
// SearchAttributes it lacks, so a deployment or the local stack can call it
// at every start. An attribute registered with another type is an error.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	_, err := AddMissingSearchAttributes(ctx, c, namespace)
	return err
}

// AddMissingSearchAttributes is RegisterSearchAttributes answering how many
// attributes it added: a server that caches search attributes (every one
// but a dev server) serves new ones only after its cache refreshes.
func AddMissingSearchAttributes(ctx context.Context, c client.Client, namespace string) (int, error) {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return 0, fmt.Errorf("list search attributes of %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, sa := range SearchAttributes {
		t, ok := have.GetCustomAttributes()[sa.Name]
		switch {
		case !ok:
			missing[sa.Name] = sa.Type
		case t != sa.Type:
			return 0, fmt.Errorf("search attribute %s is registered as %s, Handoff needs %s", sa.Name, t, sa.Type)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	if err != nil {
		return 0, fmt.Errorf("add search attributes to %s: %w", namespace, err)
	}
	return len(missing), nil
}
