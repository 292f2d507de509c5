package activities

import (
	"fmt"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
	"html"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func shippedTemplates(t *testing.T) *templateBook {
	t.Helper()
	book, err := loadTemplates(templateFiles, "templates")
	require.NoError(t, err)
	return book
}

func templateData(audience, detail string) messageData {
	return messageData{
		NotificationID: "case/C-7/3/" + audience, Audience: audience,
		Case: vocab.NotificationCase{
			ID: "C-7", Subject: "Locked out", Category: vocab.CategoryLockedAccount, Priority: vocab.P1,
			Status: string(cases.StatusOpen), Team: vocab.TeamSecurity, Assignee: "bo", EscalationLevel: 1,
			Customer: vocab.Customer{ID: "cus-1", Email: "ada@example.com", Name: "Ada", Locale: "fr"},
		},
		Detail:    detail,
		SurveyURL: "http://127.0.0.1:8080/survey/C-7?t=v1.k.b.s", SurveyRatings: sampleRatings("http://127.0.0.1:8080/survey/C-7?t=v1.k.b.s"),
	}
}

// Each event's subject says what happened in the reader's language.
var subjects = map[string]map[string]string{
	cases.EventOpened:                  {"en": "We received your request", "fr": "Nous avons bien reçu votre demande"},
	cases.EventAgentReply:              {"en": "New reply to your request", "fr": "Nouvelle réponse à votre demande"},
	cases.EventWaitingCustomer:         {"en": "We need your answer", "fr": "Nous avons besoin de votre réponse"},
	cases.EventCustomerReminder:        {"en": "Reminder: we are still waiting", "fr": "Rappel : nous attendons toujours"},
	cases.EventEscalated:               {"en": "Escalated to security (team lead)", "fr": "Escaladé vers security (chef d'équipe)"},
	cases.EventResolved:                {"en": "Your request is resolved", "fr": "Votre demande est résolue"},
	cases.EventClosed:                  {"en": "Your request is closed", "fr": "Votre demande est close"},
	cases.EventSLAWarning:              {"en": "SLA warning (p1)", "fr": "Alerte SLA (p1)"},
	cases.EventSLABreach:               {"en": "SLA breached (p1)", "fr": "SLA dépassé (p1)"},
	cases.EventNotifyFailed:            {"en": "A notification could not be delivered", "fr": "Un message n'a pas pu être remis"},
	cases.EventCustomerMessage:         {"en": "The customer wrote", "fr": "Le client a écrit"},
	disputes.NoticeSeller:              {"en": "Dispute notice for the seller", "fr": "Avis de litige pour le vendeur"},
	disputes.NoticeSellerLate:          {"en": "The seller did not answer in time", "fr": "Le vendeur n'a pas répondu à temps"},
	disputes.NoticeOffer:               {"en": "The seller made you an offer", "fr": "Le vendeur vous fait une offre"},
	disputes.NoticeDecided:             {"en": "Your dispute is decided", "fr": "Votre litige est tranché"},
	disputes.NoticeAppealOpen:          {"en": "Your dispute is under review again", "fr": "Votre litige est réexaminé"},
	disputes.NoticeReviewNeeded:        {"en": "Dispute awaits a decision", "fr": "Litige en attente de décision"},
	sellers.NoticeStepReminder:         {"en": "Your seller account: a step is waiting", "fr": "Votre compte vendeur : une étape vous attend"},
	sellers.NoticeVerified:             {"en": "Your seller account is verified", "fr": "Votre compte vendeur est vérifié"},
	sellers.NoticeVerificationFailed:   {"en": "Your seller account could not be verified", "fr": "Votre compte vendeur n’a pas pu être vérifié"},
	returns.NoticeLabel:                {"en": "Your return label is ready", "fr": "Votre étiquette de retour est prête"},
	returns.EventReminder:              {"en": "Reminder: please ship your return", "fr": "Rappel : merci d'expédier votre retour"},
	returns.EventNotShipped:            {"en": "Your return was not shipped in time", "fr": "Votre retour n'a pas été expédié à temps"},
	returns.EventRefunded:              {"en": "Your refund is on its way", "fr": "Votre remboursement est en route"},
	returns.NoticeCredited:             {"en": "Store credit added to your balance", "fr": "Avoir crédité sur votre solde"},
	returns.EventRejected:              {"en": "Your return was not accepted", "fr": "Votre retour n'a pas été accepté"},
	returns.EventIneligible:            {"en": "Your item cannot be returned", "fr": "Votre article ne peut pas être retourné"},
	EventSecurityLock:                  {"en": "We locked your account", "fr": "Nous avons verrouillé votre compte"},
	EventRecoverySteps:                 {"en": "How to get your account back", "fr": "Comment récupérer votre compte"},
	accountflows.EventAccountLocked:    {"en": "Account locked after a security incident", "fr": "Compte verrouillé après un incident de sécurité"},
	accountflows.EventAccountUnlocked:  {"en": "Your account is unlocked", "fr": "Votre compte est déverrouillé"},
	accountflows.EventRecoveryExpired:  {"en": "Your recovery code expired", "fr": "Votre code de récupération a expiré"},
	EventContactChangeRequested:        {"en": "A change of your contact details was requested", "fr": "Une modification de vos coordonnées a été demandée"},
	EventContactChanged:                {"en": "Your contact details were changed", "fr": "Vos coordonnées ont été modifiées"},
	deliveries.EventDelivered:          {"en": "Your account is delivered", "fr": "Votre compte a été livré"},
	deliveries.EventReminder:           {"en": "Reminder: please confirm your delivery", "fr": "Rappel : merci de confirmer votre livraison"},
	deliveries.EventConfirmedByDefault: {"en": "Your delivery is confirmed", "fr": "Votre livraison est confirmée"},
	deliveries.EventProblemReported:    {"en": "We received your problem report", "fr": "Nous avons bien reçu votre signalement"},
	deliveries.EventRecovered:          {"en": "Your account was recovered", "fr": "Votre compte a été récupéré"},
	deliveries.EventWarrantyEnding:     {"en": "Your warranty ends soon", "fr": "Votre garantie prend bientôt fin"},
	deliveries.EventRetired:            {"en": "Your delivery is closed", "fr": "Votre livraison est clôturée"},
}

// workflowNotifiedEvents answers every event the workflows tell someone
// about, as the workflow areas export them.
func workflowNotifiedEvents() []string {
	return slices.Concat(cases.NotifiedEvents, accountflows.NotifiedEvents, deliveries.NotifiedEvents, returns.NotifiedEvents, disputes.NotifiedEvents,
		sellers.NotifiedEvents)
}

// deliveryNote answers the notification the delivery workflow sends the
// buyer about event, as it fills it.
func deliveryNote(event, locale, detail string) vocab.Notification {
	confirmBy := time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC)
	warrantyEnds := time.Date(2026, 4, 2, 11, 0, 0, 0, time.UTC)
	buyer := vocab.Customer{ID: "buyer-1", Email: "ada@example.com", Name: "Ada", Locale: locale}
	return vocab.Notification{
		ID: "delivery/D-7/4/" + vocab.AudienceCustomer, Event: event, Audience: vocab.AudienceCustomer,
		Case: vocab.NotificationCase{
			ID: "D-7", Subject: "Account delivery D-7 (Valorant)", Status: string(deliveries.StatusDelivered), Customer: buyer,
		},
		Delivery: &vocab.NotificationDelivery{
			ID: "D-7", AccountID: "acc-42", OrderID: "ord-9001", SellerID: "seller-3", Product: "Valorant",
			Status:               string(deliveries.StatusDelivered),
			RecoveryInstructions: "Change the password, then add your own phone number.",
			ConfirmBy:            &confirmBy, WarrantyEndsAt: &warrantyEnds,
		},
		Detail: detail,
	}
}

