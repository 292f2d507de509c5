package cases

import (
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// changeStaffHearCustomer is the workflow.GetVersion change id under which
// a customer's message tells the case's assignee and team.
const changeStaffHearCustomer = "staff-hear-customer"

// inboundMessage takes what an inbound channel tells the case (the
// customer-message signal). A signal cannot be refused: what may not act
// is only recorded. A message id the case has already seen changes nothing,
// so a mail delivered twice lands once.
func (c *supportCase) inboundMessage(ctx workflow.Context, in InboundMessage) {
	if in.MessageID != "" && c.hasMessage(in.MessageID) {
		return
	}
	about := []string{"channel", in.Channel, "message_id", in.MessageID, "from", in.From, "authentication", in.Authentication,
		"attachments", strings.Join(in.Attachments, ", ")}
	switch in.Kind {
	case InboundAutoReply:
		c.record(ctx, in.Actor, EventAutoReply, vocab.Payload(append(about, "body", in.Body, "reason", in.Reason)...))
		c.changed(ctx)
	case InboundBounce:
		c.record(ctx, vocab.SystemActor, EventNotifyFailed, vocab.Payload(append(about,
			"notification", in.Notification, "audience", vocab.AudienceCustomer, "error", "bounced: "+in.Reason)...))
		c.changed(ctx)
		c.notify(ctx, EventNotifyFailed, vocab.AudienceTeam, "an email to the customer bounced: "+in.Reason)
	case InboundUnverifiedSender:
		c.record(ctx, in.Actor, EventInternalNote, vocab.Payload(append(about, "body", in.Body, "review", in.Reason)...))
		c.changed(ctx)
	default:
		c.customerMessageFrom(ctx, in, about)
	}
}

// customerMessageFrom takes the customer's own message from an inbound
// channel: its attachments join the case's evidence, then it moves the case
// as a customer message does. An empty one, or one on a closed case, is
// only recorded.
func (c *supportCase) customerMessageFrom(ctx workflow.Context, in InboundMessage, about []string) {
	msg := MessageInput{Actor: in.Actor, Body: in.Body}
	if msg.Body == "" && len(in.Evidence) > 0 {
		msg.Body = "(" + strconv.Itoa(len(in.Evidence)) + " attachment(s), no text)"
	}
	if c.validateCustomerMessage(msg) != nil {
		why := "case is " + string(c.view.Status)
		if msg.Body == "" {
			why = "no new text"
		}
		c.record(ctx, in.Actor, EventCustomerMessage, vocab.Payload(append(about, "body", in.Body, "ignored", why)...))
		c.changed(ctx)
		return
	}
	for _, e := range in.Evidence {
		if e.Check() != nil || c.hasEvidence(e.SHA256) {
			continue
		}
		e.UploadedBy = in.Actor
		c.attachEvidence(ctx, in.Actor, e)
	}
	c.takeCustomerMessage(ctx, msg, about...)
	c.tellStaffOfCustomer(ctx, msg.Body)
}

// hasMessage reports whether the timeline holds an event of the message
// with this id.
func (c *supportCase) hasMessage(id string) bool {
	for _, e := range c.timeline {
		if e.Payload["message_id"] == id {
			return true
		}
	}
	return false
}

// tellStaffOfCustomer tells the assignee, when there is one, and the team
// that the customer wrote (under changeStaffHearCustomer).
func (c *supportCase) tellStaffOfCustomer(ctx workflow.Context, body string) {
	if !c.has(ctx, changeStaffHearCustomer) {
		return
	}
	if c.view.Assignee != "" {
		c.notify(ctx, EventCustomerMessage, vocab.AudienceAssignee, body)
	}
	c.notify(ctx, EventCustomerMessage, vocab.AudienceTeam, body)
}
