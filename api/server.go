package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"handoff/accounts"
	"handoff/codec"
	"handoff/config"
	"handoff/evidence"
	"handoff/health"
	"handoff/links"
	"handoff/mailin"
	"handoff/payments"
	"handoff/ratelimit"
	"handoff/store"
	"handoff/workflows/sla"
)

// server holds what the HTTP handlers need.
type server struct {
	logger    *slog.Logger
	registry  *prometheus.Registry
	checker   *health.Checker
	temporal  client.Client
	store     *store.Store
	book      *sla.Book
	taskQueue string
	// namespace is the Temporal namespace of every workflow.
	namespace string
	// lookupKey finds API keys; the store's lookup unless a test sets another.
	lookupKey keyLookup
	// openapi is the document huma builds from the registered operations.
	openapi *huma.OpenAPI
	// evidence stores evidence files in S3.
	evidence *evidence.Store
	// accounts reads marketplace accounts.
	accounts accounts.Directory
	// kbPageURL is the base of the public article pages (KB_PAGE_URL).
	kbPageURL string
	// codeSecret checks one-time codes (VERIFICATION_CODE_SECRET).
	codeSecret string
	// links checks the signed links of the customer pages (LINK_SIGNING_KEYS).
	links *links.Signer
	// inbox takes the mail provider's inbound mail webhook; nil turns it off.
	inbox mailin.Inbox
	// inboxSecrets verify that webhook (INBOUND_WEBHOOK_SECRET: any of
	// them, the first current) and inboxMaxBytes bounds its body
	// (INBOUND_MAX_BYTES).
	inboxSecrets  [][]byte
	inboxMaxBytes int64
	// commerce takes the carrier's and the payment provider's webhooks;
	// nil turns them off.
	commerce *commerceWebhooks
	// sellers takes the marketplace's seller events and the identity-check
	// provider's decisions; nil turns them off.
	sellers *sellerWebhooks
	// payments reads a seller's movements from the payment provider for a
	// seller_payment case; nil asks nothing.
	payments payments.Payments
	// codec seals and opens Temporal payloads (PAYLOAD_KEYS); nil serves
	// no /codec and reads memos with the SDK's default converter.
	codec *codec.Codec
	// codecAccess is who may use /codec (CODEC_ROLES, CODEC_CORS_ORIGINS).
	codecAccess config.Codec
	// keyLimiter holds each API key to its rate on /v1; nil is no limit.
	keyLimiter *ratelimit.Limiter
}

// routes answers the API's router with its middleware.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(newHTTPMetrics(s.registry).middleware)
	r.Use(s.logRequests)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path))
	})
	r.Get("/healthz", health.Live)
	r.Get("/readyz", s.checker.Ready)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	r.Get("/openapi.yaml", s.serveOpenAPI)
	// The customer pages are the only part reachable without an API key:
	// their signed link is their key.
	if s.links != nil {
		s.mountPages(r, s.links)
	}
	// The mail provider's webhook is signed with its own secret.
	if s.inbox != nil && len(s.inboxSecrets) > 0 {
		r.Post(inboundMailPath, inboundMail(s.inbox, s.inboxSecrets, s.inboxMaxBytes))
	}
	// So are the carrier's and the payment provider's, each with its own.
	if s.commerce != nil {
		r.Post(carrierWebhookPath, s.commerce.carrierWebhook)
		r.Post(paymentsWebhookPath, s.commerce.paymentsWebhook)
	}
	// And the marketplace's seller events and the identity-check provider's decisions.
	if s.sellers != nil {
		r.Post(marketplaceWebhookPath, s.sellers.marketplaceWebhook)
		r.Post(verificationWebhookPath, s.sellers.verificationWebhook)
	}
	// The published knowledge base is public, as the customer pages are.
	s.mountKB(r)
	lookup := s.lookupKey
	if lookup == nil {
		lookup = cachedKeys(s.store.LookupAPIKey, keyCacheTTL, time.Now)
	}
	// The codec server checks API keys itself: the Web UI sends a cookie.
	if s.codec != nil {
		(&codecServer{codec: s.codec, namespace: s.namespace, access: s.codecAccess, lookup: lookup}).mount(r)
	}
	r.Group(func(r chi.Router) {
		r.Use(authenticate(lookup), limitKeys(s.keyLimiter, time.Now))
		api := humachi.New(r, humaConfig())
		api.UseMiddleware(authorize(api), requireCleanText(api))
		s.register(api)
		s.openapi = api.OpenAPI()
		for _, op := range pageOperations() {
			s.openapi.AddOperation(op)
		}
	})
	return r
}