// deliveryTemplateData answers what the templates see of deliveryNote.
func deliveryTemplateData(event, locale, detail string) messageData {
	n := deliveryNote(event, locale, detail)
	return messageData{NotificationID: n.ID, Audience: n.Audience, Case: n.Case, Delivery: n.Delivery, Detail: n.Detail}
}

// codePurposeEvents answers the event of the message SendCode sends for
// each code purpose the account workflows export, as SendCode picks it.
func codePurposeEvents(t *testing.T) []string {
	t.Helper()
	var events []string
	for _, purpose := range accountflows.CodePurposes {
		event, err := checkCodeRequest(accountflows.CodeRequest{ID: "recovery/R-1/code", Purpose: purpose,
			Channel: CodeChannelEmail, To: "ada@example.com", ValidFor: time.Minute})
		require.NoError(t, err, "code purpose %q has no message", purpose)
		events = append(events, event)
	}
	return events
}

func TestNotifiedEventsAreTheWorkflowsOwn(t *testing.T) {
	// The routes loader wants exactly NotifiedEvents listed, and the
	// template loader wants templates for them and CodeEvents.
	assert.ElementsMatch(t, workflowNotifiedEvents(), NotifiedEvents,
		"activities.NotifiedEvents must be cases.NotifiedEvents, accountflows.NotifiedEvents and deliveries.NotifiedEvents")
	assert.ElementsMatch(t, codePurposeEvents(t), CodeEvents,
		"activities.CodeEvents must be the messages of accountflows.CodePurposes")
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(templatedEvents()))), len(templatedEvents()),
		"an event is listed twice")
}

