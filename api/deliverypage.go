package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"handoff/evidence"
	"handoff/links"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// The page of an account delivery, where its buyer lands from the
// delivered and reminder emails: GET /deliveries/{id}?t=<token> shows what
// was delivered and when, the recovery instructions, the confirmation
// deadline and the delivery's status; POST /deliveries/{id}/confirm runs
// the confirm update, POST /deliveries/{id}/report-problem stores an
// optional screenshot as the delivery's evidence and runs the
// report-problem update, which opens a case. A GET never changes anything.
// The paths are un-prefixed: the keyed API's deliveries are /v1/deliveries.

// maxDescriptionRunes is the longest problem description, as the API's
// report-problem takes it.
const maxDescriptionRunes = 20000

// maxReportFieldBytes bounds one field of the report-problem form (the
// tokens, a description of 20,000 characters of up to 4 bytes).
const maxReportFieldBytes = 4*maxDescriptionRunes + 1024

// screenshotKind is the evidence kind of a buyer's screenshot. Not
// delivery_screenshot: that kind is the seller's proof that the account
// was handed over (the deliver update requires one), and a buyer's image of
// what is wrong is no such proof; it is what the buyer tells support.
const screenshotKind = "support_message"

// screenshotNote describes the buyer's screenshot to staff.
const screenshotNote = "Screenshot the buyer sent with a problem report from the delivery page"

// deliveryTarget is what a delivery link opens.
func (p *pages) deliveryTarget() linkTarget[deliveries.DeliveryView] {
	return linkTarget[deliveries.DeliveryView]{
		purpose: links.PurposeDelivery, texts: deliveryTexts, read: p.s.readDelivery,
		customer: func(v deliveries.DeliveryView) vocab.Customer { return v.Buyer },
	}
}

// canConfirm reports that the buyer may still confirm the delivery.
func canConfirm(v deliveries.DeliveryView) bool {
	return !v.Confirmed && (v.Status == deliveries.StatusDelivered || v.Status == deliveries.StatusWaitingCustomer)
}

// canReport reports that the buyer may report a problem: the account is
// delivered and under watch, and no review is open.
func canReport(v deliveries.DeliveryView) bool {
	return slices.Contains([]deliveries.Status{deliveries.StatusDelivered, deliveries.StatusWaitingCustomer,
		deliveries.StatusRecovered}, v.Status)
}

// asBuyer answers ctx acting as the link's buyer: customer:<buyer id> on
// the delivery's timeline and as the uploader of a screenshot.
func asBuyer(ctx context.Context, c links.Claims) context.Context {
	return context.WithValue(ctx, callerKey{}, caller{Name: c.Customer, Role: "customer"})
}

// deliveryUpdateKey is the key of an update a delivery link runs, from the
// link token and what the form said: a double submit is one update.
func deliveryUpdateKey(action, linkToken string, said ...string) string {
	return "page-" + action + "-" + tokenDigest(strings.Join(append([]string{linkToken}, said...), "\x00"))
}

func (p *pages) getDelivery(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	if !p.allowLink(w, r, token) {
		return
	}
	v, claims, t, ok := openLink(p, w, r, chi.URLParam(r, "id"), token, p.deliveryTarget())
	if !ok {
		return
	}
	p.deliveryForm(w, r, http.StatusOK, t, v, token, claims, "", "")
}

