package vocab

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Once is what makes an open of a case or a start of a delivery
// idempotent, and what the started workflow keeps.
type Once struct {
	// Key, when set, names what is opened: its id is IDForKey(prefix,
	// KeyScope, Key), and a second open with the same key answers what the
	// first one started, running or closed.
	Key, KeyScope string
	// Memo is kept on the workflow (the API keeps the request's fingerprint).
	Memo map[string]any
}

// IDForKey derives the id of what an idempotency key opens within its
// scope (the API key that sent it, or "workflow" for opens from
// workflows): the same key in the same scope always names the same case or
// delivery. prefix says which ("C-", "D-").
func IDForKey(prefix, scope, key string) string {
	h := sha256.Sum256([]byte(scope + "\x00" + key))
	return prefix + strings.ToUpper(hex.EncodeToString(h[:8]))
}

// ChooseID answers the id of what a caller opens: id when it named one,
// else IDForKey(prefix, scope, key) when it sent a key, else a new random id.
func ChooseID(prefix, id, scope, key string) string {
	switch {
	case id != "":
		return id
	case key != "":
		return IDForKey(prefix, scope, key)
	default:
		return NewID(prefix)
	}
}

// NewID answers a random id with prefix, for an open without a key.
func NewID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// StartOnce starts the workflow opts names unless its id was ever used,
// and answers whether this call started it. A running or closed workflow
// of that id is no error: nothing is started and the caller reads it.
// This is what makes an idempotency key open one case or one delivery,
// whatever retries; knowing the start was new lets the caller answer from
// the input it started, without a query.
func StartOnce(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, workflowType string, arg any) (bool, error) {
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true
	_, err := c.ExecuteWorkflow(ctx, opts, workflowType, arg)
	var used *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &used) { // running, or closed: the id was used already
		return false, nil
	}
	return err == nil, err
}
