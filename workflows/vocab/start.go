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

// StartOnce starts the workflow opts names unless its id was ever used: a
// running workflow of that id is answered as started (the caller reads
// it), and so is a closed one, which is not started again. This is what
// makes an idempotency key open one case or one delivery, whatever retries.
func StartOnce(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, workflowType string, arg any) error {
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	_, err := c.ExecuteWorkflow(ctx, opts, workflowType, arg)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) { // closed: the id was used once already
		return nil
	}
	return err
}
