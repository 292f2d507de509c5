package activities

import (
	"time"

	"handoff/workflows/vocab"
)

// marketplaceEvent is the body of a marketplace webhook, in the Standard
// Webhooks shape: type, timestamp, data.
type marketplaceEvent struct {
	// Type is "case." and the event for a case, such as case.opened, and
	// "delivery." and the event for an account delivery, such as
	// delivery.delivery_problem_received.
	Type string `json:"type"`
	// Timestamp is when the workflow asked to tell it, the same on every retry.
	Timestamp time.Time            `json:"timestamp"`
	Data      marketplaceEventData `json:"data"`
}

// marketplaceEventData is what a marketplace event tells: the notification,
// its case or its delivery, and the message its email carries.
type marketplaceEventData struct {
	NotificationID string `json:"notification_id"`
	Event          string `json:"event"`
	Audience       string `json:"audience"`
	// Case is set for a case's event, Delivery for an account delivery's;
	// never both.
	Case      *vocab.NotificationCase `json:"case,omitempty"`
	Delivery  *marketplaceDelivery    `json:"delivery,omitempty"`
	Detail    string                  `json:"detail,omitempty"`
	SurveyURL string                  `json:"survey_url,omitempty"`
	// Message is what the email says, for a backend that shows it in-app.
	Message marketplaceMessage `json:"message"`
}

// marketplaceDelivery is an account delivery as the marketplace hears of
// it: its facts (the seller's id among them, so the marketplace can tell
// the seller) and the buyer.
type marketplaceDelivery struct {
	vocab.NotificationDelivery
	Buyer vocab.Customer `json:"buyer"`
}

// marketplaceMessage is a rendered message (message) as JSON; codeEvent
// carries it too.
type marketplaceMessage struct {
	Locale  string `json:"locale"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// marketplaceEvent answers the marketplace body of note, written as msg,
// stamped at; only a case's resolution to its customer carries the
// survey link.
func (n *Notifier) marketplaceEvent(note vocab.Notification, msg message, at time.Time) marketplaceEvent {
	data := marketplaceEventData{
		NotificationID: note.ID, Event: note.Event, Audience: note.Audience,
		Detail: note.Detail, Message: marketplaceMessage(msg),
	}
	kind := "case."
	if note.Delivery != nil {
		kind = "delivery."
		data.Delivery = &marketplaceDelivery{NotificationDelivery: *note.Delivery, Buyer: note.Case.Customer}
	} else {
		c := note.Case
		data.Case = &c
		// The survey link is the email's, token included (one signed for
		// the same moment reads the same), so a backend showing the message
		// in-app can link to the survey too.
		data.SurveyURL, _ = n.surveyLinks(note, at)
	}
	return marketplaceEvent{
		Type:      kind + note.Event,
		Timestamp: at.UTC().Truncate(time.Millisecond),
		Data:      data,
	}
}