// humaConfig is huma's default without the routes and response decorations
// this API does not serve: the document is served as /openapi.yaml.
func humaConfig() huma.Config {
	huma.NewError = humaError
	cfg := huma.DefaultConfig("Handoff API", "1.0.0")
	cfg.Info.Description = "Support cases for marketplaces: open, drive and read cases whose SLA escalates by itself. " +
		"Every error is application/problem+json (RFC 9457)."
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath = "", "", ""
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey": {Type: "http", Scheme: "bearer", Description: "An API key: `Authorization: Bearer hk_...`"},
	}
	cfg.Security = []map[string][]string{{"apiKey": {}}}
	return cfg
}

// register adds every /v1 operation.
func (s *server) register(api huma.API) {
	caseErrors := []int{400, 401, 403, 404, 409, 413, 415, 422, 429, 503}
	op := func(id, method, path, summary string, status int) huma.Operation {
		roles := make([]string, 0, len(access[id]))
		for _, r := range access[id] {
			roles = append(roles, string(r))
		}
		return huma.Operation{
			OperationID: id, Method: method, Path: path, Summary: summary, DefaultStatus: status,
			Description: "Roles: " + strings.Join(roles, ", ") + ".", Tags: []string{tag(path)},
			Errors: slices.DeleteFunc(slices.Clone(caseErrors), func(code int) bool {
				return method == http.MethodGet && (code == 409 || code == 413 || code == 415)
			}),
		}
	}
	huma.Register(api, op("open-case", http.MethodPost, "/v1/cases", "Open a case", 201), s.openCase)
	huma.Register(api, op("list-cases", http.MethodGet, "/v1/cases", "List cases, soonest SLA deadline first", 200), s.listCases)
	huma.Register(api, op("get-case", http.MethodGet, "/v1/cases/{id}", "Read a case", 200), s.getCase)
	huma.Register(api, op("get-timeline", http.MethodGet, "/v1/cases/{id}/timeline", "Read a case's timeline", 200), s.getTimeline)
	huma.Register(api, op("assign", http.MethodPost, "/v1/cases/{id}/assign", "Assign the case", 200), s.assign)
	huma.Register(api, op("reply", http.MethodPost, "/v1/cases/{id}/replies", "Reply to the customer", 200), s.reply)
	huma.Register(api, op("note", http.MethodPost, "/v1/cases/{id}/notes", "Add an internal note", 200), s.note)
	huma.Register(api, op("customer-message", http.MethodPost, "/v1/cases/{id}/customer-messages", "Add a message from the customer", 200), s.customerMessage)
	huma.Register(api, op("wait-on-customer", http.MethodPost, "/v1/cases/{id}/wait-on-customer", "Wait on the customer (pauses the SLA)", 200), s.waitOnCustomer)
	huma.Register(api, op("escalate", http.MethodPost, "/v1/cases/{id}/escalate", "Escalate to a team", 200), s.escalate)
	huma.Register(api, op("change-priority", http.MethodPost, "/v1/cases/{id}/priority", "Change the priority", 200), s.changePriority)
	huma.Register(api, op("resolve", http.MethodPost, "/v1/cases/{id}/resolve", "Resolve the case", 200), s.resolve)
	huma.Register(api, op("reopen", http.MethodPost, "/v1/cases/{id}/reopen", "Reopen a resolved case", 200), s.reopen)
	huma.Register(api, op("close", http.MethodPost, "/v1/cases/{id}/close", "Close a resolved case", 200), s.close)
	huma.Register(api, op("csat", http.MethodPost, "/v1/cases/{id}/csat", "Answer the satisfaction survey", 200), s.csat)
	registerUpload(api, op("upload-evidence", http.MethodPost, "/v1/cases/{id}/evidence", "Attach an evidence file (multipart)", 201), s.uploadEvidence)
	huma.Register(api, op("list-evidence", http.MethodGet, "/v1/cases/{id}/evidence", "List a case's evidence files", 200), s.listEvidence)
	huma.Register(api, op("download-evidence", http.MethodGet, "/v1/evidence/{id}", "Get a short-lived download URL of an evidence file", 200), s.downloadEvidence)
	huma.Register(api, op("lock-account", http.MethodPost, "/v1/cases/{id}/lock", "Lock the case's account under a security incident", 200), s.lockAccount)
	huma.Register(api, op("unlock-account", http.MethodPost, "/v1/cases/{id}/unlock", "Unlock the case's account: its incident was a false alarm", 200), s.unlockAccount)
	huma.Register(api, op("security-decision", http.MethodPost, "/v1/cases/{id}/security-decision", "Decide the case's security incident", 200), s.securityDecision)
	huma.Register(api, op("start-recovery", http.MethodPost, "/v1/recoveries", "Start a recovery of a case's account", 201), s.startRecovery)
	huma.Register(api, op("get-recovery", http.MethodGet, "/v1/recoveries/{id}", "Read a recovery", 200), s.getRecovery)
	huma.Register(api, op("verify-recovery", http.MethodPost, "/v1/recoveries/{id}/verify", "Check a recovery code", 200), s.verifyRecovery)
	huma.Register(api, op("start-profile-change", http.MethodPost, "/v1/profile-changes", "Change a case account's email or phone, or merge it", 201), s.startProfileChange)
	huma.Register(api, op("get-profile-change", http.MethodGet, "/v1/profile-changes/{id}", "Read a profile change", 200), s.getProfileChange)
	huma.Register(api, op("verify-profile-change", http.MethodPost, "/v1/profile-changes/{id}/verify", "Check the code sent to the new contact", 200), s.verifyProfileChange)
	huma.Register(api, op("cancel-profile-change", http.MethodPost, "/v1/profile-changes/{id}/cancel", "Cancel a profile change", 200), s.cancelProfileChange)
	huma.Register(api, op("approve-profile-change", http.MethodPost, "/v1/profile-changes/{id}/approve", "Approve a merge", 200), s.approveProfileChange)
	huma.Register(api, op("report-signal", http.MethodPost, "/v1/accounts/{id}/signals", "Report a suspicious signal on an account", 202), s.reportSignal)
	huma.Register(api, op("get-account", http.MethodGet, "/v1/accounts/{id}", "Read an account's status and cases", 200), s.getAccount)
	huma.Register(api, op("start-delivery", http.MethodPost, "/v1/deliveries", "Start an account delivery with its handoff record", 201), s.startDelivery)
	huma.Register(api, op("list-deliveries", http.MethodGet, "/v1/deliveries", "List deliveries, the warranty that ends soonest first", 200), s.listDeliveries)
	huma.Register(api, op("get-delivery", http.MethodGet, "/v1/deliveries/{id}", "Read a delivery and its handoff record", 200), s.getDelivery)
	huma.Register(api, op("deliver-account", http.MethodPost, "/v1/deliveries/{id}/deliver", "Hand the account over (needs delivery evidence)", 200), s.deliverAccount)
	huma.Register(api, op("confirm-delivery", http.MethodPost, "/v1/deliveries/{id}/confirm", "Confirm the delivery for the buyer", 200), s.confirmDelivery)
	huma.Register(api, op("report-delivery-problem", http.MethodPost, "/v1/deliveries/{id}/report-problem", "Report a problem with the delivered account (opens a case)", 200), s.reportDeliveryProblem)
	huma.Register(api, op("wait-on-buyer", http.MethodPost, "/v1/deliveries/{id}/wait-on-buyer", "Wait on the buyer to act", 200), s.waitOnBuyer)
	huma.Register(api, op("extend-warranty", http.MethodPost, "/v1/deliveries/{id}/extend-warranty", "Extend the delivery's warranty", 200), s.extendWarranty)
	huma.Register(api, op("retire-delivery", http.MethodPost, "/v1/deliveries/{id}/retire", "Retire the delivery", 200), s.retireDelivery)
	registerUpload(api, op("upload-delivery-evidence", http.MethodPost, "/v1/deliveries/{id}/evidence", "Attach an evidence file to the delivery (multipart)", 201), s.uploadDeliveryEvidence)
	huma.Register(api, op("download-delivery-evidence", http.MethodGet, "/v1/deliveries/{id}/evidence/{evidence_id}", "Get a short-lived download URL of a delivery's evidence file", 200), s.downloadDeliveryEvidence)
	startReturn := op("start-return", http.MethodPost, "/v1/cases/{id}/returns", "Start the return of an item", 201)
	startReturn.Description = startReturnDoc + " " + startReturn.Description
	huma.Register(api, startReturn, s.startReturn)
	huma.Register(api, op("list-returns", http.MethodGet, "/v1/returns", "List returns, the soonest deadline first", 200), s.listReturns)
	huma.Register(api, op("get-return", http.MethodGet, "/v1/returns/{id}", "Read a return", 200), s.getReturn)
	huma.Register(api, op("inspect-return", http.MethodPost, "/v1/returns/{id}/inspection", "Record the seller's inspection of the returned item", 200), s.inspectReturn)
	huma.Register(api, op("approve-return-refund", http.MethodPost, "/v1/returns/{id}/approval", "Approve or deny a refund above the approval limit", 200), s.approveReturnRefund)
	huma.Register(api, op("cancel-return", http.MethodPost, "/v1/returns/{id}/cancel", "Cancel a return before the item ships", 200), s.cancelReturn)
	openDispute := op("open-dispute", http.MethodPost, "/v1/cases/{id}/disputes", "Open a dispute between buyer and seller", 201)
	openDispute.Description = openDisputeDoc + " " + openDispute.Description
	huma.Register(api, openDispute, s.openDispute)
	huma.Register(api, op("list-disputes", http.MethodGet, "/v1/disputes", "List disputes, the soonest deadline first", 200), s.listDisputes)
	huma.Register(api, op("get-dispute", http.MethodGet, "/v1/disputes/{id}", "Read a dispute", 200), s.getDispute)
	huma.Register(api, op("respond-to-dispute", http.MethodPost, "/v1/disputes/{id}/seller-response", "Record the seller's answer", 200), s.respondToDispute)
	huma.Register(api, op("answer-dispute-offer", http.MethodPost, "/v1/disputes/{id}/buyer-answer", "Record the buyer's answer to the seller's offer", 200), s.answerDisputeOffer)
	huma.Register(api, op("decide-dispute", http.MethodPost, "/v1/disputes/{id}/decision", "Decide a dispute under review", 200), s.decideDispute)
	huma.Register(api, op("appeal-dispute", http.MethodPost, "/v1/disputes/{id}/appeal", "Appeal the latest decision", 200), s.appealDispute)
	s.registerSellers(api, op)
	s.registerFraud(api, op)
	s.registerErasure(api, op)
	s.registerReports(api, op)
	s.registerKB(api, op)
	keys := op("create-key", http.MethodPost, "/v1/keys", "Create an API key", 201)
	keys.Errors = []int{400, 401, 403, 413, 415, 422, 503}
	huma.Register(api, keys, s.createKey)
}

