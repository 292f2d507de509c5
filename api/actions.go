package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"handoff/kb"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Each action is a Workflow Update on the case; the body's fields and the
// caller (recorded as the actor) become the update's input.

type assignInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Assignee string   `json:"assignee" minLength:"1" maxLength:"100"`
		Team     teamName `json:"team,omitempty" doc:"Moves the case to this team too."`
	}
}

func (s *server) assign(ctx context.Context, in *assignInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateAssign, cases.AssignInput{
		Actor: c.actor(), ActorTeam: c.team(), Assignee: in.Body.Assignee, Team: vocab.Team(in.Body.Team)})
}

type messageInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Body string `json:"body" minLength:"1" maxLength:"20000"`
	}
}

// replyInput is an answer to the customer, with the knowledge-base
// article the agent inserts in it, if any.
type replyInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Body      string `json:"body" minLength:"1" maxLength:"20000"`
		ArticleID string `json:"article_id,omitempty" maxLength:"64" pattern:"^KB-[A-Za-z0-9_-]+$" doc:"A published article (one of the case's suggested_articles, say) to insert: its title and public link are added under the body, and the case records that it answered with it."`
	}
}

func (s *server) reply(ctx context.Context, in *replyInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	body, articleID := in.Body.Body, in.Body.ArticleID
	if articleID != "" {
		a, err := s.store.GetArticle(ctx, articleID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && a.Status != kb.StatusPublished) {
			return nil, newProblem(http.StatusUnprocessableEntity, "no published article "+articleID,
				fieldProblem{Field: "article_id", Message: "names no published article"})
		}
		if err != nil {
			return nil, s.caseError(ctx, in.ID, err)
		}
		body += "\n\n" + a.Title + ": " + strings.TrimRight(s.kbPageURL, "/") + "/" + url.PathEscape(a.ID)
	}
	out, err := s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateReply, cases.MessageInput{
		Actor: c.actor(), ActorTeam: c.team(), Body: body, ArticleID: articleID})
	if err == nil && articleID != "" {
		// The reply is sent: a use not recorded is logged, not answered as a failure.
		if rerr := s.store.RecordArticleUse(ctx, articleID, in.ID, c.actor(), time.Now().UTC()); rerr != nil {
			s.logger.WarnContext(ctx, "article use not recorded", "article", articleID, "case", in.ID, "error", rerr)
		}
	}
	return out, err
}

// note is open to every staff team: anyone may leave what they know.
func (s *server) note(ctx context.Context, in *messageInput) (*caseOutput, error) {
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateNote, cases.MessageInput{
		Actor: callerFrom(ctx).actor(), Body: in.Body.Body})
}

func (s *server) customerMessage(ctx context.Context, in *messageInput) (*caseOutput, error) {
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateCustomerMessage, cases.MessageInput{
		Actor: callerFrom(ctx).actor(), Body: in.Body.Body})
}

type reasonInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

func (s *server) waitOnCustomer(ctx context.Context, in *reasonInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateWaitOnCustomer, cases.ReasonInput{
		Actor: c.actor(), ActorTeam: c.team(), Reason: in.Body.Reason})
}

func (s *server) reopen(ctx context.Context, in *reasonInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateReopen, cases.ReasonInput{
		Actor: c.actor(), ActorTeam: c.team(), Reason: in.Body.Reason})
}

type escalateInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Team   teamName `json:"team" doc:"The case's own team raises its escalation level; another team takes it over."`
		Reason string   `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

func (s *server) escalate(ctx context.Context, in *escalateInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateEscalate, cases.EscalateInput{
		Actor: c.actor(), ActorTeam: c.team(), Team: vocab.Team(in.Body.Team), Reason: in.Body.Reason})
}

type priorityInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Priority priorityName `json:"priority"`
	}
}

func (s *server) changePriority(ctx context.Context, in *priorityInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateChangePriority, cases.PriorityInput{
		Actor: c.actor(), ActorTeam: c.team(), Priority: vocab.Priority(in.Body.Priority)})
}

type resolveInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Resolution string `json:"resolution" minLength:"1" maxLength:"20000"`
	}
}

func (s *server) resolve(ctx context.Context, in *resolveInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateResolve, cases.ResolveInput{
		Actor: c.actor(), ActorTeam: c.team(), Resolution: in.Body.Resolution})
}

type closeInput struct {
	CaseIDParam
	IdempotencyParam
}

func (s *server) close(ctx context.Context, in *closeInput) (*caseOutput, error) {
	c := callerFrom(ctx)
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateClose, cases.ReasonInput{
		Actor: c.actor(), ActorTeam: c.team(), Reason: "closed by " + c.actor()})
}

type csatInput struct {
	CaseIDParam
	IdempotencyParam
	Body struct {
		Rating  int    `json:"rating" minimum:"1" maximum:"5"`
		Comment string `json:"comment,omitempty" maxLength:"2000"`
	}
}

func (s *server) csat(ctx context.Context, in *csatInput) (*caseOutput, error) {
	return s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateCSAT, cases.CSATInput{
		Actor: callerFrom(ctx).actor(), Rating: in.Body.Rating, Comment: in.Body.Comment})
}

type createKeyInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100" doc:"Who or what uses the key."`
		Role string `json:"role" enum:"integration,agent,account_manager,security,trust_safety,admin"`
	}
}

type createKeyOutput struct {
	Status int
	Body   struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
		Key  string `json:"key" doc:"The key itself, shown this once only."`
	}
}

func (s *server) createKey(ctx context.Context, in *createKeyInput) (*createKeyOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	role, err := store.ParseRole(in.Body.Role)
	if err != nil {
		return nil, newProblem(422, err.Error(), fieldProblem{Field: "role", Message: err.Error()})
	}
	key, secret, err := s.store.CreateAPIKey(ctx, in.Body.Name, role)
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	out := &createKeyOutput{Status: 201}
	out.Body.ID, out.Body.Name, out.Body.Role, out.Body.Key = key.ID, key.Name, string(key.Role), secret
	return out, nil
}
