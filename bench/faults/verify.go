package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/api/serviceerror"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Cells are one row of the matrix: every count must be 0 but Named503,
// which counts the API's honest refusals while a dependency was down.
type Cells struct {
	CasesLost, EventsLost               int
	NotificationsDoubled, NotifsMissing int
	EscalationsWrong, ProjectionWrong   int
	EvidenceHalf, Unnamed5xx            int
	Named503                            int
	// Breaches counts the distinct first-response breaches seen.
	Breaches int
	// Notes explain the non-zero cells and what else was seen.
	Notes []string
}

func (c *Cells) note(format string, args ...any) {
	if len(c.Notes) < 40 {
		c.Notes = append(c.Notes, fmt.Sprintf(format, args...))
	}
}

// drainWithin bounds how long the ground truth waits for every case
// workflow to end once the load and the fault are over: a notification
// backing off after a long outage retries within minutes.
const drainWithin = 10 * time.Minute

// verify reads the ground truth of the cases of lcs and fills the cells:
// Temporal (each case's final state, from its workflow result), the read
// model in Postgres, Mailpit's messages by Message-ID, the inbox's
// deliveries by webhook-id and the bucket's objects.
func verify(ctx context.Context, s *Stack, lcs []*lifecycle, stats *apiStats) Cells {
	var c Cells
	c.Named503, c.Unnamed5xx = stats.counts()
	for label, n := range stats.unnamed {
		c.note("API answered %dx %q", n, label)
	}
	for label, n := range stats.named {
		c.note("API answered %dx %q (named)", n, label)
	}
	views := make(map[string]cases.CaseView)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	dctx, cancel := context.WithTimeout(ctx, drainWithin)
	defer cancel()
	var ids []string
	for _, lc := range lcs {
		if lc.Err != nil {
			c.note("case %d (%s) stopped: %v", lc.n, lc.ID, lc.Err)
		}
		if lc.ID == "" {
			continue
		}
		ids = append(ids, lc.ID)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var v cases.CaseView
			err := s.Temporal.GetWorkflow(dctx, cases.CaseWorkflowID(lc.ID), "").Get(dctx, &v)
			mu.Lock()
			defer mu.Unlock()
			var notFound *serviceerror.NotFound
			switch {
			case errors.As(err, &notFound):
				c.CasesLost++
				c.note("case %s: no workflow", lc.ID)
			case err != nil:
				c.CasesLost++
				c.note("case %s: not ended within %s: %v", lc.ID, drainWithin, err)
			case v.Status != cases.StatusClosed && lc.Err == nil:
				c.CasesLost++
				c.note("case %s ended %s, not closed", lc.ID, v.Status)
			default:
				views[lc.ID] = v
			}
		})
	}
	wg.Wait()
	for _, lc := range lcs {
		v, ok := views[lc.ID]
		if !ok {
			continue
		}
		c.timeline(lc, v)
	}
	c.projection(ctx, s, views)
	c.notifications(ctx, s, ids, views)
	c.evidence(ctx, s, views)
	c.note("seen: %d cases ended, %d first-response breaches", len(views), c.Breaches)
	return c
}

// timeline checks that every acknowledged action is on the case's
// timeline and that the case breached, and escalated, exactly as often as
// it was made to.
func (c *Cells) timeline(lc *lifecycle, v cases.CaseView) {
	have := map[string]int{}
	for _, e := range v.Timeline {
		have[e.Kind]++
	}
	for kind, n := range lc.Acked {
		if have[kind] < n {
			c.EventsLost += n - have[kind]
			c.note("case %s: %d %s acknowledged, %d on the timeline", lc.ID, n, kind, have[kind])
		}
	}
	for _, id := range lc.Evidence {
		if !slices.ContainsFunc(v.Evidence, func(e vocab.Evidence) bool { return e.ID == id }) {
			c.EventsLost++
			c.note("case %s: evidence %s acknowledged, not on the case", lc.ID, id)
		}
	}
	c.escalations(lc, v)
}

// boundary is how near a deadline the first reply may come and either
// order be right: the timer and the reply race there.
const boundary = time.Second

