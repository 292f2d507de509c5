package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	enumspb "go.temporal.io/api/enums/v1"

	"handoff/links"
	"handoff/workflows/cases"
)

// The satisfaction survey of a resolved case: GET /survey/{id}?t=<token>
// shows it (with &rating=N pre-selected, the email's one-click links), POST
// /survey/{id} answers it through the case's csat update. A GET never
// answers: a mail scanner prefetching the email's links changes nothing.

// purposeSurveyForm is the purpose of a survey form's CSRF token. It is no
// purpose a link is signed for, so a form token opens no page, and a link
// token is no form token.
const purposeSurveyForm = "survey-form"

// maxCommentRunes is the longest comment the csat update takes.
const maxCommentRunes = 2000

var surveyCaseID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// formSubject answers what a link token's form token is signed over: a
// digest of the link token, so the form token is bound to that one link.
func formSubject(linkToken string) string {
	sum := sha256.Sum256([]byte(purposeSurveyForm + "\x00" + linkToken))
	return hex.EncodeToString(sum[:])
}

// formToken answers the CSRF token of the survey form opened by linkToken.
//
// The form token is a links token of its own purpose (survey-form) whose
// subject is a digest of the link token, signed by the same signer: an
// HMAC of the link token under the link keys, stateless (no cookie, no
// session, any API replica checks it) and rotating with the link keys. A
// POST must carry both the link token and the form token that only a GET
// of that link's page hands out; a page of another site cannot read it
// (same-origin policy), nor take it from another link's page.
func (p *pages) formToken(linkToken string, c links.Claims) string {
	return p.signer.Sign(links.Claims{Purpose: purposeSurveyForm, Subject: formSubject(linkToken),
		Customer: c.Customer, Expires: c.Expires})
}

// formTokenValid reports that formToken was handed out with linkToken's page.
func (p *pages) formTokenValid(formToken, linkToken string) bool {
	_, err := p.signer.Verify(formToken, purposeSurveyForm, formSubject(linkToken), p.now())
	return err == nil
}

// surveyUpdateKey is the csat update's key of a link: one link answers
// once, a double submit is the same update.
func surveyUpdateKey(linkToken string) string {
	sum := sha256.Sum256([]byte(linkToken))
	return "survey-" + hex.EncodeToString(sum[:16])
}

func (p *pages) getSurvey(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	if !p.allowLink(w, r, token) {
		return
	}
	v, claims, t, ok := p.openSurvey(w, r, chi.URLParam(r, "id"), token)
	if !ok {
		return
	}
	if v.CSAT != nil {
		p.already(w, r, http.StatusOK, t, v.CSAT.Rating)
		return
	}
	if !p.answerable(r.Context(), v) {
		p.say(w, r, http.StatusConflict, t, t.ClosedTitle, t.ClosedBody)
		return
	}
	// The email's one-click links land here with their rating selected;
	// anything but 1 to 5 selects nothing.
	rating, _ := parseRating(r.URL.Query().Get("rating"))
	p.form(w, r, http.StatusOK, t, v, token, claims, rating, "", "")
}

func (p *pages) postSurvey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.refuse(w, r, http.StatusBadRequest, browserText(r))
		return
	}
	token := r.PostForm.Get("t")
	if token == "" {
		p.refuse(w, r, http.StatusBadRequest, browserText(r))
		return
	}
	if !p.allowLink(w, r, token) {
		return
	}
	id := chi.URLParam(r, "id")
	v, claims, t, ok := p.openSurvey(w, r, id, token)
	if !ok {
		return
	}
	if !p.formTokenValid(r.PostForm.Get("csrf"), token) {
		p.say(w, r, http.StatusForbidden, t, t.StaleFormTitle, t.StaleFormBody)
		return
	}
	if v.CSAT != nil {
		p.already(w, r, http.StatusConflict, t, v.CSAT.Rating)
		return
	}
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	rating, ok := parseRating(r.PostForm.Get("rating"))
	switch {
	case !ok:
		p.form(w, r, http.StatusBadRequest, t, v, token, claims, 0, comment, t.RatingMissing)
		return
	case cleanText(comment) != "":
		p.form(w, r, http.StatusBadRequest, t, v, token, claims, rating, "", t.CommentInvalid)
		return
	case utf8.RuneCountInString(comment) > maxCommentRunes:
		p.form(w, r, http.StatusBadRequest, t, v, token, claims, rating, comment, t.CommentTooLong)
		return
	}
	out, err := p.s.act(r.Context(), id, surveyUpdateKey(token), cases.UpdateCSAT, cases.CSATInput{
		Actor: "customer:" + claims.Customer, Rating: rating, Comment: comment})
	if err != nil {
		p.csatRefused(w, r, t, id, err)
		return
	}
	answer := out.Body.CSAT
	switch {
	case answer == nil:
		p.refuse(w, r, http.StatusServiceUnavailable, t)
	case answer.Rating != rating || answer.Comment != comment:
		// The same link answered before with another answer (a double
		// submit with a change): the update ran once, the first answer holds.
		p.already(w, r, http.StatusConflict, t, answer.Rating)
	default:
		p.say(w, r, http.StatusOK, t, t.ThanksTitle, fmt.Sprintf(t.ThanksBody, t.rating(rating)))
	}
}

