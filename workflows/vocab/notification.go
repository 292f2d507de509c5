package vocab

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ActivityNotify is the activity that tells an audience about an event of
// a case or a delivery (activities.Notifier.Notify).
const ActivityNotify = "Notify"

// Notification asks the notifier to tell one audience about one event.
type Notification struct {
	// ID is the workflow id, the event's sequence number and the audience;
	// the channels use it to deliver at most once.
	ID string `json:"id"`
	// Event is the timeline event kind being told.
	Event string `json:"event"`
	// Audience is customer, assignee or team (Audiences).
	Audience string `json:"audience"`
	// Case is what the message may say about the case; for a delivery's
	// notification it holds the buyer as the customer, the linked case's
	// team, and the delivery's id as its id.
	Case NotificationCase `json:"case"`
	// Delivery, set for an account delivery's notifications, is what the
	// message may say about the delivery.
	Delivery *NotificationDelivery `json:"delivery,omitempty"`
	// Detail is the event's text: a reply, a resolution, the SLA target due.
	Detail string `json:"detail,omitempty"`
	// To, when set, is the customer address to write to instead of the
	// case customer's (the old address of a contact change).
	To string `json:"to,omitempty"`
}

// NotificationCase is what a message may say about the case.
type NotificationCase struct {
	ID              string   `json:"id"`
	Subject         string   `json:"subject"`
	Category        Category `json:"category"`
	Priority        Priority `json:"priority"`
	Status          string   `json:"status"`
	Team            Team     `json:"team"`
	Assignee        string   `json:"assignee,omitempty"`
	EscalationLevel int      `json:"escalation_level"`
	Customer        Customer `json:"customer"`
	// FirstResponseDue is when the customer can expect a first answer, while it is owed.
	FirstResponseDue *time.Time `json:"first_response_due,omitempty"`
	// SurveyUntil, set in the resolved notification, is when the case stops
	// taking a satisfaction answer: the survey link expires then.
	SurveyUntil *time.Time `json:"survey_until,omitempty"`
	// FollowsUp is the closed case this one continues, when it does.
	FollowsUp string `json:"follows_up,omitempty"`
}

// NotificationDelivery is what a message may say about an account delivery.
type NotificationDelivery struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	OrderID   string `json:"order_id"`
	SellerID  string `json:"seller_id"`
	Product   string `json:"product"`
	Status    string `json:"status"`
	// RecoveryInstructions say how the buyer secures and recovers the account.
	RecoveryInstructions string     `json:"recovery_instructions,omitempty"`
	ConfirmBy            *time.Time `json:"confirm_by,omitempty"`
	WarrantyEndsAt       *time.Time `json:"warranty_ends_at,omitempty"`
}

// notifyLocalTimeout bounds a notification's try in the workflow task: the
// update that caused it answers only once the task ends, so a slow or
// unreachable channel holds it this long at most before the activity takes
// over.
const notifyLocalTimeout = 2 * time.Second

// SendNotification runs the Notify activity for n and answers the error
// that ended its last attempt. With inTask it is first tried as a local
// activity in the workflow task that recorded the event, where it costs no
// billable action of its own; a try that fails for any reason but a
// refusal is handed to the activity with an hour of retries.
func SendNotification(ctx workflow.Context, n Notification, inTask bool) error {
	summary := fmt.Sprintf("tell %s: %s", n.Audience, n.Event)
	if inTask {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: notifyLocalTimeout,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
			Summary:             summary,
		})
		err := workflow.ExecuteLocalActivity(lctx, ActivityNotify, n).Get(ctx, nil)
		var refused *temporal.ApplicationError
		if err == nil || (errors.As(err, &refused) && refused.NonRetryable()) {
			return err
		}
		workflow.GetLogger(ctx).Warn("notification not sent in the workflow task; the activity takes over",
			"notification", n.ID, "error", err)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	})
	return workflow.ExecuteActivity(actx, ActivityNotify, n).Get(ctx, nil)
}
