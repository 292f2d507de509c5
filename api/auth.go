package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"handoff/store"
	"handoff/workflows/vocab"
)

// caller is who sent a request: the API key's name and role.
type caller struct {
	KeyID int64
	Name  string
	Role  store.Role
}

// actor is how the caller appears on a case's timeline.
func (c caller) actor() string { return string(c.Role) + ":" + c.Name }

// team answers the team whose cases the caller's role works on; admins and
// integrations are bound to none.
func (c caller) team() vocab.Team {
	switch c.Role {
	case store.RoleAgent:
		return vocab.TeamTier1Support
	case store.RoleAccountManager:
		return vocab.TeamAccountManagement
	case store.RoleSecurity:
		return vocab.TeamSecurity
	case store.RoleTrustSafety:
		return vocab.TeamTrustSafety
	}
	return ""
}

type callerKey struct{}

func callerFrom(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// keyLookup finds the live API key whose secret is given.
type keyLookup func(ctx context.Context, secret string) (store.APIKey, error)

// authenticate requires `Authorization: Bearer <key>` of a live key and
// puts its caller in the request's context; anything else is a 401.
func authenticate(lookup keyLookup) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="handoff"`)
				writeProblem(w, newProblem(http.StatusUnauthorized, "send an API key as `Authorization: Bearer <key>`"))
				return
			}
			key, err := lookup(r.Context(), strings.TrimSpace(secret))
			switch {
			case errors.Is(err, store.ErrNotFound):
				w.Header().Set("WWW-Authenticate", `Bearer realm="handoff", error="invalid_token"`)
				writeProblem(w, newProblem(http.StatusUnauthorized, "the API key is unknown or revoked"))
				return
			case err != nil:
				writeProblem(w, newProblem(http.StatusServiceUnavailable, "cannot check the API key: postgres unreachable"))
				return
			}
			ctx := context.WithValue(r.Context(), callerKey{}, caller{KeyID: key.ID, Name: key.Name, Role: key.Role})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Roles allowed on each operation. The README's role matrix is this table;
// a test checks both agree and that every "no" is refused.
var access = map[string][]store.Role{
	"open-case":        allRoles,
	"get-case":         allRoles,
	"list-cases":       staff,
	"get-timeline":     staff,
	"assign":           staff,
	"reply":            staff,
	"note":             staff,
	"customer-message": allRoles,
	"wait-on-customer": staff,
	"escalate":         staff,
	"change-priority":  staff,
	"resolve":          staff,
	"reopen":           staff,
	"close":            staff,
	"csat":             {store.RoleIntegration, store.RoleAdmin},
	"create-key":       {store.RoleAdmin},
	// Evidence: the marketplace uploads what it holds; reading stays with staff.
	"upload-evidence":   allRoles,
	"list-evidence":     staff,
	"download-evidence": staff,
	// Accounts: security locks and decides; account management recovers;
	// the marketplace relays codes and reports signals.
	"lock-account":      {store.RoleSecurity, store.RoleAdmin},
	"unlock-account":    {store.RoleSecurity, store.RoleAdmin},
	"security-decision": {store.RoleSecurity, store.RoleAdmin},
	"start-recovery":    {store.RoleAccountManager, store.RoleSecurity, store.RoleAdmin},
	"get-recovery":      staff,
	"verify-recovery":   {store.RoleIntegration, store.RoleAccountManager, store.RoleSecurity, store.RoleAdmin},
	"report-signal":     {store.RoleIntegration, store.RoleSecurity, store.RoleAdmin},
	// Profile changes: account management runs them; the marketplace relays
	// the new contact's code and the old contact's cancellation.
	"start-profile-change":   {store.RoleAccountManager, store.RoleSecurity, store.RoleAdmin},
	"get-profile-change":     staff,
	"verify-profile-change":  {store.RoleIntegration, store.RoleAccountManager, store.RoleSecurity, store.RoleAdmin},
	"cancel-profile-change":  {store.RoleIntegration, store.RoleAccountManager, store.RoleSecurity, store.RoleAdmin},
	"approve-profile-change": {store.RoleAccountManager, store.RoleAdmin},
	"get-account":            staff,
	// Deliveries: the marketplace acts for seller and buyer (start, hand
	// over, confirm); support and account management handle problems and
	// waits; trust & safety and account management decide warranties and
	// retirements. Everyone reads one and attaches evidence to it; staff
	// download its files, as a case's.
	"start-delivery":             {store.RoleIntegration, store.RoleAdmin},
	"deliver-account":            {store.RoleIntegration, store.RoleAdmin},
	"confirm-delivery":           {store.RoleIntegration, store.RoleAdmin},
	"report-delivery-problem":    {store.RoleIntegration, store.RoleAgent, store.RoleAccountManager, store.RoleTrustSafety, store.RoleAdmin},
	"wait-on-buyer":              {store.RoleIntegration, store.RoleAgent, store.RoleAccountManager, store.RoleAdmin},
	"extend-warranty":            {store.RoleAccountManager, store.RoleTrustSafety, store.RoleAdmin},
	"retire-delivery":            {store.RoleAccountManager, store.RoleTrustSafety, store.RoleAdmin},
	"get-delivery":               allRoles,
	"list-deliveries":            staff,
	"upload-delivery-evidence":   allRoles,
	"download-delivery-evidence": staff,
	// Returns: the marketplace and support start and cancel them; the
	// seller inspects through the marketplace, trust & safety may stand in
	// and alone approves a large refund. Everyone reads one.
	"start-return":          {store.RoleIntegration, store.RoleAgent, store.RoleAdmin},
	"get-return":            allRoles,
	"list-returns":          allRoles,
	"inspect-return":        {store.RoleIntegration, store.RoleTrustSafety, store.RoleAdmin},
	"approve-return-refund": {store.RoleTrustSafety, store.RoleAdmin},
	"cancel-return":         {store.RoleIntegration, store.RoleAgent, store.RoleAdmin},
	// Disputes: the marketplace relays the seller's answer and, with
	// support, the buyer's; trust & safety decides; either party's appeal
	// comes through the marketplace, support or trust & safety. Everyone
	// reads one.
	"open-dispute":         {store.RoleIntegration, store.RoleAgent, store.RoleTrustSafety, store.RoleAdmin},
	"get-dispute":          allRoles,
	"list-disputes":        allRoles,
	"respond-to-dispute":   {store.RoleIntegration, store.RoleAdmin},
	"answer-dispute-offer": {store.RoleIntegration, store.RoleAgent, store.RoleAdmin},
	"decide-dispute":       {store.RoleTrustSafety, store.RoleAdmin},
	"appeal-dispute":       {store.RoleIntegration, store.RoleAgent, store.RoleTrustSafety, store.RoleAdmin},
	// Sellers: the marketplace starts an onboarding; support reads a
	// seller; trust & safety decides doubted identity checks and payout holds.
	"start-seller-onboarding":    {store.RoleIntegration, store.RoleAdmin},
	"get-seller":                 {store.RoleIntegration, store.RoleAgent, store.RoleTrustSafety, store.RoleAdmin},
	"decide-seller-verification": {store.RoleTrustSafety, store.RoleAdmin},
	"release-payout-hold":        {store.RoleTrustSafety, store.RoleAdmin},
	"extend-payout-hold":         {store.RoleTrustSafety, store.RoleAdmin},
	"change-seller-standing":     {store.RoleTrustSafety, store.RoleAdmin},
	"upload-seller-document":     {store.RoleIntegration, store.RoleTrustSafety, store.RoleAdmin},
	// Fraud: the marketplace (and trust & safety) report behaviour; trust &
	// safety reads the watch and decides its review.
	"report-behaviour":    {store.RoleIntegration, store.RoleTrustSafety, store.RoleAdmin},
	"get-fraud-watch":     {store.RoleTrustSafety, store.RoleAdmin},
	"decide-fraud-review": {store.RoleTrustSafety, store.RoleAdmin},
	// Erasure: only admins erase a customer's personal data and read what was erased.
	"erase-customer": {store.RoleAdmin},
	"get-erasure":    {store.RoleAdmin},
	// Reports: support analytics from the read model, for staff.
	"get-report":       staff,
	"get-report-chart": staff,
	// Knowledge base: agents (and admins) write, publish and archive
	// articles; every staff role reads, diffs and searches them.
	"create-kb-article":        {store.RoleAgent, store.RoleAdmin},
	"update-kb-article":        {store.RoleAgent, store.RoleAdmin},
	"publish-kb-article":       {store.RoleAgent, store.RoleAdmin},
	"archive-kb-article":       {store.RoleAgent, store.RoleAdmin},
	"list-kb-articles":         staff,
	"get-kb-article":           staff,
	"list-kb-article-versions": staff,
	"diff-kb-article":          staff,
	"search-kb-articles":       staff,
}

var (
	allRoles = store.Roles
	staff    = []store.Role{store.RoleAgent, store.RoleAccountManager, store.RoleSecurity, store.RoleTrustSafety, store.RoleAdmin}
)

// authorize is huma middleware refusing a caller whose role may not call
// the operation (403); an operation missing from access is refused to all
// but admins, so a new route is closed until someone decides who may use it.
func authorize(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		c := callerFrom(ctx.Context())
		roles, ok := access[ctx.Operation().OperationID]
		if !ok {
			roles = []store.Role{store.RoleAdmin}
		}
		if !slices.Contains(roles, c.Role) {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden,
				"the "+string(c.Role)+" role may not "+strings.ReplaceAll(ctx.Operation().OperationID, "-", " "))
			return
		}
		next(ctx)
	}
}
