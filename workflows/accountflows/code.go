package accountflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// oneTimeCode is a verification code as a recovery or a profile change
// holds it: the keyed digest a typed code must match (never the code), the
// wrong attempts it still takes and its expiry. The code itself is derived
// from CodeID by the SendCode activity and the API, never stored.
type oneTimeCode struct {
	digest string
	left   int
	// expired reports that the code's time ran out; false until it is armed.
	expired func() bool
	stop    func()
}

func newOneTimeCode(attempts int) *oneTimeCode {
	return &oneTimeCode{left: attempts, expired: func() bool { return false }, stop: func() {}}
}

// send has SendCode send the code req names and keeps the digest to match.
func (c *oneTimeCode) send(ctx workflow.Context, req CodeRequest, summary string) error {
	var sent CodeSent
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, summary), ActivitySendCode, req).Get(ctx, &sent); err != nil {
		return err
	}
	c.digest = sent.Digest
	return nil
}

// arm starts the code's expiry: one timer of validFor.
func (c *oneTimeCode) arm(ctx workflow.Context, validFor time.Duration, summary string) {
	c.expired, c.stop = within(ctx, validFor, summary)
}

// attempt checks a typed code's digest: a match answers true, a miss costs
// one attempt.
func (c *oneTimeCode) attempt(digest string) bool {
	if digest == c.digest {
		return true
	}
	c.left--
	return false
}

// spent reports that no wrong attempt is left.
func (c *oneTimeCode) spent() bool { return c.left <= 0 }
