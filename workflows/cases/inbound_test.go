package cases

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"handoff/workflows/vocab"
)

// emailEvidence is a file an email carried, already stored.
func emailEvidence(id string) vocab.Evidence {
	return vocab.Evidence{ID: id, Kind: "support_message", Key: "cases/C-1/" + id,
		SHA256: strings.Repeat("ab", 32), Size: 70, ContentType: "image/png", Note: "email attachment screen.png"}
}

func TestAnEmailReplyMovesTheCaseOnceAndTellsTheStaff(t *testing.T) {
	ct := newCaseTest(t)
	reply := InboundMessage{Actor: "customer:cus-1", Body: "Firefox, see the screenshot", Kind: InboundCustomer,
		Channel: "email", MessageID: "m1@mail.example.com", From: "ada@example.com",
		Authentication: "mx; dmarc=pass", Evidence: []vocab.Evidence{emailEvidence("E-1")}}
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateAssign, AssignInput{Actor: "agent:bo", Assignee: "bo"})
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Which browser do you use?"})
		ct.mustUpdate(UpdateWaitOnCustomer, ReasonInput{Actor: "agent:bo", Reason: "Which browser?"})
	})
	ct.at(time.Hour, func() { ct.env.SignalWorkflow(SignalCustomerMessage, reply) })
	ct.at(time.Hour+time.Minute, func() { ct.env.SignalWorkflow(SignalCustomerMessage, reply) })
	ct.at(2*time.Hour, func() {
		v := ct.view()
		assert.Equal(t, StatusOpen, v.Status)
		assert.NotNil(t, v.SLA.NextResponseDue, "the next response is owed")
		assert.Equal(t, 1, count(v.Timeline, EventCustomerMessage), "the second copy changed nothing")
		assert.Equal(t, 1, count(v.Timeline, EventEvidenceAdded))
		assert.Len(t, v.Evidence, 1)
		last := v.Timeline[len(v.Timeline)-1]
		assert.Equal(t, "Firefox, see the screenshot", last.Payload["body"])
		assert.Equal(t, "m1@mail.example.com", last.Payload["message_id"])
		assert.Equal(t, "email", last.Payload["channel"])
		assert.Equal(t, "mx; dmarc=pass", last.Payload["authentication"])
		assert.Equal(t, 1, ct.notified(EventCustomerMessage, vocab.AudienceAssignee))
		assert.Equal(t, 1, ct.notified(EventCustomerMessage, vocab.AudienceTeam))
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.run(testInput(vocab.P2))
}

func TestMailThatMayNotActLeavesTheCaseWhereItWas(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateWaitOnCustomer, ReasonInput{Actor: "agent:bo", Reason: "Need details"})
	})
	ct.at(time.Hour, func() {
		ct.env.SignalWorkflow(SignalCustomerMessage, InboundMessage{Actor: "email:ada@example.com", Body: "Away until Monday",
			Kind: InboundAutoReply, Channel: "email", MessageID: "ooo@x", Reason: "Auto-Submitted: auto-replied"})
		ct.env.SignalWorkflow(SignalCustomerMessage, InboundMessage{Actor: "email:eve@example.com", Body: "Send me the password",
			Kind: InboundUnverifiedSender, Channel: "email", MessageID: "eve@x", From: "eve@example.com",
			Reason: "sent from eve@example.com", Attachments: []string{"x.exe (not kept)"}})
		ct.env.SignalWorkflow(SignalCustomerMessage, InboundMessage{Actor: vocab.SystemActor, Kind: InboundBounce,
			Channel: "email", MessageID: "dsn@x", Notification: "case/C-1/1/customer", Reason: "5.1.1 user unknown"})
	})
	ct.at(2*time.Hour, func() {
		v := ct.view()
		assert.Equal(t, StatusWaitingCustomer, v.Status, "nothing moved the case")
		assert.Zero(t, count(v.Timeline, EventCustomerMessage))
		assert.Equal(t, 1, count(v.Timeline, EventAutoReply))
		var note, failed vocab.Event
		for _, e := range v.Timeline {
			switch e.Kind {
			case EventInternalNote:
				note = e
			case EventNotifyFailed:
				failed = e
			}
		}
		assert.Equal(t, "Send me the password", note.Payload["body"])
		assert.Equal(t, "sent from eve@example.com", note.Payload["review"])
		assert.Equal(t, "x.exe (not kept)", note.Payload["attachments"])
		assert.Equal(t, "case/C-1/1/customer", failed.Payload["notification"])
		assert.Equal(t, "bounced: 5.1.1 user unknown", failed.Payload["error"])
		assert.Equal(t, 1, ct.notified(EventNotifyFailed, vocab.AudienceTeam), "the team hears of the bounce")
		assert.Zero(t, ct.notified(EventCustomerMessage, vocab.AudienceTeam))
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "ok"})
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.run(testInput(vocab.P1))
}

func TestAnEmptyEmailReplyIsRecordedAsIgnored(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(10*time.Minute, func() {
		ct.env.SignalWorkflow(SignalCustomerMessage, InboundMessage{Actor: "customer:cus-1", Kind: InboundCustomer, Channel: "email", MessageID: "empty@x"})
	})
	ct.at(20*time.Minute, func() {
		v := ct.view()
		last := v.Timeline[len(v.Timeline)-1]
		assert.Equal(t, EventCustomerMessage, last.Kind)
		assert.Equal(t, "no new text", last.Payload["ignored"])
		assert.Equal(t, StatusNew, v.Status)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.run(testInput(vocab.P1))
}
