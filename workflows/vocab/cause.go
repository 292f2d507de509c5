package vocab

import (
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// A notification's cause is what made a workflow tell someone: the update
// being handled, a deadline, the nth signal of a channel, a failed
// notification. Workflows name a notification's id after its cause rather
// than its event's timeline number, because a cause is the same in every
// try of a workflow task: a task retried after a worker died in it may
// record another event first (a deadline that passed in between), which
// would give the action's event another number and send its notification
// a second time under another id.

// causeKey is the workflow.Context key of a notification's cause.
type causeKey struct{}

// CausedBy answers ctx whose notifications name cause: a deadline, a
// signal, a failed delivery. An update's own id needs none: CauseOf finds
// it.
func CausedBy(ctx workflow.Context, cause string) workflow.Context {
	return workflow.WithValue(ctx, causeKey{}, cause)
}

// CauseOf answers what ctx's notifications are caused by: the innermost
// cause set on it by CausedBy, else "update/<update id>" of the update
// being handled, else "" (the workflow names the notification by other
// means then, its event's timeline number).
func CauseOf(ctx workflow.Context) string {
	if cause, ok := ctx.Value(causeKey{}).(string); ok && cause != "" {
		return cause
	}
	if u := workflow.GetCurrentUpdateInfo(ctx); u != nil && u.ID != "" {
		return "update/" + u.ID
	}
	return ""
}

// DeadlineCause names a deadline due at as a notification's cause:
// deadline/<names joined by slashes>/<due, Unix milliseconds>, the names
// saying which deadline (its kind, its target or step).
func DeadlineCause(at time.Time, names ...string) string {
	return "deadline/" + strings.Join(names, "/") + "/" + strconv.FormatInt(at.UnixMilli(), 10)
}

// IssuedIDs counts the notification ids a workflow named after causes, so
// a cause that tells one audience of one event twice names the second
// apart. The zero value is ready to use.
type IssuedIDs struct{ seen map[string]int }

// Name answers id the first time it is named, then id/2, id/3 and so on.
func (s *IssuedIDs) Name(id string) string {
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	s.seen[id]++
	if n := s.seen[id]; n > 1 {
		return id + "/" + strconv.Itoa(n)
	}
	return id
}