// TestTemplateFilesMatchTheNotifiedEvents ties the template files to the
// workflows: every notified event and every code purpose's message has its
// text and HTML templates in every locale, and every file but the
// partials belongs to one of them.
func TestTemplateFilesMatchTheNotifiedEvents(t *testing.T) {
	want := slices.Concat(workflowNotifiedEvents(), codePurposeEvents(t))
	have := map[string]bool{}
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "templates/")
		have[name] = true
		if base := path.Base(name); base == "_footer.txt.tmpl" || base == "_layout.html.tmpl" {
			return nil
		}
		m := templateName.FindStringSubmatch(name)
		if !assert.NotNil(t, m, "%s: not named <locale>/<event>.<txt|html>.tmpl", p) {
			return nil
		}
		assert.Contains(t, vocab.Locales, m[1], "%s: not a locale of vocab.Locales", p)
		assert.Contains(t, want, m[2], "%s: orphan template: no workflow notifies %s and no code purpose sends it", p, m[2])
		return nil
	})
	require.NoError(t, err)
	require.Subset(t, vocab.Locales, []string{"en", "fr"})
	for _, event := range want {
		for _, locale := range vocab.Locales {
			for _, format := range []string{"txt", "html"} {
				name := locale + "/" + event + "." + format + ".tmpl"
				assert.True(t, have[name], "templates/%s is missing", name)
			}
		}
	}
}

// templateAudience matches what a template compares the audience with.
var templateAudience = regexp.MustCompile(`\.Audience\s+"([^"]*)"`)

func TestTemplatesNameOnlyKnownAudiences(t *testing.T) {
	seen := 0
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templateFiles, p)
		for _, m := range templateAudience.FindAllStringSubmatch(string(data), -1) {
			seen++
			assert.Contains(t, vocab.Audiences, m[1], "%s compares the audience with %q", p, m[1])
		}
		return err
	})
	require.NoError(t, err)
	assert.NotZero(t, seen, "the partials tell customers from staff by the audience")
}

func TestEveryEventRendersInEnglishAndFrench(t *testing.T) {
	book := shippedTemplates(t)
	require.Len(t, subjects, len(workflowNotifiedEvents()), "every event needs its expected subjects here")
	for _, event := range workflowNotifiedEvents() {
		for _, locale := range vocab.Locales {
			t.Run(event+"/"+locale, func(t *testing.T) {
				audience := vocab.AudienceCustomer
				if event == cases.EventEscalated || event == cases.EventSLABreach ||
					event == cases.EventSLAWarning || event == cases.EventNotifyFailed ||
					event == accountflows.EventAccountLocked {
					audience = vocab.AudienceTeam
				}
				data, id := templateData(audience, "Detail line"), "C-7"
				if slices.Contains(deliveries.NotifiedEvents, event) {
					data, id = deliveryTemplateData(event, locale, "Detail line"), "D-7"
				}
				msg, err := book.render(event, locale, data)
				require.NoError(t, err)
				assert.Equal(t, locale, msg.Locale)
				assert.True(t, strings.HasPrefix(msg.Subject, "["+id+"] "), msg.Subject)
				assert.Contains(t, msg.Subject, subjects[event][locale])
				assert.NotContains(t, msg.Subject, "\n")
				assert.Contains(t, msg.HTML, `<html lang="`+locale+`">`)
				assert.Contains(t, msg.HTML, "<title>"+htmlEscaped(msg.Subject)+"</title>")
				assert.Contains(t, msg.Text, id)
				other := map[string]string{"en": "fr", "fr": "en"}[locale]
				assert.NotContains(t, msg.Text, subjects[event][other], "the %s text is not in %s", locale, other)
				// Opening has no detail; closing reasons are system prose, not for
				// customers; a warranty's end date is told from the delivery.
				if event != cases.EventOpened && event != cases.EventClosed && event != deliveries.EventWarrantyEnding {
					assert.Contains(t, msg.Text, "Detail line")
					assert.Contains(t, msg.HTML, "Detail line")
				}
				assert.NotContains(t, msg.Text, "\n\n\n")
			})
		}
	}
}

