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
	"time"

	"github.com/go-chi/chi/v5"

	"handoff/links"
	"handoff/ratelimit"
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
	byAddr *ratelimit.Limiter
	byLink *ratelimit.Limiter
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
		byAddr: ratelimit.New(addrBurst, addrRate), byLink: ratelimit.New(linkBurst, linkRate),
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
	return guardPage(next, func(h http.Header) {
		h.Set("Content-Security-Policy", pageCSP)
		// The link's token is in the page's address: no referrer carries it
		// anywhere, and no cache keeps it or the page.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
	}, func(w http.ResponseWriter, r *http.Request, v any) {
		p.s.logger.ErrorContext(r.Context(), "page panicked", "path", r.URL.Path, "panic", fmt.Sprint(v))
		p.refuse(w, r, http.StatusInternalServerError, browserText(r))
	})
}

// guardPage sets the headers every public page answers with (framing and
// sniffing refused, no-store until a page says otherwise, its own
// opener), then what set adds, and hands a panic to failed, which answers
// a page instead of a dropped connection.
func guardPage(next http.Handler, set func(http.Header), failed func(w http.ResponseWriter, r *http.Request, v any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		set(h)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				failed(w, r, v)
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
		if wait, ok := p.byAddr.Allow(clientAddr(r), p.now()); !ok {
			p.tooMany(w, r, wait)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowLink takes one request from token's bucket, answering the 429 page
// when it is empty.
func (p *pages) allowLink(w http.ResponseWriter, r *http.Request, token string) bool {
	wait, ok := p.byLink.Allow(tokenDigest(token), p.now())
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