// registerUpload registers a streamed multipart upload and documents its
// form after registering: a body schema known at registration would make
// huma read (and cap) the body the handler streams.
func registerUpload[I any](api huma.API, op huma.Operation, handler func(context.Context, *I) (*evidenceOutput, error)) {
	huma.Register(api, op, handler)
	api.OpenAPI().Paths[op.Path].Post.RequestBody = uploadRequestBody()
}

func tag(path string) string {
	if strings.HasPrefix(path, "/v1/keys") {
		return "keys"
	}
	if strings.HasPrefix(path, "/v1/recoveries") || strings.HasPrefix(path, "/v1/profile-changes") || strings.HasPrefix(path, "/v1/accounts") ||
		strings.HasSuffix(path, "/lock") || strings.HasSuffix(path, "/unlock") || strings.HasSuffix(path, "/security-decision") {
		return "accounts"
	}
	if strings.HasPrefix(path, "/v1/deliveries") {
		return "deliveries"
	}
	if strings.HasPrefix(path, "/v1/returns") || strings.HasSuffix(path, "/returns") {
		return "returns"
	}
	if strings.HasPrefix(path, "/v1/disputes") || strings.HasSuffix(path, "/disputes") {
		return "disputes"
	}
	if strings.HasPrefix(path, "/v1/sellers") {
		return "sellers"
	}
	if strings.HasPrefix(path, "/v1/fraud") || strings.HasPrefix(path, "/v1/behaviour-signals") {
		return "fraud"
	}
	if strings.HasPrefix(path, "/v1/evidence") || strings.HasSuffix(path, "/evidence") {
		return "evidence"
	}
	return "cases"
}

// serveOpenAPI answers the OpenAPI 3.1 document of the API.
func (s *server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	doc, err := s.openapi.YAML()
	if err != nil {
		writeProblem(w, newProblem(http.StatusInternalServerError, "the OpenAPI document cannot be rendered"))
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(doc)
}

// logRequests writes one structured line per request once it is answered.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", middleware.GetReqID(r.Context())),
		)
	})
}

// dataConverter answers the converter of what the workflows wrote: the
// codec's, or the SDK's default when the server has none.
func (s *server) dataConverter() converter.DataConverter {
	if s.codec == nil {
		return converter.GetDefaultDataConverter()
	}
	return s.codec.DataConverter()
}
