package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"handoff/codes"
	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/vocab"
)

// minCodeSecret is the shortest VERIFICATION_CODE_SECRET the notifier
// takes, as long as the HMAC-SHA256 output.
const minCodeSecret = 32

// ErrTypeCodeNotSendable marks a code request no retry can send: an
// unknown purpose or channel, no recipient, no validity, or a phone code
// while the marketplace webhook is off.
const ErrTypeCodeNotSendable = "CodeNotSendable"

// Code channels of accountflows.CodeRequest.Channel.
const (
	// CodeChannelEmail mails the code to the address.
	CodeChannelEmail = "email"
	// CodeChannelPhone hands the code and the number to the marketplace
	// webhook: the marketplace owns text messages.
	CodeChannelPhone = "phone"
)

// SendCode sends the one-time code of req to req.To and answers the digest
// a typed code must match (activity accountflows.ActivitySendCode). The code
// is derived from req.ID with the code secret and never stored, logged or
// answered; the digest is all the workflow keeps.
//
// It is one delivery with the notification id req.ID, claimed and recorded
// like Notify's: a retried activity finds it sent and sends nothing more,
// and an attempt that resends after a crash sends the same code under the
// same Message-ID or webhook-id. An email code goes to the address; a
// phone code goes as a signed "code.<event>" webhook carrying the number
// and the code to MARKETPLACE_WEBHOOK_URL, and fails without retry while
// that is empty.
func (n *Notifier) SendCode(ctx context.Context, req accountflows.CodeRequest) (accountflows.CodeSent, error) {
	event, err := checkCodeRequest(req)
	if err == nil && req.Channel == CodeChannelPhone && n.marketplaceURL == "" {
		err = errors.New("a phone code goes through the marketplace webhook, and MARKETPLACE_WEBHOOK_URL is empty")
	}
	if err != nil {
		return accountflows.CodeSent{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("code %s: %v", req.ID, err), ErrTypeCodeNotSendable, nil)
	}
	code := codes.Code(n.codeSecret, req.ID)
	note := vocab.Notification{
		ID: req.ID, Event: event, Audience: vocab.AudienceCustomer, To: req.To,
		Case: vocab.NotificationCase{ID: req.CaseID, Customer: vocab.Customer{Locale: req.Locale}},
	}
	data := messageData{
		NotificationID: req.ID, Audience: note.Audience, Case: note.Case,
		Code: code, ValidMinutes: validMinutes(req.ValidFor),
	}
	msg, err := n.templates.render(event, req.Locale, data)
	if err != nil {
		return accountflows.CodeSent{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("code %s: %v", req.ID, err), ErrTypeNotificationTemplate, err)
	}
	at := activity.GetInfo(ctx).ScheduledTime
	if at.IsZero() {
		at = time.Now()
	}
	var d delivery
	if req.Channel == CodeChannelPhone {
		d, err = n.phoneCodeDelivery(req, event, code, msg, at)
	} else {
		d, err = n.delivery(note, ChannelEmail, msg, at)
	}
	if err == nil {
		send := d.send
		// A receiver may quote the request in its error, and the error
		// ends up in the delivery log and the workflow's history.
		d.send = func(ctx context.Context) error { return withoutCode(send(ctx), code) }
		err = n.deliver(ctx, d)
	}
	if err != nil {
		return accountflows.CodeSent{}, notifyError(req.ID, []error{fmt.Errorf("%s: %w", d.record.Channel, withoutCode(err, code))})
	}
	return accountflows.CodeSent{Digest: codes.Digest(n.codeSecret, req.ID, code)}, nil
}

// checkCodeRequest answers the event of req's message, or what makes req
// unsendable.
func checkCodeRequest(req accountflows.CodeRequest) (string, error) {
	var problems []string
	event := ""
	switch req.Purpose {
	case accountflows.CodePurposeRecovery:
		event = EventRecoveryCode
	case accountflows.CodePurposeContactChange:
		event = EventContactCode
	default:
		problems = append(problems, fmt.Sprintf("purpose: want %s or %s, got %q",
			accountflows.CodePurposeRecovery, accountflows.CodePurposeContactChange, req.Purpose))
	}
	if req.Channel != CodeChannelEmail && req.Channel != CodeChannelPhone {
		problems = append(problems, fmt.Sprintf("channel: want %s or %s, got %q", CodeChannelEmail, CodeChannelPhone, req.Channel))
	}
	if req.ID == "" {
		problems = append(problems, "id: must not be empty")
	}
	if strings.TrimSpace(req.To) == "" {
		problems = append(problems, "to: must not be empty")
	}
	if req.ValidFor <= 0 {
		problems = append(problems, "valid_for: must be positive")
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return event, nil
}

// validMinutes answers d in whole minutes for people, rounded down so a
// message does not promise more time than the workflow gives, and at
// least one.
func validMinutes(d time.Duration) int {
	return max(int(d/time.Minute), 1)
}

// codeEvent is the body of a phone code's marketplace webhook, in the
// Standard Webhooks shape of the case events.
type codeEvent struct {
	// Type is "code." and the event: code.recovery_code, code.contact_code.
	Type string `json:"type"`
	// Timestamp is when the workflow asked for the code, the same on every retry.
	Timestamp time.Time     `json:"timestamp"`
	Data      codeEventData `json:"data"`
}

type codeEventData struct {
	// CodeID is the code's id, the workflow's CodeRequest.ID.
	CodeID  string `json:"code_id"`
	Event   string `json:"event"`
	Purpose string `json:"purpose"`
	CaseID  string `json:"case_id"`
	// Channel is phone; Phone the number to text the code to.
	Channel      string `json:"channel"`
	Phone        string `json:"phone"`
	Code         string `json:"code"`
	ValidMinutes int    `json:"valid_minutes"`
	// Message is what the email would say, in the customer's language.
	Message marketplaceMessage `json:"message"`
}

// phoneCodeDelivery prepares a phone code as a marketplace webhook: the
// delivery id and its record are those Notify would use for the channel,
// the body carries the number and the code.
func (n *Notifier) phoneCodeDelivery(req accountflows.CodeRequest, event, code string, msg message, at time.Time) (delivery, error) {
	d := delivery{record: store.Delivery{NotificationID: req.ID, Channel: ChannelMarketplaceWebhook,
		CaseID: req.CaseID, Event: event, Target: redactURL(n.marketplaceURL)}}
	body, err := json.Marshal(codeEvent{
		Type:      "code." + event,
		Timestamp: at.UTC().Truncate(time.Millisecond),
		Data: codeEventData{
			CodeID: req.ID, Event: event, Purpose: req.Purpose, CaseID: req.CaseID,
			Channel: CodeChannelPhone, Phone: req.To, Code: code, ValidMinutes: validMinutes(req.ValidFor),
			Message: marketplaceMessage(msg),
		},
	})
	if err != nil {
		return d, permanent(err)
	}
	target, id := n.marketplaceURL, webhookID(req.ID+"/"+ChannelMarketplaceWebhook)
	d.send = func(ctx context.Context) error { return n.webhooks.post(ctx, target, id, body) }
	return d, nil
}

// withoutCode answers err with every occurrence of code masked, keeping
// whether and when it may be retried.
func withoutCode(err error, code string) error {
	if err == nil || code == "" || !strings.Contains(err.Error(), code) {
		return err
	}
	masked := errors.New(strings.ReplaceAll(err.Error(), code, strings.Repeat("*", len(code))))
	if isPermanent(err) {
		return permanent(masked)
	}
	return retryAfter(masked, retryDelay(err))
}