func htmlEscaped(s string) string {
	return strings.NewReplacer("'", "&#39;", `"`, "&#34;", "&", "&amp;").Replace(s)
}

func TestFrenchTextIsFrench(t *testing.T) {
	msg, err := shippedTemplates(t).render(cases.EventAgentReply, "fr", templateData("customer", "Un nouveau code arrive."))
	require.NoError(t, err)
	assert.Equal(t, "[C-7] Nouvelle réponse à votre demande : Locked out", msg.Subject)
	assert.Contains(t, msg.Text, "Bonjour Ada,")
	assert.Contains(t, msg.Text, "Un agent a répondu à votre demande « Locked out » :")
	assert.Contains(t, msg.Text, "Votre numéro de dossier est C-7.")
	assert.Contains(t, msg.HTML, "Bonjour Ada,")
}

// What each delivery message tells the buyer besides its subject: the
// event's detail, then what the message says in each locale.
var deliverySays = map[string]struct {
	detail string
	says   map[string][]string
}{
	deliveries.EventDelivered: {"Sign in from the app first.", map[string][]string{
		"en": {"A note with your delivery:\nSign in from the app first.", "Product: Valorant", "Account: acc-42", "Order:   ord-9001", "Change the password, then add your own phone number.",
			"confirm the delivery from your order on the marketplace by Monday 9 March 2026 at 11:00 UTC",
			"the delivery is confirmed automatically", "until Thursday 2 April 2026 at 11:00 UTC"},
		"fr": {"Un mot accompagnant votre livraison :\nSign in from the app first.", "Produit : Valorant", "Compte : acc-42", "Commande : ord-9001", "Change the password, then add your own phone number.",
			"confirmez la livraison depuis votre commande sur la marketplace, au plus tard le lundi 9 mars 2026 à 11:00 UTC",
			"la livraison sera confirmée automatiquement", "jusqu'au jeudi 2 avril 2026 à 11:00 UTC"},
	}},
	deliveries.EventReminder: {"", map[string][]string{
		"en": {"We delivered your Valorant account acc-42 (order ord-9001) and have not heard from you yet.",
			"by Monday 9 March 2026 at 11:00 UTC", "Change the password, then add your own phone number."},
		"fr": {"Nous vous avons livré votre compte Valorant acc-42 (commande ord-9001)",
			"au plus tard le lundi 9 mars 2026 à 11:00 UTC", "Change the password, then add your own phone number."},
	}},
	deliveries.EventConfirmedByDefault: {"", map[string][]string{
		"en": {"by Monday 9 March 2026 at 11:00 UTC, so the delivery is now confirmed by default.", "until Thursday 2 April 2026 at 11:00 UTC"},
		"fr": {"avant le lundi 9 mars 2026 à 11:00 UTC : la livraison est donc confirmée par défaut.", "jusqu'au jeudi 2 avril 2026 à 11:00 UTC"},
	}},
	deliveries.EventProblemReported: {"The password no longer works. Case C-12.", map[string][]string{
		"en": {"We received your report of a problem with your Valorant account acc-42 (order ord-9001).",
			"The password no longer works. Case C-12.", "We opened a support case"},
		"fr": {"Nous avons bien reçu votre signalement d'un problème avec votre compte Valorant acc-42 (commande ord-9001).",
			"The password no longer works. Case C-12.", "Nous avons ouvert un dossier de support"},
	}},
	deliveries.EventRecovered: {"", map[string][]string{
		"en": {"the recovery of your Valorant account acc-42 (order ord-9001) is complete", "Change the password, then add your own phone number."},
		"fr": {"la récupération de votre compte Valorant acc-42 (commande ord-9001) est terminée", "Change the password, then add your own phone number."},
	}},
	deliveries.EventWarrantyEnding: {"2026-04-02 11:00 UTC", map[string][]string{
		"en": {"The warranty on your Valorant account acc-42 (order ord-9001) ends on Thursday 2 April 2026 at 11:00 UTC."},
		"fr": {"La garantie de votre compte Valorant acc-42 (commande ord-9001) prend fin le jeudi 2 avril 2026 à 11:00 UTC."},
	}},
	deliveries.EventRetired: {"Order refunded.", map[string][]string{
		"en": {"The delivery of your Valorant account acc-42 (order ord-9001) is closed", "Reason:\nOrder refunded."},
		"fr": {"La livraison de votre compte Valorant acc-42 (commande ord-9001) est clôturée", "Motif :\nOrder refunded."},
	}},
}

