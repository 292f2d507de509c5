package activities

import (
	"time"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// marketplaceEvent is the body of a marketplace webhook, in the Standard
// Webhooks shape: type, timestamp, data.
type marketplaceEvent struct {
	// Type is "case." and the event, such as case.opened.
	Type string `json:"type"`
	// Timestamp is when the workflow asked to tell it, the same on every retry.
	Timestamp time.Time            `json:"timestamp"`
	Data      marketplaceEventData `json:"data"`
}

// marketplaceEventData is what a marketplace event tells: the notification
// and the message its email carries.
type marketplaceEventData struct {
	NotificationID string                 `json:"notification_id"`
	Event          string                 `json:"event"`
	Audience       string                 `json:"audience"`
	Case           vocab.NotificationCase `json:"case"`
	Detail         string                 `json:"detail,omitempty"`
	SurveyURL      string                 `json:"survey_url,omitempty"`
	// Message is what the email says, for a backend that shows it in-app.
	Message marketplaceMessage `json:"message"`
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
// stamped at; only a resolution carries the survey link.
func (n *Notifier) marketplaceEvent(note vocab.Notification, msg message, at time.Time) marketplaceEvent {
	survey := ""
	if note.Event == cases.EventResolved {
		survey = surveyLink(n.surveyURL, note.Case.ID)
	}
	return marketplaceEvent{
		Type:      "case." + note.Event,
		Timestamp: at.UTC().Truncate(time.Millisecond),
		Data: marketplaceEventData{
			NotificationID: note.ID, Event: note.Event, Audience: note.Audience, Case: note.Case,
			Detail: note.Detail, SurveyURL: survey,
			Message: marketplaceMessage(msg),
		},
	}
}
