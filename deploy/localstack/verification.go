package main

import (
	"context"
	"fmt"

	"handoff/config"
)

// verificationCommandPath is the package of the verification stand-in's
// binary, for the hint given when it has not been built.
const verificationCommandPath = "./deploy/verificationsim/cmd/handoff-verification"

// verificationPart is the identity-verification (KYC) provider's stand-in
// (package verificationsim): it serves the signed check API of
// docs/verification.md and posts each decision made after a check's first
// answer, signed, to the API's POST /webhooks/verification. It keeps its
// checks in memory, so a restart of the stack forgets them.
type verificationPart struct {
	cfg config.Verification
	// httpAddr is HTTP_ADDR, where the API takes the decision webhooks.
	httpAddr string
	// lookup reads the environment (os.LookupEnv), for KYC_WEBHOOK_URL.
	lookup func(string) (string, bool)
	layout layout
}

func (v *verificationPart) info() partInfo { return verificationInfo }

func (v *verificationPart) address() string { return v.cfg.Addr }

func (v *verificationPart) probe(ctx context.Context) error {
	return httpOK(ctx, "http://"+dialAddr(v.cfg.Addr)+"/healthz")
}

func (v *verificationPart) ready(ctx context.Context) error { return v.probe(ctx) }

func (v *verificationPart) startable() error {
	if err := requireLoopback(v.cfg.Addr); err != nil {
		return fmt.Errorf("KYC_ADDR: %w", err)
	}
	return nil
}

func (v *verificationPart) start(_ context.Context, l launcher) (*child, error) {
	return startBinary(l, v.layout, verificationInfo, verificationCommandPath, v.env())
}

// env hands the stand-in the secrets the worker signs its requests with
// and the API verifies its webhooks with, and where the API listens. A
// KYC_WEBHOOK_URL the environment sets (a tunnel, the webhook
// inbox) is left as it is, and so is KYC_SIM_DELAY.
func (v *verificationPart) env() []string {
	env := []string{
		listenEnv("KYC_ADDR", v.cfg.Addr),
		"KYC_KEY_ID=" + v.cfg.KeyID,
		"KYC_SECRET=" + v.cfg.Secret,
		"KYC_WEBHOOK_SECRET=" + v.cfg.WebhookSecret,
	}
	if _, set := v.lookup("KYC_WEBHOOK_URL"); !set {
		env = append(env, "KYC_WEBHOOK_URL=http://"+dialAddr(v.httpAddr)+"/webhooks/verification")
	}
	return env
}

func (v *verificationPart) setup(context.Context) error { return nil }

func (v *verificationPart) endpoints() [][2]string {
	return [][2]string{{"Seller checks", "http://" + dialAddr(v.cfg.Addr) + "/checks"}}
}

// verificationURLEnv answers what to add to the worker's environment so
// that it calls the stand-in where it listens: KYC_URL, unless
// the environment sets it (a real provider, a proxy).
func verificationURLEnv(lookup func(string) (string, bool), cfg config.Verification) []string {
	if _, set := lookup("KYC_URL"); set {
		return nil
	}
	return []string{"KYC_URL=http://" + dialAddr(cfg.Addr)}
}