// TestDeliveryMessagesTellTheBuyerInTheirLanguage renders each delivery
// event as the notifier does (with a survey link configured): the subject
// names the delivery, the body what was delivered and what to do, in the
// buyer's language, with the delivery's footer and nothing of a case's.
func TestDeliveryMessagesTellTheBuyerInTheirLanguage(t *testing.T) {
	n, err := newNotifier(testConfig(t), newMemoryLog())
	require.NoError(t, err)
	require.NotEmpty(t, n.surveyURL)
	require.Len(t, deliverySays, len(deliveries.NotifiedEvents), "every delivery event needs its expectations here")
	footer := map[string]string{"en": "Your delivery reference is D-7.", "fr": "Votre référence de livraison est D-7."}
	caseFooter := map[string]string{"en": "case number", "fr": "numéro de dossier"}
	greeting := map[string]string{"en": "Hello Ada,", "fr": "Bonjour Ada,"}
	for _, event := range deliveries.NotifiedEvents {
		for _, locale := range []string{"en", "fr"} {
			t.Run(event+"/"+locale, func(t *testing.T) {
				note := deliveryNote(event, locale, deliverySays[event].detail)
				msg, err := n.render(note, time.Now())
				require.NoError(t, err)
				assert.Equal(t, locale, msg.Locale)
				assert.True(t, strings.HasPrefix(msg.Subject, "[D-7] "), msg.Subject)
				assert.Contains(t, msg.Subject, subjects[event][locale])
				assert.Contains(t, msg.Subject, "Valorant")
				for _, part := range []string{msg.Text, msg.HTML} {
					assert.Contains(t, part, "Valorant")
					assert.Contains(t, part, "ord-9001")
					assert.Contains(t, part, greeting[locale])
					assert.NotContains(t, strings.ToLower(part), "survey", "a delivery has no survey")
					assert.NotContains(t, part, n.surveyURL)
					assert.NotContains(t, part, caseFooter[locale])
				}
				assert.Contains(t, msg.Text, footer[locale])
				assert.Contains(t, msg.HTML, `<html lang="`+locale+`">`)
				shown := words(visibleText(msg.HTML))
				for _, want := range deliverySays[event].says[locale] {
					assert.Contains(t, msg.Text, want)
					assert.Contains(t, shown, words(want), "the HTML part says it too")
				}
				if locale == "fr" {
					assert.Regexp(t, `livraison|compte`, msg.Text)
					for _, english := range []string{"Hello", "The support team", "delivery", "warranty"} {
						assert.NotContains(t, msg.Text, english, "the French text is French")
					}
				} else {
					for _, french := range []string{"Bonjour", "L'équipe", "livraison", "garantie"} {
						assert.NotContains(t, msg.Text, french, "the English text is English")
					}
				}
				if event == deliveries.EventWarrantyEnding {
					assert.NotContains(t, msg.Text, note.Detail, "the end date is told once, in the buyer's language")
				}
				assert.NotContains(t, msg.Text, "\n\n\n")
			})
		}
	}
}