func (p *pages) confirmDelivery(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("t") == "" {
		p.refuse(w, r, http.StatusBadRequest, browserText(r))
		return
	}
	token := r.PostForm.Get("t")
	if !p.allowLink(w, r, token) {
		return
	}
	id := chi.URLParam(r, "id")
	v, claims, t, ok := openLink(p, w, r, id, token, p.deliveryTarget())
	if !ok {
		return
	}
	if !p.formTokenValid(r.PostForm.Get("csrf"), token) {
		p.say(w, r, http.StatusForbidden, t, t.StaleFormTitle, t.StaleFormBody)
		return
	}
	if !canConfirm(v) {
		p.deliveryConflict(w, r, t, v)
		return
	}
	out, err := p.s.actOnDelivery(asBuyer(r.Context(), claims), id, deliveryUpdateKey("confirm", token),
		deliveries.UpdateConfirm, deliveries.ActorInput{Actor: "customer:" + claims.Customer})
	if err != nil {
		p.deliveryRefused(w, r, t, id, err)
		return
	}
	d := t.Delivery
	body := d.ConfirmedBody
	if ends := out.Body.WarrantyEndsAt; ends != nil {
		body += " " + fmt.Sprintf(d.WarrantyUntil, d.date(*ends))
	}
	p.say(w, r, http.StatusOK, t, d.ConfirmedTitle, body)
}

// report is a problem report the form carried, once checked.
type report struct {
	v           deliveries.DeliveryView
	claims      links.Claims
	t           *pageText
	token       string
	description string
}

func (p *pages) reportProblem(w http.ResponseWriter, r *http.Request) {
	limit := int64(4*maxReportFieldBytes + multipartSlack)
	if p.s.evidence != nil {
		limit += p.s.evidence.MaxBytes()
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	id := chi.URLParam(r, "id")
	rep, ok := p.readReport(w, r, id)
	if !ok {
		return
	}
	out, err := p.s.actOnDelivery(asBuyer(r.Context(), rep.claims), id,
		deliveryUpdateKey("report", rep.token, rep.description), deliveries.UpdateReportProblem,
		deliveries.ProblemInput{Actor: "customer:" + rep.claims.Customer, Description: rep.description})
	if err != nil {
		p.deliveryRefused(w, r, rep.t, id, err)
		return
	}
	d := rep.t.Delivery
	body := d.ReportedBody
	for _, c := range out.Body.LinkedCases {
		if c.Open && c.Reason == deliveries.LinkProblemReport {
			body += " " + fmt.Sprintf(d.CaseReference, c.CaseID)
		}
	}
	p.say(w, r, http.StatusOK, rep.t, d.ReportedTitle, body)
}

// readReport reads the report-problem form as it streams in: the link and
// form tokens and the description, then the screenshot, which is stored
// only once everything before it checks out (a browser sends the fields
// in the form's order, the file last). It writes the refusal page and
// answers false when anything is wrong.
func (p *pages) readReport(w http.ResponseWriter, r *http.Request, id string) (report, bool) {
	mr, err := r.MultipartReader()
	if err != nil {
		p.refuse(w, r, http.StatusBadRequest, browserText(r))
		return report{}, false
	}
	fields := map[string]string{}
	var rep report
	checked := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.refuse(w, r, http.StatusBadRequest, browserText(r))
			return report{}, false
		}
		switch name := part.FormName(); {
		case checked:
			// After the screenshot: nothing more is read.
		case name == "t" || name == "csrf" || name == "description":
			b, err := io.ReadAll(io.LimitReader(part, maxReportFieldBytes+1))
			if err != nil || len(b) > maxReportFieldBytes {
				p.refuse(w, r, http.StatusBadRequest, browserText(r))
				return report{}, false
			}
			fields[name] = string(b)
		case name == "screenshot":
			file := bufio.NewReaderSize(part, 512)
			head, _ := file.Peek(512)
			if len(head) == 0 {
				continue // no file chosen: the browser sends an empty part
			}
			var ok bool
			if rep, ok = p.checkReport(w, r, id, fields); !ok || !p.storeScreenshot(w, r, rep, head, file) {
				return report{}, false
			}
			checked = true
		}
	}
	if !checked {
		return p.checkReport(w, r, id, fields)
	}
	return rep, true
}

