package activities

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
)

// Notification events that are no timeline kind of the case workflow: the
// account workflows ask the case to send them.
const (
	// EventSecurityLock tells a customer their account was locked to protect it.
	EventSecurityLock = accountflows.NoticeSecurityLock
	// EventRecoverySteps tells a customer how to get their account back.
	EventRecoverySteps = accountflows.NoticeRecoverySteps
	// EventContactChangeRequested tells a customer, at the address being
	// replaced, that a change of their contact details was asked for and
	// how to stop it before it applies.
	EventContactChangeRequested = accountflows.NoticeContactChangeRequested
	// EventContactChanged tells a customer the change of their contact
	// details was applied.
	EventContactChanged = accountflows.NoticeContactChanged
)

// NotifiedEvents lists every event a notification can be about: the
// timeline kinds of a case that are told to someone, then the account
// events, then the account delivery's (deliveries.NotifiedEvents). The
// routes file must list each of them and each has templates.
var NotifiedEvents = []string{
	cases.EventOpened, cases.EventAgentReply, cases.EventWaitingCustomer,
	cases.EventCustomerReminder, cases.EventEscalated, cases.EventResolved,
	cases.EventClosed, cases.EventSLAWarning, cases.EventSLABreach,
	cases.EventNotifyFailed, cases.EventCustomerMessage, EventSecurityLock, EventRecoverySteps,
	accountflows.EventAccountLocked, accountflows.EventAccountUnlocked, accountflows.EventRecoveryExpired,
	EventContactChangeRequested, EventContactChanged,
	deliveries.EventDelivered, deliveries.EventReminder, deliveries.EventConfirmedByDefault,
	deliveries.EventProblemReported, deliveries.EventRecovered, deliveries.EventWarrantyEnding,
	deliveries.EventRetired,
	returns.NoticeLabel, returns.EventReminder, returns.EventNotShipped, returns.EventRefunded,
	returns.NoticeCredited, returns.EventRejected, returns.EventIneligible,
	disputes.NoticeSeller, disputes.NoticeSellerLate, disputes.NoticeOffer, disputes.NoticeDecided,
	disputes.NoticeAppealOpen, disputes.NoticeReviewNeeded,
	sellers.NoticeStepReminder, sellers.NoticeVerified, sellers.NoticeVerificationFailed,
}

// The events of the messages SendCode sends. A code goes to the one
// contact the workflow names and nowhere else, so no route names them
// (they are not in NotifiedEvents), but they have templates like the rest.
const (
	// EventRecoveryCode carries the one-time code of an account recovery.
	EventRecoveryCode = "recovery_code"
	// EventContactCode carries the one-time code confirming a new contact
	// address, sent to that new address.
	EventContactCode = "contact_code"
)

// CodeEvents lists the events SendCode sends.
var CodeEvents = []string{EventRecoveryCode, EventContactCode}

// templatedEvents lists every event that must have templates.
func templatedEvents() []string { return slices.Concat(NotifiedEvents, CodeEvents) }

// fallbackLocale is the locale every event must have a template in; the
// others fall back to it.
const fallbackLocale = "en"

// templateFiles holds the message templates: templates/<locale>/<event>.txt.tmpl
// (text/template; it defines "subject" and its body is the text part) and
// templates/<locale>/<event>.html.tmpl (html/template; it defines
// "content", shown inside the locale's _layout.html.tmpl). Files starting
// with "_" are a locale's partials: _footer.txt.tmpl defines "footer" for
// the text parts. Both partials tell a delivery's message (Delivery set)
// from a case's: its footer gives the delivery reference, not a case
// number. ("all:" because embed leaves out names starting with "_".)
//
//go:embed all:templates
var templateFiles embed.FS