func TestWarrantyEndingTellsTheDateFromTheDetailWhenTheDeliveryLacksIt(t *testing.T) {
	book := shippedTemplates(t)
	data := deliveryTemplateData(deliveries.EventWarrantyEnding, "fr", "2026-04-02 11:00 UTC")
	data.Delivery.WarrantyEndsAt = nil
	msg, err := book.render(deliveries.EventWarrantyEnding, "fr", data)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "prend fin le 2026-04-02 11:00 UTC.")
	data.Detail = ""
	msg, err = book.render(deliveries.EventWarrantyEnding, "en", data)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "(order ord-9001) ends soon.")
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// visibleText answers what a reader sees of an HTML part, with typographic
// apostrophes written plain.
func visibleText(s string) string {
	return strings.ReplaceAll(html.UnescapeString(htmlTag.ReplaceAllString(s, "")), "’", "'")
}

// words answers s with every run of spaces and line breaks as one space.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestDeliveryEventWithoutItsFactsStillReadsAsADelivery(t *testing.T) {
	book := shippedTemplates(t)
	data := deliveryTemplateData(deliveries.EventRetired, "en", "")
	data.Delivery = nil
	msg, err := book.render(deliveries.EventRetired, "en", data)
	require.NoError(t, err)
	assert.Equal(t, "[D-7] Your delivery is closed", msg.Subject)
	assert.Contains(t, msg.Text, "Your delivery reference is D-7.")

	staff := deliveryTemplateData(deliveries.EventProblemReported, "en", "")
	staff.Audience = vocab.AudienceTeam
	msg, err = book.render(deliveries.EventProblemReported, "en", staff)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "Delivery D-7 · Valorant · account acc-42 · order ord-9001 · seller seller-3 · delivered")
}

func TestCaseMessagesKeepTheirSurveyAndFooter(t *testing.T) {
	n, err := newNotifier(testConfig(t), newMemoryLog())
	require.NoError(t, err)
	resolved := note(vocab.AudienceCustomer)
	resolved.Event, resolved.Detail = cases.EventResolved, "Code re-sent"
	msg, err := n.render(resolved, time.Now())
	require.NoError(t, err)
	assert.Contains(t, msg.Text, n.surveyURL+"/C-7?t=v1.")
	assert.Contains(t, msg.Text, "Votre numéro de dossier est C-7.")
	assert.NotContains(t, msg.Text, "livraison")
}

func TestStaffMessagesNameTheCaseState(t *testing.T) {
	msg, err := shippedTemplates(t).render(cases.EventSLABreach, "en", templateData("team", "first response was due 2026-03-02T11:00:00Z; escalated to level 1"))
	require.NoError(t, err)
	assert.Equal(t, "[C-7] SLA breached (p1): Locked out", msg.Subject)
	assert.Contains(t, msg.Text, "Case C-7 · locked_account · p1 · open · team security · assigned to bo · level: team lead")
	assert.Contains(t, msg.Text, "first response was due 2026-03-02T11:00:00Z")
}

func TestOpenedGivesTheFirstResponseDueWhenKnown(t *testing.T) {
	book := shippedTemplates(t)
	data := templateData("customer", "")
	msg, err := book.render(cases.EventOpened, "en", data)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "An agent will get back to you as soon as possible.")

	due := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	data.FirstResponseDue = &due
	msg, err = book.render(cases.EventOpened, "en", data)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "You will hear from us by Monday 2 March 2026 at 11:00 UTC at the latest.")
	assert.Contains(t, msg.HTML, "Monday 2 March 2026 at 11:00 UTC")
	msg, err = book.render(cases.EventOpened, "fr", data)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "Vous recevrez une réponse au plus tard le lundi 2 mars 2026 à 11:00 UTC.")
}

func TestReplyIsEscapedInHTMLAndIntactInText(t *testing.T) {
	reply := `Try this: <script>alert("x")</script> & "reset" it`
	msg, err := shippedTemplates(t).render(cases.EventAgentReply, "en", templateData("customer", reply))
	require.NoError(t, err)
	assert.Contains(t, msg.Text, reply)
	assert.NotContains(t, msg.HTML, "<script>")
	assert.Contains(t, msg.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;reset&#34; it")
}

func TestResolvedLinksTheSurvey(t *testing.T) {
	msg, err := shippedTemplates(t).render(cases.EventResolved, "en", templateData("customer", "Code re-sent"))
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "How did we do? Tell us here: http://127.0.0.1:8080/survey/C-7?t=v1.k.b.s\n")
	assert.Contains(t, msg.HTML, `<a href="http://127.0.0.1:8080/survey/C-7?t=v1.k.b.s">open the survey</a>`)
	for r := 1; r <= 5; r++ {
		assert.Contains(t, msg.HTML, fmt.Sprintf(`href="http://127.0.0.1:8080/survey/C-7?t=v1.k.b.s&amp;rating=%d"`, r))
	}
	assert.Equal(t, "https://shop.example/csat/C%2F1%20x?t=v1.k.b.s", pageLink("https://shop.example/csat/", "C/1 x", "v1.k.b.s", 0))
	assert.Equal(t, "https://shop.example/csat/C-1?lang=fr&t=v1.k.b.s&rating=4", pageLink("https://shop.example/csat?lang=fr", "C-1", "v1.k.b.s", 4))
}