// checkReport checks the fields of a report before its screenshot is
// stored or its update runs: the link, the form token, the delivery's
// status and the description.
func (p *pages) checkReport(w http.ResponseWriter, r *http.Request, id string, fields map[string]string) (report, bool) {
	token := fields["t"]
	if token == "" {
		p.refuse(w, r, http.StatusBadRequest, browserText(r))
		return report{}, false
	}
	if !p.allowLink(w, r, token) {
		return report{}, false
	}
	v, claims, t, ok := openLink(p, w, r, id, token, p.deliveryTarget())
	if !ok {
		return report{}, false
	}
	if !p.formTokenValid(fields["csrf"], token) {
		p.say(w, r, http.StatusForbidden, t, t.StaleFormTitle, t.StaleFormBody)
		return report{}, false
	}
	if !canReport(v) {
		p.deliveryConflict(w, r, t, v)
		return report{}, false
	}
	description := strings.TrimSpace(fields["description"])
	var problem string
	switch {
	case description == "":
		problem = t.Delivery.DescriptionMissing
	case cleanText(description) != "":
		problem, description = t.Delivery.DescriptionInvalid, ""
	case utf8.RuneCountInString(description) > maxDescriptionRunes:
		problem = t.Delivery.DescriptionTooLong
	}
	if problem != "" {
		p.deliveryForm(w, r, http.StatusBadRequest, t, v, token, claims, description, problem)
		return report{}, false
	}
	return report{v: v, claims: claims, t: t, token: token, description: description}, true
}

// storeScreenshot stores the report's screenshot, whose first bytes are
// head and which file streams, through the API's upload of a delivery's
// evidence (storeEvidence: sniffed type, size limit, checksum, the key
// deliveries/<id>/<evidence id>, the add-evidence update, retained), as
// the buyer's.
func (p *pages) storeScreenshot(w http.ResponseWriter, r *http.Request, rep report, head []byte, file io.Reader) bool {
	t, v := rep.t, rep.v
	if !strings.HasPrefix(http.DetectContentType(head), "image/") {
		p.deliveryForm(w, r, http.StatusUnsupportedMediaType, t, v, rep.token, rep.claims, rep.description, t.Delivery.ScreenshotNotImage)
		return false
	}
	if p.s.evidence == nil {
		p.refuse(w, r, http.StatusServiceUnavailable, t)
		return false
	}
	// The upload reads a multipart form of its own: the kind and note, then
	// the file, written as it is read from the buyer's.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(func() error {
			if err := mw.WriteField("kind", screenshotKind); err != nil {
				return err
			}
			if err := mw.WriteField("note", screenshotNote); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("file", "screenshot")
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, file); err != nil {
				return err
			}
			return mw.Close()
		}())
	}()
	_, err := p.s.storeEvidence(asBuyer(r.Context(), rep.claims), pr, mw.Boundary(), -1, evidenceOwner{
		meta: "delivery-id", id: v.ID, key: evidence.DeliveryKey, update: deliveries.UpdateAddEvidence,
		workflowID: deliveries.DeliveryWorkflowID(v.ID), retained: true, fail: p.s.deliveryError,
	})
	_ = pr.CloseWithError(io.ErrClosedPipe) // the writer stops if the upload stopped early
	<-done
	var prob *problem
	switch {
	case err == nil:
		return true
	case errors.As(err, &prob) && prob.Status == http.StatusRequestEntityTooLarge:
		p.deliveryForm(w, r, prob.Status, t, v, rep.token, rep.claims, rep.description,
			fmt.Sprintf(t.Delivery.ScreenshotTooLarge, p.s.evidence.MaxBytes()>>20))
	case errors.As(err, &prob) && prob.Status == http.StatusUnsupportedMediaType:
		p.deliveryForm(w, r, prob.Status, t, v, rep.token, rep.claims, rep.description, t.Delivery.ScreenshotNotImage)
	default:
		p.deliveryRefused(w, r, t, v.ID, err)
	}
	return false
}

// deliveryRefused writes the page of an update the delivery refused: a
// conflict says where the delivery now stands.
func (p *pages) deliveryRefused(w http.ResponseWriter, r *http.Request, t *pageText, id string, err error) {
	var prob *problem
	if errors.As(err, &prob) && prob.Status == http.StatusConflict {
		if v, err := p.s.readDelivery(r.Context(), id); err == nil {
			p.deliveryConflict(w, r, t, v)
			return
		}
	}
	p.workflowRefusal(w, r, t, err)
}