// escalations checks each first-response breach the case was due: the
// k-th falls k targets after the opening (two at most, one per level up
// to the support manager); each due before the first reply must be on the
// timeline once, none due after it may be.
func (c *Cells) escalations(lc *lifecycle, v cases.CaseView) {
	seen := map[string]int{}
	warnings := 0
	for _, e := range v.Timeline {
		switch {
		case e.Kind == cases.EventSLABreach && e.Payload["target"] == "first_response":
			seen[e.Payload["due_at"]]++
		case e.Kind == cases.EventSLAWarning && e.Payload["target"] == "first_response":
			warnings++
		}
	}
	c.Breaches += len(seen)
	for due, n := range seen {
		if n > 1 {
			c.EscalationsWrong += n - 1
			c.note("case %s: the breach due %s escalated %d times", lc.ID, due, n)
		}
	}
	if !lc.Breach || v.FirstResponseAt == nil {
		if len(seen) > 0 && !lc.Breach {
			c.EscalationsWrong += len(seen)
			c.note("case %s: %d breaches of a p4 case", lc.ID, len(seen))
		}
		return
	}
	replied := *v.FirstResponseAt
	for k := 1; k <= 2; k++ {
		due := v.CreatedAt.Add(time.Duration(k) * breachAfter).UTC().Format(time.RFC3339)
		dueAt, _ := time.Parse(time.RFC3339, due)
		n := seen[due]
		switch {
		case dueAt.Before(replied.Add(-boundary)) && n == 0:
			c.EscalationsWrong++
			c.note("case %s: breach due %s missed (first reply %s)", lc.ID, due, replied.UTC().Format(time.RFC3339Nano))
		case dueAt.After(replied.Add(boundary)) && n > 0:
			c.EscalationsWrong++
			c.note("case %s: breach due %s after the first reply %s", lc.ID, due, replied.UTC().Format(time.RFC3339Nano))
		}
		delete(seen, due)
	}
	for due := range seen {
		c.EscalationsWrong++
		c.note("case %s: breach due %s is no target's", lc.ID, due)
	}
	if warnings != 1 {
		c.EscalationsWrong++
		c.note("case %s: %d first-response warnings, want 1", lc.ID, warnings)
	}
}

// projection compares each case's row and events in Postgres with its
// workflow's final state.
func (c *Cells) projection(ctx context.Context, s *Stack, views map[string]cases.CaseView) {
	ids := make([]string, 0, len(views))
	for id := range views {
		ids = append(ids, id)
	}
	rows, err := s.DB.Query(ctx, `SELECT c.id, c.status, c.last_seq,
		(SELECT count(*) FROM case_events e WHERE e.case_id = c.id)
		FROM cases c WHERE c.id = ANY($1)`, ids)
	if err != nil {
		c.ProjectionWrong += len(ids)
		c.note("read model: %v", err)
		return
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, status string
		var lastSeq, events int
		if err := rows.Scan(&id, &status, &lastSeq, &events); err != nil {
			c.note("read model: %v", err)
			return
		}
		seen[id] = true
		v := views[id]
		if status != string(v.Status) || lastSeq != v.LastSeq {
			c.ProjectionWrong++
			c.note("case %s: row says %s seq %d, workflow %s seq %d", id, status, lastSeq, v.Status, v.LastSeq)
		}
		if events != len(v.Timeline) {
			c.ProjectionWrong += max(len(v.Timeline)-events, events-len(v.Timeline))
			c.note("case %s: %d event rows, %d timeline events", id, events, len(v.Timeline))
		}
	}
	for _, id := range ids {
		if !seen[id] {
			c.ProjectionWrong++
			c.note("case %s: no row", id)
		}
	}
}

