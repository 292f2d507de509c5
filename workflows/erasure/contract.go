// Package erasure is the erasure of one customer's personal data on
// request: Erasure (erasure/<id>) tells every running case, delivery,
// return and dispute of the customer to drop the data from its state, pseudonymises them in
// the read model, deletes their evidence files in S3 except those under
// legal hold, and answers what it erased where. contract.go is what
// callers import; erasure.go is the workflow.
package erasure

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/vocab"
)

// WorkflowType is the registered name of Erasure; it never changes.
const WorkflowType = "Erasure"

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{WorkflowType: Erasure}

// WorkflowID is the workflow id of erasure id.
func WorkflowID(id string) string { return "erasure/" + id }

// QueryErasure answers the Result as far as the erasure has come.
const QueryErasure = "erasure"

// Names of the activities Erasure runs (activities.Erasure's methods).
const (
	// ActivityFindCustomerCases answers the ids of every case of a customer
	// in the read model (CustomerCases).
	ActivityFindCustomerCases = "FindCustomerCases"
	// ActivityEraseReadModel pseudonymises a customer's cases in the read
	// model (ReadModelInput), once the running ones have projected their
	// own erasure (ReadModelErasure).
	ActivityEraseReadModel = "EraseReadModel"
	// ActivityEraseEvidence deletes every version of a customer's evidence
	// files in S3 but those under legal hold (EvidenceErasure).
	ActivityEraseEvidence = "EraseEvidence"
)

// ErrCaseNotErased is the ApplicationError type of a running case that
// has not yet projected its erasure: the read-model step retries it.
const ErrCaseNotErased = "CaseNotErased"

// Input starts an erasure.
type Input struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	// RequestedBy is the actor who asked (role:name), recorded on every case.
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
}

// Validate refuses an input missing what an erasure needs.
func (in Input) Validate() error {
	var missing []string
	for _, f := range [...]struct{ name, value string }{{"id", in.ID}, {"customer_id", in.CustomerID}, {"requested_by", in.RequestedBy}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("erasure input lacks %s", strings.Join(missing, ", ")),
			"InvalidErasure", errors.New("invalid erasure input"))
	}
	return nil
}

// StartOptions answers the options that start erasure in: its id, the task
// queue, a summary of ids only and the customer's id as CustomerId. The
// same erasure id started twice is one erasure.
func StartOptions(in Input, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: WorkflowID(in.ID), TaskQueue: taskQueue,
		StaticSummary:         fmt.Sprintf("Erasure %s of customer %s", in.ID, in.CustomerID),
		TypedSearchAttributes: temporal.NewSearchAttributes(vocab.CustomerIDKey.ValueSet(in.CustomerID)),
	}
}

// CustomerCases answers ActivityFindCustomerCases: the customer's case
// ids and the ids of the deliveries, returns and disputes they are the
// buyer of.
type CustomerCases struct {
	CaseIDs     []string `json:"case_ids"`
	DeliveryIDs []string `json:"delivery_ids,omitempty"`
	ReturnIDs   []string `json:"return_ids,omitempty"`
	DisputeIDs  []string `json:"dispute_ids,omitempty"`
}

// ReadModelInput is what ActivityEraseReadModel erases: the customer's
// cases, those whose workflows took the erasure (Running: the step waits
// for their projection) and the others (Ended: the step records the
// erasure on their timelines itself).
type ReadModelInput struct {
	Erasure Input    `json:"erasure"`
	Running []string `json:"running"`
	Ended   []string `json:"ended"`
	// RunningDeliveries and EndedDeliveries are the same for the
	// customer's deliveries.
	RunningDeliveries []string `json:"running_deliveries,omitempty"`
	EndedDeliveries   []string `json:"ended_deliveries,omitempty"`
	// RunningReturns, EndedReturns, RunningDisputes and EndedDisputes are
	// the same for the customer's returns and disputes.
	RunningReturns  []string `json:"running_returns,omitempty"`
	EndedReturns    []string `json:"ended_returns,omitempty"`
	RunningDisputes []string `json:"running_disputes,omitempty"`
	EndedDisputes   []string `json:"ended_disputes,omitempty"`
}

// ReadModelErasure counts what ActivityEraseReadModel changed in Postgres:
// the cases erased (a running case's row by its own projection, the others
// by the step) and the rows of each other kind the step rewrote.
type ReadModelErasure struct {
	Cases           int `json:"cases"`
	TimelineEvents  int `json:"timeline_events"`
	Deliveries      int `json:"deliveries"`
	DeliveryEvents  int `json:"delivery_events"`
	Returns         int `json:"returns"`
	ReturnEvents    int `json:"return_events"`
	Disputes        int `json:"disputes"`
	DisputeEvents   int `json:"dispute_events"`
	EvidenceRecords int `json:"evidence_records"`
	InboundMessages int `json:"inbound_messages"`
	Notifications   int `json:"notifications"`
}

// HeldFile is an evidence file kept under legal hold (S3 Object Lock)
// until RetainUntil.
type HeldFile struct {
	CaseID      string    `json:"case_id"`
	Key         string    `json:"key"`
	RetainUntil time.Time `json:"retain_until"`
}

// EvidenceErasure answers ActivityEraseEvidence: the keys deleted (every
// version) and the files kept under legal hold.
type EvidenceErasure struct {
	Deleted []string   `json:"deleted"`
	Held    []HeldFile `json:"held"`
}

// Status of an erasure.
const (
	StatusRunning = "running"
	StatusErased  = "erased"
)

// Result is what an erasure erased where.
type Result struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customer_id"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	Status      string    `json:"status"`
	// Cases are every case of the customer; RunningCases those whose
	// workflows dropped the data from their state.
	Cases        []string `json:"cases"`
	RunningCases []string `json:"running_cases"`
	// Deliveries are those the customer is the buyer of; RunningDeliveries
	// those whose workflows dropped the data from their state.
	Deliveries        []string `json:"deliveries"`
	RunningDeliveries []string `json:"running_deliveries"`
	// Returns and Disputes are those the customer is the buyer of;
	// RunningReturns and RunningDisputes those whose workflows dropped the
	// data from their state.
	Returns         []string         `json:"returns"`
	RunningReturns  []string         `json:"running_returns"`
	Disputes        []string         `json:"disputes"`
	RunningDisputes []string         `json:"running_disputes"`
	ReadModel       ReadModelErasure `json:"read_model"`
	Evidence        EvidenceErasure  `json:"evidence"`
	FinishedAt      *time.Time       `json:"finished_at,omitempty"`
}
