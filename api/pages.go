package main

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"

	"handoff/links"
	"handoff/workflows/vocab"
)

// The customer pages: what a customer, who has no API key, reaches from a
// link in an email. They are server-rendered HTML (html/template, no
// JavaScript), styled by one stylesheet the API serves, behind signed
// links (package links), rate-limited per link and per client address, and
// every refusal is an HTML page with its status: never JSON, never a stack
// trace.

//go:embed pagetemplates
var pageFiles embed.FS

// pageCSP lets a page load nothing but the API's own stylesheet and post
// its forms to the API only; no script runs, no one frames it.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// Rate limits of the pages: each client address and each link token has a
// bucket of burst requests refilled at rate per second. A customer opens a
// page and answers it in a handful of requests; a guesser of tokens or an
// address hammering the pages runs dry and is answered 429.
const (
	addrBurst = 60
	addrRate  = 0.5 // 30 a minute
	linkBurst = 20
	linkRate  = 0.2 // 12 a minute
)

// maxFormBytes bounds a page's POST body: a token, a rating and a comment
// of 2000 characters fit many times over.
const maxFormBytes = 32 << 10

// pages serves the customer pages.
type pages struct {
	s      *server
	signer *links.Signer
	now    func() time.Time
	byAddr *limiter
	byLink *limiter
	// survey renders the survey form, delivery a delivery's page, message
	// every other page.
	survey, delivery, message *template.Template
}

// newPages answers the pages of s whose links signer verifies.
func newPages(s *server, signer *links.Signer) *pages {
	parse := func(name string) *template.Template {
		return template.Must(template.New(name).ParseFS(pageFiles, "pagetemplates/layout.html", "pagetemplates/"+name))
	}
	return &pages{
		s: s, signer: signer, now: time.Now,
		byAddr: newLimiter(addrBurst, addrRate), byLink: newLimiter(linkBurst, linkRate),
		survey: parse("survey.html"), delivery: parse("delivery.html"), message: parse("message.html"),
	}
}

// mountPages adds the public customer pages to r, outside the keyed /v1
// API: the stylesheet, the survey of a case and the page of a delivery.
func (s *server) mountPages(r chi.Router, signer *links.Signer) {
	newPages(s, signer).mount(r)
}

func (p *pages) mount(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(p.headers)
		r.Get("/pages/style.css", p.style)
	})
	p.section(r, "/survey", surveyTexts, func(r chi.Router) {
		r.Get("/{id}", p.getSurvey)
		r.Post("/{id}", p.postSurvey)
	})
	// Un-prefixed: the keyed API's deliveries are under /v1/deliveries.
	p.section(r, "/deliveries", deliveryTexts, func(r chi.Router) {
		r.Get("/{id}", p.getDelivery)
		r.Post("/{id}/confirm", p.confirmDelivery)
		r.Post("/{id}/report-problem", p.reportProblem)
	})
}

// section mounts the pages of one kind under prefix: their security
// headers, the limit per address, and every refusal (no such page, another
// method) a page worded by texts.
func (p *pages) section(r chi.Router, prefix string, texts pageTexts, routes func(chi.Router)) {
	r.Route(prefix, func(r chi.Router) {
		r.Use(texts.use, p.headers, p.limitAddr)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			p.refuse(w, r, http.StatusNotFound, browserText(r))
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, POST")
			p.refuse(w, r, http.StatusMethodNotAllowed, browserText(r))
		})
		routes(r)
	})
}

// headers sets the security headers of every page, and turns a panic into
// a 500 page instead of a dropped connection.
func (p *pages) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		// The link's token is in the page's address: no referrer carries it
		// anywhere, and no cache keeps it or the page.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				p.s.logger.ErrorContext(r.Context(), "page panicked", "path", r.URL.Path, "panic", fmt.Sprint(v))
				p.refuse(w, r, http.StatusInternalServerError, browserText(r))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// style serves the pages' one stylesheet.