// deliveryConflict writes the 409 page of an action the delivery v cannot
// take as it is.
func (p *pages) deliveryConflict(w http.ResponseWriter, r *http.Request, t *pageText, v deliveries.DeliveryView) {
	d := t.Delivery
	switch {
	case v.Status == deliveries.StatusUnderReview:
		p.say(w, r, http.StatusConflict, t, d.UnderReviewTitle, d.UnderReviewNote)
	case v.Status == deliveries.StatusRetired:
		p.say(w, r, http.StatusConflict, t, d.RetiredTitle, d.RetiredNote)
	case v.Confirmed:
		p.say(w, r, http.StatusConflict, t, d.AlreadyConfirmedTitle, d.confirmedNote(v))
	default:
		p.say(w, r, http.StatusConflict, t, t.ClosedTitle, fmt.Sprintf(d.StatusNow, d.status(v.Status))+" "+t.ClosedBody)
	}
}

// deliveryPage is what the delivery page shows of a delivery.
type deliveryPage struct {
	ID, Product, AccountID, OrderID string
	DeliveredAt, ConfirmBy          string
	Instructions                    string
	Status                          string
	// Note says where the delivery stands when the buyer has nothing to
	// do: not delivered yet, confirmed, under review, retired.
	Note                  string
	CanConfirm, CanReport bool
	Description           string
	MaxScreenshotMB       int64
}

// deliveryForm writes the page of delivery v: its forms as its status
// allows, description and problem kept in the report form.
func (p *pages) deliveryForm(w http.ResponseWriter, r *http.Request, status int, t *pageText, v deliveries.DeliveryView,
	token string, claims links.Claims, description, problem string) {
	d := t.Delivery
	page := &deliveryPage{
		ID: v.ID, Product: v.Product, AccountID: v.Handoff.AccountID, OrderID: v.Handoff.OrderID,
		Instructions: v.Handoff.RecoveryPath.Instructions, Status: d.status(v.Status),
		CanConfirm: canConfirm(v), CanReport: canReport(v), Description: description,
	}
	if at := v.Handoff.DeliveredAt; at != nil {
		page.DeliveredAt = d.date(*at)
	}
	if v.ConfirmBy != nil && page.CanConfirm {
		page.ConfirmBy = d.date(*v.ConfirmBy)
	}
	if p.s.evidence != nil {
		page.MaxScreenshotMB = p.s.evidence.MaxBytes() >> 20
	}
	switch {
	case v.Status == deliveries.StatusReady:
		page.Note = d.ReadyNote
	case v.Status == deliveries.StatusUnderReview:
		page.Note = d.UnderReviewNote
	case v.Status == deliveries.StatusRetired:
		page.Note = d.RetiredNote
	case v.Confirmed:
		page.Note = d.confirmedNote(v)
	}
	p.render(w, r, status, p.delivery, pageData{T: t, Title: d.Title, Token: token, CSRF: p.formToken(token, claims),
		Error: problem, Delivery: page})
}

// deliveryText is the wording of the delivery page in one language.
type deliveryText struct {
	Title string
	// Labels of what was delivered.
	ProductLabel, AccountLabel, OrderLabel, DeliveredLabel, StatusLabel string
	InstructionsLabel, NoInstructions, DeadlineLabel, DeadlineHint      string
	// Statuses says each status in words; StatusNow says the one a
	// refused action found.
	Statuses  map[deliveries.Status]string
	StatusNow string

	ReadyNote                    string
	ConfirmedNote, ConfirmedAuto string
	UnderReviewTitle             string
	UnderReviewNote              string
	RetiredTitle, RetiredNote    string
	AlreadyConfirmedTitle        string

	ConfirmHeading, ConfirmHint, ConfirmButton string

	ReportHeading, ReportHint         string
	DescriptionLabel, DescriptionHint string
	ScreenshotLabel, ScreenshotHint   string
	ReportButton                      string
	DescriptionMissing                string
	DescriptionTooLong                string
	DescriptionInvalid                string
	ScreenshotNotImage                string
	ScreenshotTooLarge                string

	ConfirmedTitle, ConfirmedBody, WarrantyUntil string
	ReportedTitle, ReportedBody, CaseReference   string

	// Months and At write a date: "2 March 2025, 14:05 UTC".
	Months [12]string
	At     string
}