// notifications counts doubles at the receivers (one Message-ID in
// Mailpit twice, one webhook-id in the inbox twice) and what is missing:
// a notified event without a delivery, a delivery not sent, a sent one
// the receiver never got.
func (c *Cells) notifications(ctx context.Context, s *Stack, ids []string, views map[string]cases.CaseView) {
	mails, err := mailpitMessageIDs(ctx, s.MailpitAPI)
	if err != nil {
		c.note("Mailpit: %v", err)
	}
	for id, n := range mails {
		if n > 1 {
			c.NotificationsDoubled += n - 1
			c.note("email %s received %d times", id, n)
		}
	}
	hooks := map[string]int{}
	for _, d := range s.Deliveries() {
		hooks[d.ID]++
	}
	for id, n := range hooks {
		if n > 1 {
			c.NotificationsDoubled += n - 1
			c.note("webhook %s received %d times", id, n)
		}
	}
	rows, err := s.DB.Query(ctx, `SELECT notification_id, channel, status FROM notification_deliveries WHERE case_id = ANY($1)`, ids)
	if err != nil {
		c.note("delivery log: %v", err)
		return
	}
	defer rows.Close()
	sent := map[string]int{}
	// told holds every notified event's group: its case's workflow id, its
	// cause and its kind, as notificationEvent parses them.
	told := map[string]bool{}
	for rows.Next() {
		var id, channel, status string
		if err := rows.Scan(&id, &channel, &status); err != nil {
			c.note("delivery log: %v", err)
			return
		}
		if group, ok := notificationEvent(id); ok {
			told[group] = true
		}
		if status != "sent" {
			c.NotifsMissing++
			c.note("notification %s on %s is %s", id, channel, status)
			continue
		}
		if channel == "email" {
			sent["email"]++
		} else {
			sent["webhook"]++
		}
	}
	c.note("seen: %d emails at Mailpit, %d webhooks at the inbox; the delivery log has %d emails and %d webhooks sent",
		len(mails), len(hooks), sent["email"], sent["webhook"])
	if got := len(mails); got < sent["email"] {
		c.NotifsMissing += sent["email"] - got
		c.note("%d emails sent by the log, %d distinct at Mailpit", sent["email"], got)
	}
	if got := len(hooks); got < sent["webhook"] {
		c.NotifsMissing += sent["webhook"] - got
		c.note("%d webhooks sent by the log, %d distinct at the inbox", sent["webhook"], got)
	}
	// Each notified event is told under one cause: the timeline's count of
	// a kind must match the causes that told it.
	groups := map[string]int{}
	for group := range told {
		wf := group[:strings.Index(group, "|")]
		kind := group[strings.LastIndexByte(group, '|')+1:]
		groups[wf+"|"+kind]++
	}
	for id, v := range views {
		onTimeline := map[string]int{}
		for _, e := range v.Timeline {
			if slices.Contains(cases.NotifiedEvents, e.Kind) {
				onTimeline[e.Kind]++
			}
		}
		for kind, n := range onTimeline {
			got := groups[cases.CaseWorkflowID(id)+"|"+kind]
			switch {
			case got < n:
				c.NotifsMissing += n - got
				c.note("case %s: %d %s events, %d told", id, n, kind, got)
			case got > n:
				c.NotificationsDoubled += got - n
				c.note("case %s: %d %s events, told under %d causes", id, n, kind, got)
			}
		}
	}
}

// notificationEvent answers the group of a case's notification id:
// "<workflow id>|<cause>|<event kind>". Ids are
// <workflow id>/<cause>/<event>/<audience>[/<n>] (the cause may hold
// slashes), but for the acknowledgement's, <workflow id>/1/<audience>.
func notificationEvent(id string) (string, bool) {
	parts := strings.Split(id, "/")
	if len(parts) < 4 || parts[0] != "case" {
		return "", false
	}
	wf := parts[0] + "/" + parts[1]
	if len(parts) == 4 && parts[2] == "1" {
		return wf + "|1|" + cases.EventOpened, true
	}
	if _, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
		parts = parts[:len(parts)-1] // the nth of one cause, event and audience
	}
	if len(parts) < 5 {
		return "", false
	}
	event := parts[len(parts)-2]
	return wf + "|" + strings.Join(parts[2:len(parts)-2], "/") + "|" + event, true
}

// mailpitMessageIDs counts Mailpit's messages by Message-ID.
func mailpitMessageIDs(ctx context.Context, base string) (map[string]int, error) {
	out := map[string]int{}
	for start := 0; ; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/messages?start=%d&limit=1000", base, start), nil)
		if err != nil {
			return out, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return out, err
		}
		var page struct {
			Total    int `json:"total"`
			Messages []struct {
				MessageID string `json:"MessageID"`
			} `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return out, err
		}
		for _, m := range page.Messages {
			out[m.MessageID]++
		}
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return out, nil
		}
	}
}

// evidence checks that every file a case records has its object, and
// every object under a case's prefix is a file the case records.
func (c *Cells) evidence(ctx context.Context, s *Stack, views map[string]cases.CaseView) {
	for id, v := range views {
		recorded := map[string]bool{}
		for _, e := range v.Evidence {
			recorded[e.Key] = true
			if _, err := s.S3Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(e.Key)}); err != nil {
				c.EvidenceHalf++
				c.note("case %s: evidence %s recorded, object %s: %v", id, e.ID, e.Key, err)
			}
		}
		out, err := s.S3Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String("cases/" + id + "/")})
		if err != nil {
			c.note("list objects of case %s: %v", id, err)
			continue
		}
		for _, o := range out.Contents {
			if !recorded[aws.ToString(o.Key)] {
				c.EvidenceHalf++
				c.note("case %s: object %s stored, not recorded", id, aws.ToString(o.Key))
			}
		}
	}
}