// messageData is what a template sees.
type messageData struct {
	// NotificationID is the workflow's notification id.
	NotificationID string
	// Event is the timeline event told; Audience is customer, assignee or team.
	Event    string
	Audience string
	// Locale is the language the message is written in (after fallback).
	Locale string
	// Case is the case told about; for an account delivery's message it
	// holds the delivery's id and the buyer as the customer.
	Case vocab.NotificationCase
	// Delivery is the account delivery told about, nil in a case's message
	// and never nil in one of deliveries.NotifiedEvents (render sees to it).
	Delivery *vocab.NotificationDelivery
	// Detail is the event's text (a reply, a resolution, a reason); text
	// templates show it as is, HTML templates escape it.
	Detail string
	// SurveyURL links to the case's CSAT survey with a signed token, and
	// SurveyRatings to it with each rating chosen; set only in a resolved
	// case's message to its customer.
	SurveyURL     string
	SurveyRatings []ratingLink
	// DeliveryURL links to an account delivery's page with a signed token,
	// where the buyer confirms it or reports a problem; set only in a
	// delivery's message to its buyer.
	DeliveryURL string
	// FirstResponseDue is when the first answer is due, nil when the
	// notification does not say (and in a delivery's message).
	FirstResponseDue *time.Time
	// Code is the one-time code and ValidMinutes how long it lasts, set
	// only in the messages SendCode sends (CodeEvents).
	Code         string
	ValidMinutes int
	// Subject is the rendered subject, for the HTML title.
	Subject string
}

// ratingLink is the survey link that opens with one rating chosen.
type ratingLink struct {
	Rating int
	URL    string
}

// message is a rendered notification.
type message struct {
	Locale  string
	Subject string
	Text    string
	HTML    string
}

// eventTemplates is one event in one locale.
type eventTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templateBook holds every compiled template by locale and event.
type templateBook struct {
	byLocale map[string]map[string]eventTemplates
}

var templateName = regexp.MustCompile(`^([a-z]{2}(?:-[A-Z]{2})?)/([a-z_]+)\.(txt|html)\.tmpl$`)

