package main

import (
	"context"
	"fmt"

	"handoff/config"
)

// carrierCommandPath is the package of the carrier stand-in's binary, for
// the hint given when it has not been built.
const carrierCommandPath = "./deploy/carriersim/cmd/handoff-carrier"

// carrierPart is the shipping carrier's stand-in (package carriersim): it
// serves the signed label and tracking API of docs/carrier.md and posts
// each tracking event, signed, to the API's POST /webhooks/carrier.
type carrierPart struct {
	cfg config.Commerce
	// httpAddr is HTTP_ADDR, where the API takes the tracking webhooks.
	httpAddr string
	// lookup reads the environment (os.LookupEnv), for CARRIER_WEBHOOK_URL.
	lookup func(string) (string, bool)
	layout layout
}

func (c *carrierPart) info() partInfo { return carrierInfo }

func (c *carrierPart) address() string { return c.cfg.CarrierAddr }

func (c *carrierPart) probe(ctx context.Context) error {
	return httpOK(ctx, "http://"+dialAddr(c.cfg.CarrierAddr)+"/healthz")
}

func (c *carrierPart) ready(ctx context.Context) error { return c.probe(ctx) }

func (c *carrierPart) startable() error {
	if err := requireLoopback(c.cfg.CarrierAddr); err != nil {
		return fmt.Errorf("CARRIER_ADDR: %w", err)
	}
	return nil
}

func (c *carrierPart) start(_ context.Context, l launcher) (*child, error) {
	return startBinary(l, c.layout, carrierInfo, carrierCommandPath, c.env())
}

// env hands the stand-in the secrets the worker signs its requests with
// and the API verifies its webhooks with, and where the API listens. A
// CARRIER_WEBHOOK_URL the environment sets (a tunnel, the webhook inbox)
// is left as it is.
func (c *carrierPart) env() []string {
	env := []string{
		listenEnv("CARRIER_ADDR", c.cfg.CarrierAddr),
		"CARRIER_KEY_ID=" + c.cfg.CarrierKeyID,
		"CARRIER_SECRET=" + c.cfg.CarrierSecret,
		"CARRIER_WEBHOOK_SECRET=" + c.cfg.CarrierWebhookSecret,
	}
	if _, set := c.lookup("CARRIER_WEBHOOK_URL"); !set {
		env = append(env, "CARRIER_WEBHOOK_URL=http://"+dialAddr(c.httpAddr)+"/webhooks/carrier")
	}
	return env
}

func (c *carrierPart) setup(context.Context) error { return nil }

func (c *carrierPart) endpoints() [][2]string {
	return [][2]string{{"Carrier labels", "http://" + dialAddr(c.cfg.CarrierAddr) + "/labels"}}
}
