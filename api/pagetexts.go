package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// pageText is the wording of the pages in one language.
type pageText struct {
	Lang  string
	Brand string
	// Footer says where the page comes from.
	Footer string

	SurveyTitle    string
	RequestLabel   string
	Legend         string
	RatingLabels   [5]string
	CommentLabel   string
	CommentHint    string
	Submit         string
	RatingMissing  string
	CommentTooLong string
	CommentInvalid string
	// OutOf writes a rating: "4 out of 5".
	OutOf string

	ThanksTitle, ThanksBody   string
	AlreadyTitle, AlreadyBody string
	ClosedTitle, ClosedBody   string

	ForbiddenTitle, ForbiddenBody     string
	ExpiredTitle, ExpiredBody         string
	NotFoundTitle, NotFoundBody       string
	TooManyTitle, TooManyBody         string
	BadFormTitle, BadFormBody         string
	StaleFormTitle, StaleFormBody     string
	MethodTitle, MethodBody           string
	UnavailableTitle, UnavailableBody string
	ErrorTitle, ErrorBody             string

	// Delivery is the wording of the delivery page (nil on the survey's).
	Delivery *deliveryText
}

// rating writes n as the pages say a rating.
func (t *pageText) rating(n int) string { return fmt.Sprintf(t.OutOf, n) }

// refusal answers the title and message of the refusal page of status.
func (t *pageText) refusal(status int) (string, string) {
	switch status {
	case http.StatusForbidden:
		return t.ForbiddenTitle, t.ForbiddenBody
	case http.StatusGone:
		return t.ExpiredTitle, t.ExpiredBody
	case http.StatusNotFound:
		return t.NotFoundTitle, t.NotFoundBody
	case http.StatusTooManyRequests:
		return t.TooManyTitle, t.TooManyBody
	case http.StatusBadRequest:
		return t.BadFormTitle, t.BadFormBody
	case http.StatusMethodNotAllowed:
		return t.MethodTitle, t.MethodBody
	case http.StatusServiceUnavailable:
		return t.UnavailableTitle, t.UnavailableBody
	case http.StatusConflict:
		return t.ClosedTitle, t.ClosedBody
	}
	return t.ErrorTitle, t.ErrorBody
}

