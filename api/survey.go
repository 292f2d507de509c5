package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	enumspb "go.temporal.io/api/enums/v1"

	"handoff/links"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// The satisfaction survey of a resolved case: GET /survey/{id}?t=<token>
// shows it (with &rating=N pre-selected, the email's one-click links), POST
// /survey/{id} answers it through the case's csat update. A GET never
// answers: a mail scanner prefetching the email's links changes nothing.

// maxCommentRunes is the longest comment the csat update takes.
const maxCommentRunes = 2000

// surveyUpdateKey is the csat update's key of a link: one link answers
// once, a double submit is the same update.
func surveyUpdateKey(linkToken string) string {
	return "survey-" + tokenDigest(linkToken)
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
	return openLink(p, w, r, id, token, linkTarget[cases.CaseView]{
		purpose: links.PurposeSurvey, texts: surveyTexts, read: p.s.readCase,
		customer: func(v cases.CaseView) vocab.Customer { return v.Customer },
	})
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
	p.workflowRefusal(w, r, t, err)
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