// status says s in words.
func (d *deliveryText) status(s deliveries.Status) string {
	if w, ok := d.Statuses[s]; ok {
		return w
	}
	return string(s)
}

// date writes at in UTC as the page's language does.
func (d *deliveryText) date(at time.Time) string {
	at = at.UTC()
	return fmt.Sprintf(d.At, at.Day(), d.Months[at.Month()-1], at.Year(), at.Format("15:04"))
}

// confirmedNote says who confirmed v, and when.
func (d *deliveryText) confirmedNote(v deliveries.DeliveryView) string {
	note := d.ConfirmedNote
	if v.ConfirmedBy == "system" {
		note = d.ConfirmedAuto
	}
	when := ""
	if v.ConfirmedAt != nil {
		when = d.date(*v.ConfirmedAt)
	}
	return fmt.Sprintf(note, when)
}

var deliveryTexts = pageTexts{en: deliveryEN, fr: deliveryFR}

var (
	deliveryEN = &pageText{
		Lang: "en", Brand: "Customer support",
		Footer:         "You received this link by email about your order. Do not share it: it opens your delivery’s page.",
		ForbiddenTitle: "This link is not valid", ForbiddenBody: "The link may have been altered or copied incompletely. Open it again from the email we sent you.",
		ExpiredTitle: "This link has expired", ExpiredBody: "This page can only be used until the delivery’s confirmation deadline. If something is wrong with the account, contact support from your order.",
		NotFoundTitle: "Page not found", NotFoundBody: "We cannot find this delivery. Check that the link is complete.",
		TooManyTitle: "Too many attempts", TooManyBody: "Please wait a minute, then try again.",
		BadFormTitle: "Your request could not be read", BadFormBody: "The form was incomplete. Open the link from your email again and try once more.",
		StaleFormTitle: "This form can no longer be sent", StaleFormBody: "The form did not come from this delivery’s page. Open the link from your email again and try once more.",
		MethodTitle: "This page cannot be used that way", MethodBody: "Open the link from your email again.",
		UnavailableTitle: "Temporarily unavailable", UnavailableBody: "We cannot take your request right now. Please try again in a few minutes.",
		ErrorTitle: "Something went wrong", ErrorBody: "Please try again later.",
		ClosedTitle: "This can no longer be done", ClosedBody: "Open the link from your email again to see where the delivery stands.",
		Delivery: &deliveryText{
			Title:        "Your account delivery",
			ProductLabel: "Product", AccountLabel: "Account", OrderLabel: "Order", DeliveredLabel: "Delivered",
			StatusLabel: "Status", InstructionsLabel: "How to secure and recover the account",
			NoInstructions: "No instructions came with this account.",
			DeadlineLabel:  "Confirm by", DeadlineHint: "If you tell us nothing by then, the delivery is confirmed automatically.",
			Statuses: map[deliveries.Status]string{
				deliveries.StatusReady: "Being prepared", deliveries.StatusDelivered: "Delivered",
				deliveries.StatusWaitingCustomer: "Waiting for you to secure the account",
				deliveries.StatusUnderReview:     "Under review", deliveries.StatusRecovered: "Recovered",
				deliveries.StatusRetired: "Ended",
			},
			StatusNow:        "The delivery’s status is now: %s.",
			ReadyNote:        "The account has not been handed over yet. Come back to this page once you receive it.",
			ConfirmedNote:    "You confirmed that the account works (%s).",
			ConfirmedAuto:    "The delivery was confirmed automatically when its deadline passed (%s).",
			UnderReviewTitle: "A case is open",
			UnderReviewNote:  "We received your problem and a case is open: our team is looking into it and will write to you by email.",
			RetiredTitle:     "This delivery has ended", RetiredNote: "This delivery has ended: nothing can be confirmed or reported here any more.",
			AlreadyConfirmedTitle: "This delivery is already confirmed",
			ConfirmHeading:        "Does the account work?",
			ConfirmHint:           "Confirm once you have signed in and secured the account as the instructions say.",
			ConfirmButton:         "Confirm the account works",
			ReportHeading:         "Report a problem",
			ReportHint:            "Something wrong with the account? Tell us: a case is opened and our team answers you by email.",
			DescriptionLabel:      "What is wrong?",
			DescriptionHint:       "Up to 20,000 characters.",
			ScreenshotLabel:       "A screenshot (optional)",
			ScreenshotHint:        "An image of at most %d MB.",
			ReportButton:          "Report the problem",
			DescriptionMissing:    "Describe the problem.",
			DescriptionTooLong:    "Your description is too long: keep it to 20,000 characters.",
			DescriptionInvalid:    "Your description holds characters we cannot store: remove them and send again.",
			ScreenshotNotImage:    "The screenshot must be an image (PNG, JPEG, GIF or WebP).",
			ScreenshotTooLarge:    "The screenshot is too large: at most %d MB.",
			ConfirmedTitle:        "Thank you!",
			ConfirmedBody:         "You confirmed that the account works.",
			WarrantyUntil:         "If a problem appears, the warranty covers the account until %s.",
			ReportedTitle:         "We received your problem",
			ReportedBody:          "A case has been opened: our team is looking into it and will write to you by email.",
			CaseReference:         "Its reference is %s.",
			Months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August",
				"September", "October", "November", "December"},
			At: "%d %s %d, %s UTC",
		},
	}
	deliveryFR = &pageText{
		Lang: "fr", Brand: "Service client",
		Footer:         "Vous avez reçu ce lien par e-mail au sujet de votre commande. Ne le partagez pas\u00a0: il ouvre la page de votre livraison.",
		ForbiddenTitle: "Ce lien n’est pas valide", ForbiddenBody: "Le lien a peut-être été modifié ou copié de façon incomplète. Ouvrez-le de nouveau depuis l’e-mail que nous vous avons envoyé.",
		ExpiredTitle: "Ce lien a expiré", ExpiredBody: "Cette page n’est utilisable que jusqu’à la date limite de confirmation de la livraison. Si le compte pose problème, contactez le service client depuis votre commande.",
		NotFoundTitle: "Page introuvable", NotFoundBody: "Nous ne trouvons pas cette livraison. Vérifiez que le lien est complet.",
		TooManyTitle: "Trop de tentatives", TooManyBody: "Veuillez patienter une minute, puis réessayer.",
		BadFormTitle: "Votre demande n’a pas pu être lue", BadFormBody: "Le formulaire était incomplet. Ouvrez de nouveau le lien de votre e-mail et réessayez.",
		StaleFormTitle: "Ce formulaire ne peut plus être envoyé", StaleFormBody: "Le formulaire ne provient pas de la page de cette livraison. Ouvrez de nouveau le lien de votre e-mail et réessayez.",
		MethodTitle: "Cette page ne s’utilise pas ainsi", MethodBody: "Ouvrez de nouveau le lien de votre e-mail.",
		UnavailableTitle: "Service momentanément indisponible", UnavailableBody: "Nous ne pouvons pas traiter votre demande pour le moment. Veuillez réessayer dans quelques minutes.",
		ErrorTitle: "Une erreur est survenue", ErrorBody: "Veuillez réessayer plus tard.",
		ClosedTitle: "Cette action n’est plus possible", ClosedBody: "Ouvrez de nouveau le lien de votre e-mail pour voir où en est la livraison.",
		Delivery: &deliveryText{
			Title:        "La livraison de votre compte",
			ProductLabel: "Produit", AccountLabel: "Compte", OrderLabel: "Commande", DeliveredLabel: "Livré le",
			StatusLabel: "Statut", InstructionsLabel: "Pour sécuriser et récupérer le compte",
			NoInstructions: "Aucune instruction n’accompagne ce compte.",
			DeadlineLabel:  "À confirmer avant le", DeadlineHint: "Sans nouvelles de votre part d’ici là, la livraison sera confirmée automatiquement.",
			Statuses: map[deliveries.Status]string{
				deliveries.StatusReady: "En préparation", deliveries.StatusDelivered: "Livré",
				deliveries.StatusWaitingCustomer: "En attente de votre action pour sécuriser le compte",
				deliveries.StatusUnderReview:     "En cours d’examen", deliveries.StatusRecovered: "Récupéré",
				deliveries.StatusRetired: "Terminé",
			},
			StatusNow:        "Le statut de la livraison est désormais\u00a0: %s.",
			ReadyNote:        "Le compte ne vous a pas encore été remis. Revenez sur cette page une fois que vous l’aurez reçu.",
			ConfirmedNote:    "Vous avez confirmé que le compte fonctionne (%s).",
			ConfirmedAuto:    "La livraison a été confirmée automatiquement à l’échéance du délai (%s).",
			UnderReviewTitle: "Un dossier est ouvert",
			UnderReviewNote:  "Nous avons bien reçu votre signalement et un dossier est ouvert\u00a0: notre équipe l’examine et vous répondra par e-mail.",
			RetiredTitle:     "Cette livraison est terminée", RetiredNote: "Cette livraison est terminée\u00a0: il n’est plus possible de la confirmer ni de signaler un problème ici.",
			AlreadyConfirmedTitle: "Cette livraison est déjà confirmée",
			ConfirmHeading:        "Le compte fonctionne-t-il\u00a0?",
			ConfirmHint:           "Confirmez une fois connecté(e) et le compte sécurisé comme l’indiquent les instructions.",
			ConfirmButton:         "Confirmer que le compte fonctionne",
			ReportHeading:         "Signaler un problème",
			ReportHint:            "Le compte pose problème\u00a0? Dites-le-nous\u00a0: un dossier est ouvert et notre équipe vous répond par e-mail.",
			DescriptionLabel:      "Quel est le problème\u00a0?",
			DescriptionHint:       "20\u00a0000 caractères au maximum.",
			ScreenshotLabel:       "Une capture d’écran (facultatif)",
			ScreenshotHint:        "Une image de %d\u00a0Mo au maximum.",
			ReportButton:          "Signaler le problème",
			DescriptionMissing:    "Décrivez le problème.",
			DescriptionTooLong:    "Votre description est trop longue\u00a0: 20\u00a0000 caractères au maximum.",
			DescriptionInvalid:    "Votre description contient des caractères que nous ne pouvons pas enregistrer\u00a0: retirez-les, puis envoyez-la de nouveau.",
			ScreenshotNotImage:    "La capture d’écran doit être une image (PNG, JPEG, GIF ou WebP).",
			ScreenshotTooLarge:    "La capture d’écran est trop volumineuse\u00a0: %d\u00a0Mo au maximum.",
			ConfirmedTitle:        "Merci\u00a0!",
			ConfirmedBody:         "Vous avez confirmé que le compte fonctionne.",
			WarrantyUntil:         "Si un problème survient, la garantie couvre le compte jusqu’au %s.",
			ReportedTitle:         "Nous avons bien reçu votre signalement",
			ReportedBody:          "Un dossier a été ouvert\u00a0: notre équipe l’examine et vous répondra par e-mail.",
			CaseReference:         "Sa référence est %s.",
			Months: [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
				"septembre", "octobre", "novembre", "décembre"},
			At: "%d %s %d à %s UTC",
		},
	}
)