func (p *pages) style(w http.ResponseWriter, _ *http.Request) {
	css, err := pageFiles.ReadFile("pagetemplates/style.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(css)
}

// limitAddr answers 429 to a client address that has run out of requests.
func (p *pages) limitAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := p.byAddr.allow(clientAddr(r), p.now()); !ok {
			p.tooMany(w, r, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowLink takes one request from token's bucket, answering the 429 page
// when it is empty.
func (p *pages) allowLink(w http.ResponseWriter, r *http.Request, token string) bool {
	wait, ok := p.byLink.allow(tokenDigest(token), p.now())
	if !ok {
		p.tooMany(w, r, wait)
	}
	return ok
}

// tokenDigest names a link token without holding it: the limiter's key,
// and the key of the updates one link runs (a double submit is one update).
func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

func (p *pages) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	p.refuse(w, r, http.StatusTooManyRequests, browserText(r))
}

// clientAddr is the address the request came from, without its port. The
// API is reached directly or through a proxy that sets no header this
// trusts, so X-Forwarded-For, which any client can write, is not read.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// pageData is what a page template renders.
type pageData struct {
	Lang string
	T    *pageText
	// Root leads from the page's address back to the API's root, so the
	// stylesheet is found behind a proxy's path prefix too.
	Root    string
	Title   string
	Message string
	// The survey form.
	Subject string
	Action  string
	Token   string
	CSRF    string
	Ratings []ratingChoice
	Comment string
	Error   string
	// The delivery page.
	Delivery *deliveryPage
}

type ratingChoice struct {
	Value   int
	Label   string
	Checked bool
}

// render writes the page tmpl of data with status.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, tmpl *template.Template, data pageData) {
	data.Lang = data.T.Lang
	data.Root = strings.Repeat("../", max(strings.Count(r.URL.Path, "/")-1, 0))
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "layout", data); err != nil {
		p.s.logger.ErrorContext(r.Context(), "page did not render", "path", r.URL.Path, "error", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(data.T.ErrorTitle))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// say writes a page of one title and one message.
func (p *pages) say(w http.ResponseWriter, r *http.Request, status int, t *pageText, title, message string) {
	p.render(w, r, status, p.message, pageData{T: t, Title: title, Message: message})
}

// refuse writes the refusal page of status.
func (p *pages) refuse(w http.ResponseWriter, r *http.Request, status int, t *pageText) {
	title, message := t.refusal(status)
	p.say(w, r, status, t, title, message)
}

// linkRefusal writes the page of a link Verify refused: 410 when it has
// expired, else 403.
func (p *pages) linkRefusal(w http.ResponseWriter, r *http.Request, err error, t *pageText) {
	if err == links.ErrExpired {
		p.refuse(w, r, http.StatusGone, t)
		return
	}
	p.refuse(w, r, http.StatusForbidden, t)
}

// limiter is a token bucket per key, in memory: each key holds up to burst
// requests and regains rate a second.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	rate    float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets is how many keys a limiter holds before it forgets the full
// ones (those of keys seen long enough ago to have refilled).
const maxBuckets = 10000

func newLimiter(burst int, rate float64) *limiter {
	return &limiter{burst: float64(burst), rate: rate, buckets: map[string]*bucket{}}
}

// allow takes a request from key's bucket at now, or answers how long until
// the bucket holds one.
func (l *limiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// sweep forgets the buckets that have refilled: a new one is the same.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

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

// purposePageForm is the purpose of a page form's CSRF token. It is no
// purpose a link is signed for, so a form token opens no page, and a link
// token is no form token.
const purposePageForm = "page-form"

// pageID is the shape of a case or delivery id in a page's path.
var pageID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// formSubject answers what a link token's form token is signed over: a
// digest of the link token, so the form token is bound to that one link.
func formSubject(linkToken string) string {
	sum := sha256.Sum256([]byte(purposePageForm + "\x00" + linkToken))
	return hex.EncodeToString(sum[:])
}

// formToken answers the CSRF token of the forms of the page linkToken
// opened (the survey, a delivery's confirm and report-problem forms).
//
// The form token is a links token of its own purpose (page-form) whose
// subject is a digest of the link token, signed by the same signer: an
// HMAC of the link token under the link keys, stateless (no cookie, no
// session, any API replica checks it) and rotating with the link keys. A
// POST must carry both the link token and the form token that only a GET
// of that link's page hands out; a page of another site cannot read it
// (same-origin policy), nor take it from another link's page.
func (p *pages) formToken(linkToken string, c links.Claims) string {
	return p.signer.Sign(links.Claims{Purpose: purposePageForm, Subject: formSubject(linkToken),
		Customer: c.Customer, Expires: c.Expires})
}

// formTokenValid reports that formToken was handed out with linkToken's page.
func (p *pages) formTokenValid(formToken, linkToken string) bool {
	_, err := p.signer.Verify(formToken, purposePageForm, formSubject(linkToken), p.now())
	return err == nil
}

// linkTarget is what a page's link opens: a case (the survey) or a
// delivery, of the link's purpose, read by its id, and whose customer must
// be the link's.
type linkTarget[V any] struct {
	purpose string
	texts   pageTexts
	read    func(ctx context.Context, id string) (V, error)
	// customer answers who the link must be for, and their locale.
	customer func(V) vocab.Customer
}

// openLink verifies token as the link of purpose to id and reads what it
// opens, whose customer must be the link's; else it writes the refusal
// page and answers false.
func openLink[V any](p *pages, w http.ResponseWriter, r *http.Request, id, token string, to linkTarget[V]) (V, links.Claims, *pageText, bool) {
	var none V
	if !pageID.MatchString(id) {
		p.refuse(w, r, http.StatusNotFound, browserText(r))
		return none, links.Claims{}, nil, false
	}
	claims, err := p.signer.Verify(token, to.purpose, id, p.now())
	if err != nil {
		p.linkRefusal(w, r, err, expiredText(r, id, claims, err, to))
		return none, links.Claims{}, nil, false
	}
	v, err := to.read(r.Context(), id)
	if err != nil {
		p.workflowRefusal(w, r, browserText(r), err)
		return none, links.Claims{}, nil, false
	}
	c := to.customer(v)
	t := to.texts.locale(c.Locale)
	if c.ID != claims.Customer {
		p.refuse(w, r, http.StatusForbidden, t)
		return none, links.Claims{}, nil, false
	}
	return v, claims, t, true
}

// expiredText answers the wording of a refused link's page: an expired
// link, intact and signed for this case or delivery, is answered in its
// customer's locale; any other in the browser's.
func expiredText[V any](r *http.Request, id string, c links.Claims, err error, to linkTarget[V]) *pageText {
	if !errors.Is(err, links.ErrExpired) {
		return browserText(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	v, err := to.read(ctx, id)
	if err != nil || to.customer(v).ID != c.Customer {
		return browserText(r)
	}
	return to.texts.locale(to.customer(v).Locale)
}

// workflowRefusal writes the page of what reading or updating a case or a
// delivery answered: 404 for an unknown one, 409 for one that can no
// longer take it, 400 for a refused answer, else 503.
func (p *pages) workflowRefusal(w http.ResponseWriter, r *http.Request, t *pageText, err error) {
	var prob *problem
	if !errors.As(err, &prob) {
		p.s.logger.ErrorContext(r.Context(), "customer page failed", "path", r.URL.Path, "error", err)
		p.refuse(w, r, http.StatusServiceUnavailable, t)
		return
	}
	switch prob.Status {
	case http.StatusNotFound, http.StatusConflict:
		p.refuse(w, r, prob.Status, t)
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		p.refuse(w, r, http.StatusBadRequest, t)
	default:
		p.refuse(w, r, http.StatusServiceUnavailable, t)
	}
}

// pageOperations documents the customer pages for the OpenAPI document,
// apart from the keyed /v1 API: they need no key (security: []), answer
// HTML, and are not huma operations (the router serves them).
func pageOperations() []*huma.Operation {
	page := func(desc string) *huma.Response {
		return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{
			"text/html": {Schema: &huma.Schema{Type: "string"}}}}
	}
	// refusals answers the refusal pages of a page about what (case,
	// delivery), whose 409 says conflict.
	refusals := func(what, conflict string) map[string]*huma.Response {
		return map[string]*huma.Response{
			"403": page("The link is altered, signed by no known key, or for another purpose, " + what + " or customer."),
			"404": page("No such " + what + "."),
			"409": page(conflict),
			"410": page("The link has expired."),
			"429": page("Too many requests from this address or with this link; Retry-After says when to come back."),
			"503": page("A dependency is unavailable; try again."),
		}
	}
	surveyRefusals := refusals("case", "The survey can no longer be answered (not resolved, past its window), or was answered already (its first rating shown).")
	deliveryRefusals := refusals("delivery", "The delivery cannot take this now (already confirmed, under review, retired): the page says where it stands.")
	with := func(refusals, extra map[string]*huma.Response) map[string]*huma.Response {
		out := map[string]*huma.Response{}
		for k, v := range refusals {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	pathID := func(desc string) *huma.Param {
		return &huma.Param{Name: "id", In: "path", Required: true, Description: desc,
			Schema: &huma.Schema{Type: "string", Pattern: "^[A-Za-z0-9_-]+$", MaxLength: pagePtr(64)}}
	}
	id, deliveryID := pathID("The case id."), pathID("The delivery id.")
	token := &huma.Param{Name: "t", In: "query", Required: true, Description: "The signed link token from the email.",
		Schema: &huma.Schema{Type: "string"}}
	noKey := []map[string][]string{}
	tags := []string{"customer pages"}
	return []*huma.Operation{
		{OperationID: "survey-page", Method: http.MethodGet, Path: "/survey/{id}", Tags: tags, Security: noKey,
			Summary: "The satisfaction survey page of a resolved case (HTML)",
			Description: "Reached from the resolved case's email. A GET never answers the survey: " +
				"rating pre-selects a choice (the email's one-click links), so a mail scanner fetching links changes nothing.",
			Parameters: []*huma.Param{id, token, {Name: "rating", In: "query", Description: "The rating to pre-select.",
				Schema: &huma.Schema{Type: "integer", Minimum: pagePtr(1.0), Maximum: pagePtr(5.0)}}},
			Responses: with(surveyRefusals, map[string]*huma.Response{"200": page("The survey form, or \"already answered\" with the first rating.")})},
		{OperationID: "answer-survey", Method: http.MethodPost, Path: "/survey/{id}", Tags: tags, Security: noKey,
			Summary:     "Answer the satisfaction survey (HTML form)",
			Description: "Runs the case's csat update as customer:<customer id>, once per link.",
			Parameters:  []*huma.Param{id},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/x-www-form-urlencoded": {Schema: &huma.Schema{Type: "object", Required: []string{"t", "csrf", "rating"},
					Properties: map[string]*huma.Schema{
						"t":       {Type: "string", Description: "The signed link token."},
						"csrf":    {Type: "string", Description: "The form token the survey page handed out with this link."},
						"rating":  {Type: "integer", Minimum: pagePtr(1.0), Maximum: pagePtr(5.0)},
						"comment": {Type: "string", MaxLength: pagePtr(maxCommentRunes)},
					}}}}},
			Responses: with(surveyRefusals, map[string]*huma.Response{
				"200": page("Thank you: the answer is recorded."),
				"400": page("The form is incomplete or malformed (the form again, saying what is wrong)."),
				"403": page("The link is refused, or the form token is not the one of this link's page."),
			})},
		{OperationID: "delivery-page", Method: http.MethodGet, Path: "/deliveries/{id}", Tags: tags, Security: noKey,
			Summary: "The page of an account delivery, for its buyer (HTML)",
			Description: "Reached from the delivered and reminder emails: what was delivered and when, the recovery instructions, " +
				"the confirmation deadline and the status, with the confirm and report-problem forms as the status allows. " +
				"Apart from the keyed /v1/deliveries. A GET changes nothing.",
			Parameters: []*huma.Param{deliveryID, token},
			Responses:  with(deliveryRefusals, map[string]*huma.Response{"200": page("The delivery's page.")})},
		{OperationID: "confirm-delivery-page", Method: http.MethodPost, Path: "/deliveries/{id}/confirm", Tags: tags, Security: noKey,
			Summary:     "Confirm the delivered account works (HTML form)",
			Description: "Runs the delivery's confirm update as customer:<buyer id>, once per link.",
			Parameters:  []*huma.Param{deliveryID},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/x-www-form-urlencoded": {Schema: &huma.Schema{Type: "object", Required: []string{"t", "csrf"},
					Properties: map[string]*huma.Schema{
						"t":    {Type: "string", Description: "The signed link token."},
						"csrf": {Type: "string", Description: "The form token the delivery page handed out with this link."},
					}}}}},
			Responses: with(deliveryRefusals, map[string]*huma.Response{
				"200": page("Thank you: the delivery is confirmed."),
				"400": page("The form is incomplete or malformed."),
				"403": page("The link is refused, or the form token is not the one of this link's page."),
			})},
		{OperationID: "report-delivery-problem-page", Method: http.MethodPost, Path: "/deliveries/{id}/report-problem", Tags: tags, Security: noKey,
			Summary: "Report a problem with the delivered account (HTML form)",
			Description: "Stores the screenshot, if any, as the delivery's evidence (kind support_message, retained, under deliveries/<id>/), " +
				"then runs the delivery's report-problem update as customer:<buyer id>, which puts it under review and opens a case.",
			Parameters: []*huma.Param{deliveryID},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"t", "csrf", "description"},
					Description: "The fields in this order: t, csrf and description before the screenshot.",
					Properties: map[string]*huma.Schema{
						"t":           {Type: "string", Description: "The signed link token."},
						"csrf":        {Type: "string", Description: "The form token the delivery page handed out with this link."},
						"description": {Type: "string", MinLength: pagePtr(1), MaxLength: pagePtr(maxDescriptionRunes)},
						"screenshot":  {Type: "string", Format: "binary", Description: "An optional image; its type is sniffed from its first bytes."},
					}}}}},
			Responses: with(deliveryRefusals, map[string]*huma.Response{
				"200": page("We received the problem: a case is opened."),
				"400": page("The form is incomplete or malformed (the form again, saying what is wrong)."),
				"403": page("The link is refused, or the form token is not the one of this link's page."),
				"413": page("The screenshot is larger than the evidence limit (the form again)."),
				"415": page("The screenshot is not an accepted image (the form again)."),
			})},
		{OperationID: "page-stylesheet", Method: http.MethodGet, Path: "/pages/style.css", Tags: tags, Security: noKey,
			Summary: "The customer pages' stylesheet",
			Responses: map[string]*huma.Response{"200": {Description: "The stylesheet.", Content: map[string]*huma.MediaType{
				"text/css": {Schema: &huma.Schema{Type: "string"}}}}}},
	}
}

func pagePtr[T any](v T) *T { return &v }
