package main

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/sdk/converter"

	"handoff/codec"
	"handoff/config"
	"handoff/store"
)

// The codec server: POST /codec/encode and POST /codec/decode, the shape
// the Temporal Web UI and CLI call (a JSON {"payloads": [...]} each way),
// so an operator whose API key has one of CODEC_ROLES reads the payloads
// the codec sealed in history (package codec) and anyone else sees
// ciphertext. The CLI sends the key as a header
// (`temporal workflow show --codec-endpoint http://localhost:8080/codec
// --codec-auth "Bearer <key>"`); a browser cannot add one to the Web UI's
// calls, so an operator signs in once at GET /codec/session, which keeps
// the key in an HttpOnly cookie the Web UI's calls carry (its codec
// setting "include cross-origin credentials"). CORS allows the Web UI's
// origins (CODEC_CORS_ORIGINS) only.

// Paths of the codec server.
const (
	codecPath        = "/codec"
	codecSessionPath = "/codec/session"
	// codecCookie holds a signed-in operator's API key, for /codec only.
	codecCookie = "handoff_codec"
	// codecSessionTTL is how long a sign-in lasts.
	codecSessionTTL = 8 * time.Hour
	// codecMaxBytes bounds a request: a history's payloads in one call.
	codecMaxBytes = 8 << 20
)

// codecServer answers the codec routes.
type codecServer struct {
	codec     *codec.Codec
	namespace string
	access    config.Codec
	lookup    keyLookup
}

// mount adds the codec routes to r.
func (c *codecServer) mount(r chi.Router) {
	handler := converter.NewPayloadCodecHTTPHandler(c.codec)
	r.Route(codecPath, func(r chi.Router) {
		r.Use(c.cors)
		r.Get("/session", c.sessionPage)
		r.Post("/session", c.signIn)
		for _, op := range []string{"/encode", "/decode"} {
			r.Options(op, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
			r.Post(op, func(w http.ResponseWriter, r *http.Request) {
				if _, p := c.authorize(r); p != nil {
					writeProblem(w, p)
					return
				}
				if ns := r.Header.Get("X-Namespace"); ns != "" && ns != c.namespace {
					writeProblem(w, newProblem(http.StatusForbidden, "this codec serves namespace "+c.namespace+", not "+ns))
					return
				}
				r.Body = http.MaxBytesReader(w, r.Body, codecMaxBytes)
				handler.ServeHTTP(w, r)
			})
		}
	})
}

// cors answers the Web UI's origins, with credentials so its calls carry
// the sign-in cookie; any other origin gets no CORS header, so a browser
// refuses the answer to it.
func (c *codecServer) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(c.access.Origins, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			h.Set("Access-Control-Max-Age", "600")
			h.Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

// authorize answers the caller of r: its API key from the Authorization
// header or the sign-in cookie, with one of the allowed roles.
func (c *codecServer) authorize(r *http.Request) (store.APIKey, *problem) {
	secret := ""
	if scheme, s, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		secret = strings.TrimSpace(s)
	} else if ck, err := r.Cookie(codecCookie); err == nil {
		secret = ck.Value
	}
	if secret == "" {
		return store.APIKey{}, newProblem(http.StatusUnauthorized,
			"send an API key as `Authorization: Bearer <key>`, or sign in at "+codecSessionPath)
	}
	return c.check(r, secret)
}

// check answers the key of secret when its role may use the codec.
func (c *codecServer) check(r *http.Request, secret string) (store.APIKey, *problem) {
	key, err := c.lookup(r.Context(), secret)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.APIKey{}, newProblem(http.StatusUnauthorized, "the API key is unknown or revoked")
	case err != nil:
		return store.APIKey{}, newProblem(http.StatusServiceUnavailable, "cannot check the API key: postgres unreachable")
	}
	if !slices.Contains(c.access.Roles, string(key.Role)) {
		return store.APIKey{}, newProblem(http.StatusForbidden,
			"role "+string(key.Role)+" may not read payloads in clear; CODEC_ROLES allows "+strings.Join(c.access.Roles, ", "))
	}
	return key, nil
}

var codecSessionTemplate = template.Must(template.New("session").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handoff codec sign-in</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
input{font:inherit;width:100%;padding:.4rem;margin:.5rem 0}button{font:inherit;padding:.4rem 1rem}
.ok{color:#166534}.err{color:#b91c1c}</style></head><body>
<h1>Read payloads in the Temporal Web UI</h1>
{{if .Message}}<p class="{{.Class}}">{{.Message}}</p>{{end}}
<p>Handoff seals every workflow payload. Sign in with an API key of role {{.Roles}} and the Web UI
shows them in clear in this browser for {{.Hours}} hours (in its Codec Server settings, turn on
"Include cross-origin credentials"). An empty key signs out.</p>
<form method="post" action="session"><label>API key <input name="key" type="password" autocomplete="off"></label>
<button>Sign in</button></form></body></html>`))

type codecSessionView struct {
	Message, Class, Roles string
	Hours                 int
}

func (c *codecServer) renderSession(w http.ResponseWriter, status int, message, class string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	_ = codecSessionTemplate.Execute(w, codecSessionView{Message: message, Class: class,
		Roles: strings.Join(c.access.Roles, " or "), Hours: int(codecSessionTTL / time.Hour)})
}

func (c *codecServer) sessionPage(w http.ResponseWriter, r *http.Request) {
	c.renderSession(w, http.StatusOK, "", "")
}

// signIn keeps a key of an allowed role in the cookie, or clears it.
func (c *codecServer) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		c.renderSession(w, http.StatusBadRequest, "The form could not be read.", "err")
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("key"))
	cookie := &http.Cookie{Name: codecCookie, Path: codecPath, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil}
	if secret == "" {
		cookie.MaxAge = -1
		http.SetCookie(w, cookie)
		c.renderSession(w, http.StatusOK, "Signed out: the Web UI shows ciphertext again.", "ok")
		return
	}
	key, p := c.check(r, secret)
	if p != nil {
		c.renderSession(w, p.Status, p.Detail, "err")
		return
	}
	cookie.Value, cookie.MaxAge = secret, int(codecSessionTTL/time.Second)
	http.SetCookie(w, cookie)
	c.renderSession(w, http.StatusOK, "Signed in as "+key.Name+": the Web UI shows payloads in clear.", "ok")
}