// openSurvey verifies token as the survey link of case id and reads the
// case, whose customer must be the link's; else it writes the refusal page
// and answers false.
func (p *pages) openSurvey(w http.ResponseWriter, r *http.Request, id, token string) (cases.CaseView, links.Claims, *pageText, bool) {
	if !surveyCaseID.MatchString(id) {
		p.refuse(w, r, http.StatusNotFound, browserText(r))
		return cases.CaseView{}, links.Claims{}, nil, false
	}
	claims, err := p.signer.Verify(token, links.PurposeSurvey, id, p.now())
	if err != nil {
		p.linkRefusal(w, r, err, p.expiredText(r, id, claims, err))
		return cases.CaseView{}, links.Claims{}, nil, false
	}
	v, err := p.s.readCase(r.Context(), id)
	if err != nil {
		p.caseRefusal(w, r, browserText(r), err)
		return cases.CaseView{}, links.Claims{}, nil, false
	}
	t := caseText(v.Customer.Locale)
	if v.Customer.ID != claims.Customer {
		p.refuse(w, r, http.StatusForbidden, t)
		return cases.CaseView{}, links.Claims{}, nil, false
	}
	return v, claims, t, true
}

// expiredText answers the wording of a refused link's page: an expired
// link, intact and signed for this case, is answered in its customer's
// locale; any other in the browser's.
func (p *pages) expiredText(r *http.Request, id string, c links.Claims, err error) *pageText {
	if !errors.Is(err, links.ErrExpired) {
		return browserText(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	v, err := p.s.readCase(ctx, id)
	if err != nil || v.Customer.ID != c.Customer {
		return browserText(r)
	}
	return caseText(v.Customer.Locale)
}

// answerable reports that the case's survey may still be answered, as far
// as the case's view tells: resolved, or closed with its workflow still
// waiting on the survey. The csat update has the last word (its window).
func (p *pages) answerable(ctx context.Context, v cases.CaseView) bool {
	switch {
	case v.ResolvedAt == nil:
		return false
	case v.Status == cases.StatusResolved:
		return true
	case v.Status != cases.StatusClosed:
		return false
	}
	// A closed case's workflow ends once its survey can no longer be
	// answered; while it runs, the survey is open.
	desc, err := p.s.temporal.DescribeWorkflowExecution(ctx, cases.CaseWorkflowID(v.ID), "")
	if err != nil {
		return true
	}
	return desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// csatRefused writes the page of a csat update the case refused.
func (p *pages) csatRefused(w http.ResponseWriter, r *http.Request, t *pageText, id string, err error) {
	var prob *problem
	if errors.As(err, &prob) && prob.Status == http.StatusConflict {
		// Already rated, past its window, no longer resolved, or its
		// workflow ended: the case as it is now tells which.
		if v, err := p.s.readCase(r.Context(), id); err == nil && v.CSAT != nil {
			p.already(w, r, http.StatusConflict, t, v.CSAT.Rating)
			return
		}
		p.say(w, r, http.StatusConflict, t, t.ClosedTitle, t.ClosedBody)
		return
	}
	p.caseRefusal(w, r, t, err)
}

// caseRefusal writes the page of what reading or updating a case answered:
// 404 for an unknown case, 400 for a refused answer, else 503.
func (p *pages) caseRefusal(w http.ResponseWriter, r *http.Request, t *pageText, err error) {
	var prob *problem
	if !errors.As(err, &prob) {
		p.s.logger.ErrorContext(r.Context(), "survey page failed", "error", err)
		p.refuse(w, r, http.StatusServiceUnavailable, t)
		return
	}
	switch prob.Status {
	case http.StatusNotFound:
		p.refuse(w, r, http.StatusNotFound, t)
	case http.StatusConflict:
		p.say(w, r, http.StatusConflict, t, t.ClosedTitle, t.ClosedBody)
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		p.refuse(w, r, http.StatusBadRequest, t)
	default:
		p.refuse(w, r, http.StatusServiceUnavailable, t)
	}
}

// already writes the "already answered" page with the first rating.
func (p *pages) already(w http.ResponseWriter, r *http.Request, status int, t *pageText, rating int) {
	p.say(w, r, status, t, t.AlreadyTitle, fmt.Sprintf(t.AlreadyBody, t.rating(rating)))
}

// form writes the survey form of case v, rating pre-selected (none when 0).
func (p *pages) form(w http.ResponseWriter, r *http.Request, status int, t *pageText, v cases.CaseView,
	token string, claims links.Claims, rating int, comment, problem string) {
	choices := make([]ratingChoice, 5)
	for i := range choices {
		choices[i] = ratingChoice{Value: i + 1, Label: t.RatingLabels[i], Checked: rating == i+1}
	}
	p.render(w, r, status, p.survey, pageData{T: t, Title: t.SurveyTitle, Subject: v.Subject,
		Action: "./" + v.ID, Token: token, CSRF: p.formToken(token, claims),
		Ratings: choices, Comment: comment, Error: problem})
}

// parseRating reads a rating of 1 to 5.
func parseRating(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 5 || len(s) != 1 {
		return 0, false
	}
	return n, true
}
