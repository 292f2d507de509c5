package accountflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

func workflowOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name}
}

func TestOneTimeCodeCountsWrongAttemptsUntilSpent(t *testing.T) {
	c := newOneTimeCode(2)
	c.digest = "d-right"
	assert.False(t, c.expired(), "a code not yet armed has not expired")
	assert.False(t, c.attempt("d-wrong"))
	assert.False(t, c.spent(), "one wrong attempt of two")
	assert.True(t, c.attempt("d-right"), "the right digest verifies and costs nothing")
	assert.Equal(t, 1, c.left)
	assert.False(t, c.attempt("d-wrong"))
	assert.True(t, c.spent())
}

// A code sent and armed inside a workflow keeps the digest SendCode
// answered and expires when its time is up.
func TestOneTimeCodeSentInAWorkflowExpiresWhenItsTimeIsUp(t *testing.T) {
	env := newTestEnv()
	env.RegisterActivityWithOptions(func(ctx context.Context, r CodeRequest) (CodeSent, error) {
		return CodeSent{Digest: "digest-of-" + r.ID}, nil
	}, activity.RegisterOptions{Name: ActivitySendCode})
	type seen struct {
		Digest                string
		ExpiredAtStart, Later bool
	}
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (seen, error) {
		c := newOneTimeCode(3)
		if err := c.send(ctx, CodeRequest{ID: CodeID("recovery/C-1-1")}, "send"); err != nil {
			return seen{}, err
		}
		c.arm(ctx, 15*time.Minute, "expires")
		out := seen{Digest: c.digest, ExpiredAtStart: c.expired()}
		if err := workflow.Sleep(ctx, 16*time.Minute); err != nil {
			return out, err
		}
		out.Later = c.expired()
		return out, nil
	}, workflowOptions("CodeProbe"))
	env.ExecuteWorkflow("CodeProbe")
	require.NoError(t, env.GetWorkflowError())
	var out seen
	require.NoError(t, env.GetWorkflowResult(&out))
	assert.Equal(t, "digest-of-recovery/C-1-1/code", out.Digest)
	assert.False(t, out.ExpiredAtStart)
	assert.True(t, out.Later)
}