func TestUnknownLocaleFallsBackToEnglish(t *testing.T) {
	msg, err := shippedTemplates(t).render(cases.EventClosed, "de", templateData("customer", ""))
	require.NoError(t, err)
	assert.Equal(t, "en", msg.Locale)
	assert.Contains(t, msg.Subject, "Your request is closed")
}

// templatesWith answers the shipped templates with some files replaced
// (nil content removes a file).
func templatesWith(t *testing.T, change map[string]*string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templateFiles, p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	require.NoError(t, err)
	for p, content := range change {
		if content == nil {
			delete(out, p)
			continue
		}
		out[p] = &fstest.MapFile{Data: []byte(*content)}
	}
	return out
}

func text(s string) *string { return &s }

func TestMissingLocaleTemplateFallsBackToEnglish(t *testing.T) {
	book, err := loadTemplates(templatesWith(t, map[string]*string{
		"templates/fr/resolved.txt.tmpl": nil, "templates/fr/resolved.html.tmpl": nil,
	}), "templates")
	require.NoError(t, err)
	msg, err := book.render(cases.EventResolved, "fr", templateData("customer", "Code re-sent"))
	require.NoError(t, err)
	assert.Equal(t, "en", msg.Locale)
	assert.Contains(t, msg.Subject, "Your request is resolved")
	assert.Contains(t, msg.HTML, `<html lang="en">`)
}

func TestBadTemplatesFailAtLoadNamingTheFile(t *testing.T) {
	for name, tc := range map[string]struct {
		change map[string]*string
		want   string
	}{
		"missing english": {map[string]*string{"templates/en/closed.html.tmpl": nil}, "templates/en/closed: the en text and HTML templates are both required"},
		"lone part":       {map[string]*string{"templates/fr/closed.html.tmpl": nil}, "templates/fr/closed.txt.tmpl: has no closed.html.tmpl beside it"},
		"unknown event":   {map[string]*string{"templates/fr/opend.txt.tmpl": text("x")}, `templates/fr/opend.txt.tmpl: no event is named "opend"`},
		"bad name":        {map[string]*string{"templates/fr/opened.txt": text("x")}, "templates/fr/opened.txt: want <locale>/<event>.txt.tmpl"},
		"syntax":          {map[string]*string{"templates/fr/opened.txt.tmpl": text(`{{define "subject"}}x{{end}}{{if}}`)}, "templates/fr/opened.txt.tmpl: template: opened.txt.tmpl:1: missing value for if"},
		"no subject":      {map[string]*string{"templates/en/opened.txt.tmpl": text("Hello")}, `templates/en/opened.txt.tmpl: defines no "subject"`},
		"no content":      {map[string]*string{"templates/en/opened.html.tmpl": text("<p>Hello</p>")}, `templates/en/opened.html.tmpl: defines no "content"`},
		"unknown field":   {map[string]*string{"templates/fr/opened.txt.tmpl": text(`{{define "subject"}}x{{end}}{{.Case.Nope}}`)}, "templates/fr/opened: text: template: opened.txt.tmpl:1:35: executing \"opened.txt.tmpl\" at <.Case.Nope>: can't evaluate field Nope"},
		"empty subject":   {map[string]*string{"templates/fr/opened.txt.tmpl": text(`{{define "subject"}} {{end}}x`)}, "templates/fr/opened: subject: renders empty"},
		"unknown partial": {map[string]*string{"templates/fr/_header.txt.tmpl": text("x")}, "templates/fr/_header.txt.tmpl: the partials are _footer.txt.tmpl and _layout.html.tmpl"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadTemplates(templatesWith(t, tc.change), "templates")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