var (
	textEN = &pageText{
		Lang: "en", Brand: "Customer support",
		Footer:      "You received this link by email about your support request. Do not share it: it opens your request’s survey.",
		SurveyTitle: "How did we do?", RequestLabel: "Your request",
		Legend:         "How satisfied are you with how we handled your request?",
		RatingLabels:   [5]string{"Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied", "Very satisfied"},
		CommentLabel:   "Anything you would like to tell us? (optional)",
		CommentHint:    "Up to 2,000 characters.",
		Submit:         "Send my answer",
		RatingMissing:  "Choose a rating from 1 to 5.",
		CommentTooLong: "Your comment is too long: keep it to 2,000 characters.",
		CommentInvalid: "Your comment holds characters we cannot store: remove them and send again.",
		OutOf:          "%d out of 5",
		ThanksTitle:    "Thank you!", ThanksBody: "Your answer has been recorded: you rated our help %s.",
		AlreadyTitle: "You have already answered", AlreadyBody: "This survey was already answered, with a rating of %s. Only the first answer counts.",
		ClosedTitle: "This survey is closed", ClosedBody: "This survey can no longer be answered: its time has run out, or your request is no longer resolved.",
		ForbiddenTitle: "This link is not valid", ForbiddenBody: "The link may have been altered or copied incompletely. Open it again from the email we sent you.",
		ExpiredTitle: "This link has expired", ExpiredBody: "The survey can only be answered for a limited time after your request was resolved.",
		NotFoundTitle: "Page not found", NotFoundBody: "We cannot find this request. Check that the link is complete.",
		TooManyTitle: "Too many attempts", TooManyBody: "Please wait a minute, then try again.",
		BadFormTitle: "Your answer could not be read", BadFormBody: "The form was incomplete. Open the link from your email again and answer once more.",
		StaleFormTitle: "This form can no longer be sent", StaleFormBody: "The form did not come from this survey’s page. Open the link from your email again and answer once more.",
		MethodTitle: "This page cannot be used that way", MethodBody: "Open the link from your email again.",
		UnavailableTitle: "Temporarily unavailable", UnavailableBody: "We cannot take your answer right now. Please try again in a few minutes.",
		ErrorTitle: "Something went wrong", ErrorBody: "Please try again later.",
	}
	textFR = &pageText{
		Lang: "fr", Brand: "Service client",
		Footer:      "Vous avez reçu ce lien par e-mail au sujet de votre demande d’assistance. Ne le partagez pas\u00a0: il ouvre le questionnaire de votre demande.",
		SurveyTitle: "Votre avis nous intéresse", RequestLabel: "Votre demande",
		Legend:         "Êtes-vous satisfait(e) de la façon dont nous avons traité votre demande\u00a0?",
		RatingLabels:   [5]string{"Très insatisfait(e)", "Insatisfait(e)", "Ni satisfait(e) ni insatisfait(e)", "Satisfait(e)", "Très satisfait(e)"},
		CommentLabel:   "Souhaitez-vous ajouter quelque chose\u00a0? (facultatif)",
		CommentHint:    "2\u00a0000 caractères au maximum.",
		Submit:         "Envoyer ma réponse",
		RatingMissing:  "Choisissez une note de 1 à 5.",
		CommentTooLong: "Votre commentaire est trop long\u00a0: 2\u00a0000 caractères au maximum.",
		CommentInvalid: "Votre commentaire contient des caractères que nous ne pouvons pas enregistrer\u00a0: retirez-les, puis envoyez-le de nouveau.",
		OutOf:          "%d sur 5",
		ThanksTitle:    "Merci\u00a0!", ThanksBody: "Votre réponse a bien été enregistrée\u00a0: vous avez donné à notre aide la note de %s.",
		AlreadyTitle: "Vous avez déjà répondu", AlreadyBody: "Ce questionnaire a déjà reçu une réponse, avec la note de %s. Seule la première réponse est prise en compte.",
		ClosedTitle: "Ce questionnaire est clos", ClosedBody: "Il n’est plus possible de répondre à ce questionnaire\u00a0: le délai est écoulé, ou votre demande n’est plus résolue.",
		ForbiddenTitle: "Ce lien n’est pas valide", ForbiddenBody: "Le lien a peut-être été modifié ou copié de façon incomplète. Ouvrez-le de nouveau depuis l’e-mail que nous vous avons envoyé.",
		ExpiredTitle: "Ce lien a expiré", ExpiredBody: "Il n’est possible de répondre au questionnaire que pendant une durée limitée après la résolution de votre demande.",
		NotFoundTitle: "Page introuvable", NotFoundBody: "Nous ne trouvons pas cette demande. Vérifiez que le lien est complet.",
		TooManyTitle: "Trop de tentatives", TooManyBody: "Veuillez patienter une minute, puis réessayer.",
		BadFormTitle: "Votre réponse n’a pas pu être lue", BadFormBody: "Le formulaire était incomplet. Ouvrez de nouveau le lien de votre e-mail et répondez encore une fois.",
		StaleFormTitle: "Ce formulaire ne peut plus être envoyé", StaleFormBody: "Le formulaire ne provient pas de la page de ce questionnaire. Ouvrez de nouveau le lien de votre e-mail et répondez encore une fois.",
		MethodTitle: "Cette page ne s’utilise pas ainsi", MethodBody: "Ouvrez de nouveau le lien de votre e-mail.",
		UnavailableTitle: "Service momentanément indisponible", UnavailableBody: "Nous ne pouvons pas enregistrer votre réponse pour le moment. Veuillez réessayer dans quelques minutes.",
		ErrorTitle: "Une erreur est survenue", ErrorBody: "Veuillez réessayer plus tard.",
	}
)

// pageTexts is the wording of one kind of page, in each language.
type pageTexts struct{ en, fr *pageText }

var surveyTexts = pageTexts{en: textEN, fr: textFR}

// locale answers the wording of a customer's locale (en unless fr). Once
// the case or delivery is known, its customer's locale alone chooses:
// Accept-Language never overrides it.
func (ts pageTexts) locale(locale string) *pageText {
	if locale == "fr" {
		return ts.fr
	}
	return ts.en
}

// accepted answers French when the browser prefers it to English.
func (ts pageTexts) accepted(header string) *pageText {
	best, bestQ := ts.en, 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		lang, _, _ := strings.Cut(strings.ToLower(tag), "-")
		var t *pageText
		switch lang {
		case "fr":
			t = ts.fr
		case "en":
			t = ts.en
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = t, q
		}
	}
	return best
}

type pageTextsKey struct{}

// use makes ts the wording of the refusals of the requests it handles.
func (ts pageTexts) use(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), pageTextsKey{}, ts)))
	})
}

// caseText answers the wording of a case customer's locale.
func caseText(locale string) *pageText { return surveyTexts.locale(locale) }

// browserText answers the wording of a page answered before any case or
// delivery is known (a link refused before it is read): the wording of the
// request's kind of page (the survey's unless use chose another), in the
// browser's Accept-Language.
func browserText(r *http.Request) *pageText {
	ts, ok := r.Context().Value(pageTextsKey{}).(pageTexts)
	if !ok {
		ts = surveyTexts
	}
	return ts.accepted(r.Header.Get("Accept-Language"))
}

// acceptedText answers the survey's wording the browser prefers.
func acceptedText(header string) *pageText { return surveyTexts.accepted(header) }