// loadTemplates compiles every template under root in fsys and checks them
// all: each file names a known event, a locale's event has both a text and
// an HTML part, every event has its fallback-locale templates, and each
// template renders sample data with and without its optional fields. Every
// problem is reported at once, so a bad file stops the worker at start.
func loadTemplates(fsys fs.FS, root string) (*templateBook, error) {
	sub, err := fs.Sub(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	// locale -> event -> format -> file present
	found := map[string]map[string]map[string]bool{}
	events := templatedEvents()
	var errs []error
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			return err
		}
		m := templateName.FindStringSubmatch(p)
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("%s/%s: want <locale>/<event>.txt.tmpl or <locale>/<event>.html.tmpl", root, p))
		case strings.HasPrefix(path.Base(p), "_"):
			if base := path.Base(p); base != "_footer.txt.tmpl" && base != "_layout.html.tmpl" {
				errs = append(errs, fmt.Errorf("%s/%s: the partials are _footer.txt.tmpl and _layout.html.tmpl", root, p))
			}
		case !slices.Contains(events, m[2]):
			errs = append(errs, fmt.Errorf("%s/%s: no event is named %q (want one of %s)", root, p, m[2], strings.Join(events, ", ")))
		default:
			if found[m[1]] == nil {
				found[m[1]] = map[string]map[string]bool{}
			}
			if found[m[1]][m[2]] == nil {
				found[m[1]][m[2]] = map[string]bool{}
			}
			found[m[1]][m[2]][m[3]] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, event := range events {
		if formats := found[fallbackLocale][event]; !formats["txt"] || !formats["html"] {
			errs = append(errs, fmt.Errorf("%s/%s/%s: the %s text and HTML templates are both required (other locales fall back to them)", root, fallbackLocale, event, fallbackLocale))
		}
	}
	book := &templateBook{byLocale: map[string]map[string]eventTemplates{}}
	for _, locale := range slices.Sorted(maps.Keys(found)) {
		for _, event := range slices.Sorted(maps.Keys(found[locale])) {
			formats := found[locale][event]
			if !formats["txt"] || !formats["html"] {
				have, lack := "txt", "html"
				if formats["html"] {
					have, lack = "html", "txt"
				}
				errs = append(errs, fmt.Errorf("%s/%s/%s.%s.tmpl: has no %s.%s.tmpl beside it", root, locale, event, have, event, lack))
				continue
			}
			et, err := compileEvent(sub, root, locale, event)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if book.byLocale[locale] == nil {
				book.byLocale[locale] = map[string]eventTemplates{}
			}
			book.byLocale[locale][event] = et
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Render every template with sample data, so a field that does not
	// exist or a call that fails shows now and not in a customer's mail.
	for locale, events := range book.byLocale {
		for event := range events {
			for _, data := range sampleData(event, locale) {
				if _, err := book.render(event, locale, data); err != nil {
					errs = append(errs, fmt.Errorf("%s/%s/%s: %w", root, locale, event, err))
					break
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return book, nil
}

// compileEvent parses one event's text and HTML templates with its locale's
// partials (the fallback locale's when the locale has none).
func compileEvent(fsys fs.FS, root, locale, event string) (eventTemplates, error) {
	funcs := templateFuncs(locale)
	partial := func(name string) (string, bool) {
		for _, l := range []string{locale, fallbackLocale} {
			p := l + "/" + name
			if _, err := fs.Stat(fsys, p); err == nil {
				return p, true
			}
		}
		return "", false
	}
	where := func(format string) string { return fmt.Sprintf("%s/%s/%s.%s.tmpl", root, locale, event, format) }

	textFiles := []string{locale + "/" + event + ".txt.tmpl"}
	if p, ok := partial("_footer.txt.tmpl"); ok {
		textFiles = append(textFiles, p)
	}
	text, err := texttemplate.New(path.Base(textFiles[0])).Funcs(texttemplate.FuncMap(funcs)).ParseFS(fsys, textFiles...)
	if err != nil {
		return eventTemplates{}, fmt.Errorf("%s: %w", where("txt"), err)
	}
	if text.Lookup("subject") == nil {
		return eventTemplates{}, fmt.Errorf(`%s: defines no "subject"`, where("txt"))
	}

	layout, ok := partial("_layout.html.tmpl")
	if !ok {
		return eventTemplates{}, fmt.Errorf("%s: no _layout.html.tmpl in %s or %s", where("html"), locale, fallbackLocale)
	}
	html, err := htmltemplate.New(path.Base(layout)).Funcs(htmltemplate.FuncMap(funcs)).ParseFS(fsys, layout, locale+"/"+event+".html.tmpl")
	if err != nil {
		return eventTemplates{}, fmt.Errorf("%s: %w", where("html"), err)
	}
	if html.Lookup("content") == nil {
		return eventTemplates{}, fmt.Errorf(`%s: defines no "content"`, where("html"))
	}
	return eventTemplates{text: text, html: html}, nil
}

// lookup answers the templates of event in locale, else in the fallback
// locale, with the locale they are written in.
func (b *templateBook) lookup(event, locale string) (eventTemplates, string, bool) {
	if et, ok := b.byLocale[locale][event]; ok {
		return et, locale, true
	}
	et, ok := b.byLocale[fallbackLocale][event]
	return et, fallbackLocale, ok
}

// render writes the message of event for locale (falling back to the
// fallback locale), filling data.Locale and data.Subject, and for an
// account delivery's event data.Delivery when it is nil.
func (b *templateBook) render(event, locale string, data messageData) (message, error) {
	et, used, ok := b.lookup(event, locale)
	if !ok {
		return message{}, fmt.Errorf("no template for event %q", event)
	}
	data.Event, data.Locale = event, used
	if data.Delivery == nil && slices.Contains(deliveries.NotifiedEvents, event) {
		// A delivery's event told without its facts still reads as a
		// delivery's, and its templates never meet a nil Delivery.
		data.Delivery = &vocab.NotificationDelivery{ID: data.Case.ID, Status: data.Case.Status}
	}
	var subject, text, html bytes.Buffer
	if err := et.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return message{}, fmt.Errorf("subject: %w", err)
	}
	data.Subject = strings.Join(strings.Fields(subject.String()), " ")
	if data.Subject == "" {
		return message{}, errors.New("subject: renders empty")
	}
	if err := et.text.Execute(&text, data); err != nil {
		return message{}, fmt.Errorf("text: %w", err)
	}
	if err := et.html.Execute(&html, data); err != nil {
		return message{}, fmt.Errorf("html: %w", err)
	}
	return message{Locale: used, Subject: data.Subject, Text: tidyText(text.String()), HTML: html.String()}, nil
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidyText trims the blank lines that template actions leave, keeping
// paragraphs one empty line apart.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")) + "\n"
}

// sampleData is what loadTemplates renders each template with: every
// optional field set, then every optional field empty.
func sampleData(event, locale string) []messageData {
	due := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	full := messageData{
		NotificationID: "case/C-SAMPLE/3/" + vocab.AudienceCustomer, Event: event, Audience: vocab.AudienceCustomer, Locale: locale,
		Case: vocab.NotificationCase{
			ID: "C-SAMPLE", Subject: "Sample subject", Category: vocab.CategoryLoginFailure,
			Priority: vocab.P2, Status: string(cases.StatusOpen), Team: vocab.TeamTier1Support,
			Assignee: "bo", EscalationLevel: 1,
			Customer: vocab.Customer{ID: "cus-1", Email: "ada@example.com", Name: "Ada", Locale: locale},
		},
		Detail: "Sample detail", SurveyURL: "http://127.0.0.1:8080/survey/C-SAMPLE?t=v1.k.b.s", FirstResponseDue: &due,
		Code: "123456", ValidMinutes: 15, SurveyRatings: sampleRatings("http://127.0.0.1:8080/survey/C-SAMPLE?t=v1.k.b.s"),
	}
	bare := messageData{
		NotificationID: "case/C-SAMPLE/3/" + vocab.AudienceTeam, Event: event, Audience: vocab.AudienceTeam, Locale: locale,
		Case: vocab.NotificationCase{ID: "C-SAMPLE", Subject: "Sample subject"},
	}
	if !slices.Contains(deliveries.NotifiedEvents, event) {
		return []messageData{full, bare}
	}
	// A delivery's message as the workflow fills it, then with its optional
	// facts empty; bare stands for one that came without its delivery.
	ends := due.AddDate(0, 0, 30)
	customer := vocab.Customer{ID: "buyer-1", Email: "ada@example.com", Name: "Ada", Locale: locale}
	delivery := messageData{
		NotificationID: "delivery/D-SAMPLE/4/" + vocab.AudienceCustomer, Event: event, Audience: vocab.AudienceCustomer, Locale: locale,
		Case: vocab.NotificationCase{
			ID: "D-SAMPLE", Subject: "Account delivery D-SAMPLE (Sample game)",
			Status: string(deliveries.StatusDelivered), Customer: customer,
		},
		Delivery: &vocab.NotificationDelivery{
			ID: "D-SAMPLE", AccountID: "acc-1", OrderID: "ord-1", SellerID: "seller-1", Product: "Sample game",
			Status: string(deliveries.StatusDelivered), RecoveryInstructions: "Change the password.",
			ConfirmBy: &due, WarrantyEndsAt: &ends,
		},
		Detail: "Sample detail", DeliveryURL: "http://127.0.0.1:8080/deliveries/D-SAMPLE?t=v1.k.b.s",
	}
	sparse := delivery
	sparse.DeliveryURL = ""
	sparse.Case.Customer = vocab.Customer{Email: "ada@example.com"}
	sparse.Delivery, sparse.Detail = &vocab.NotificationDelivery{ID: "D-SAMPLE"}, ""
	staff := delivery
	staff.Audience = vocab.AudienceTeam
	return []messageData{delivery, sparse, staff, full, bare}
}

// sampleRatings answers the one-click rating links of a sample survey link.
func sampleRatings(survey string) []ratingLink {
	out := make([]ratingLink, 5)
	for i := range out {
		out[i] = ratingLink{Rating: i + 1, URL: fmt.Sprintf("%s&rating=%d", survey, i+1)}
	}
	return out
}

// templateFuncs are the helpers templates may call, speaking locale.
func templateFuncs(locale string) map[string]any {
	return map[string]any{
		// date writes a time for people, in UTC (a case does not know its
		// customer's time zone).
		"date": func(t *time.Time) string { return formatDate(t, locale) },
		// level names an escalation level.
		"level": func(level int) string { return levelName(level, locale) },
	}
}

var (
	frenchDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

func formatDate(t *time.Time, locale string) string {
	if t == nil {
		return ""
	}
	u := t.UTC()
	if locale == "fr" {
		return fmt.Sprintf("%s %d %s %d à %s UTC", frenchDays[u.Weekday()], u.Day(), frenchMonths[u.Month()-1], u.Year(), u.Format("15:04"))
	}
	return u.Format("Monday 2 January 2006 at 15:04 UTC")
}

var levelNames = map[string][]string{
	"en": {"agent", "team lead", "support manager"},
	"fr": {"agent", "chef d'équipe", "responsable du support"},
}

func levelName(level int, locale string) string {
	names, ok := levelNames[locale]
	if !ok {
		names = levelNames[fallbackLocale]
	}
	if level < 0 || level >= len(names) {
		return fmt.Sprint(level)
	}
	return names[level]
}
