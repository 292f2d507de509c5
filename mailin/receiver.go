package mailin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"handoff/evidence"
	"handoff/links"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Receiver is the one path every inbound email takes into its case, from
// the SMTP gateway or the mail provider's webhook. It is an Inbox.
//
// Once per message: the inbound mail log (store.ClaimInboundMessage) holds
// a row per Message-ID and case, claimed before anything acts and marked
// delivered once the case has the message, so a second delivery of the
// same mail answers as the first did and changes nothing. A crash between
// the two leaves the row receiving; the sender's retry does the same work
// again under the same ids (evidence ids and follow-up case ids derive from
// the Message-ID, and the case ignores a message id it has seen).
type Receiver struct {
	Temporal client.Client
	Store    *store.Store
	Evidence *evidence.Store
	Links    *links.Signer
	// Opener opens the follow-up case of a reply to a closed case.
	Opener cases.Opener
	// Domain is the reply addresses' mail domain (INBOUND_MAIL_DOMAIN).
	Domain string
	// MaxBytes is the largest message taken (INBOUND_MAX_BYTES).
	MaxBytes int64
	Logger   *slog.Logger
	// Now is time.Now unless a test sets it.
	Now func() time.Time
}

// ChannelEmail is the channel inbound emails name on the case timeline.
const ChannelEmail = "email"

var _ Inbox = (*Receiver)(nil)

// AcceptRecipient takes mail for a reply address whose token is intact, for
// a known case and its customer, and not expired.
func (r *Receiver) AcceptRecipient(ctx context.Context, rcpt string) error {
	_, err := r.caseOf(ctx, rcpt)
	return err
}

// caseOf answers the case a reply address names, once its token checks out
// for the case's customer.
func (r *Receiver) caseOf(ctx context.Context, rcpt string) (cases.CaseView, error) {
	token, caseID, err := links.ReplyTokenOf(rcpt, r.Domain)
	if err != nil {
		return cases.CaseView{}, refuse(550, "5.1.1", "no such mailbox: not a reply address of a case")
	}
	view, err := r.Store.GetCase(ctx, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return cases.CaseView{}, refuse(550, "5.1.1", "this reply address is not valid; write to support from the marketplace instead")
	}
	if err != nil {
		return cases.CaseView{}, fmt.Errorf("read case %s: %w", caseID, err)
	}
	switch _, err := r.Links.VerifyReply(token, view.Customer.ID, r.now()); {
	case errors.Is(err, links.ErrExpired):
		return cases.CaseView{}, refuse(550, "5.1.1", "this reply address has expired; write to support from the marketplace to open a new case")
	case err != nil:
		return cases.CaseView{}, refuse(550, "5.1.1", "this reply address is not valid; write to support from the marketplace instead")
	}
	return view, nil
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Deliver takes one message to a reply address into its case (see
// Receiver): the customer's new text and attachments as a customer message,
// an automatic answer recorded only, a bounce as a failed notification, a
// message from anyone else as an internal note for review. A reply to a
// closed case opens a case that follows it up.
func (r *Receiver) Deliver(ctx context.Context, in Incoming) error {
	view, err := r.caseOf(ctx, in.Rcpt)
	if err != nil {
		return err
	}
	if r.MaxBytes > 0 && int64(len(in.Raw)) > r.MaxBytes {
		return refuse(552, "5.3.4", "message too large: at most %d bytes", r.MaxBytes)
	}
	m, err := parseMessage(in.Raw, in.MailFrom)
	if err != nil {
		return refuse(554, "5.6.0", "the message cannot be read as MIME")
	}
	kind, why := classify(m, view)
	row, err := r.Store.ClaimInboundMessage(ctx, store.InboundMessage{
		MessageID: m.id, CaseID: view.ID, Kind: kind, MailFrom: in.MailFrom, HeaderFrom: m.from,
		Subject: m.subject, Authentication: m.auth, SizeBytes: int64(len(in.Raw)), Attachments: len(m.files),
	})
	if err != nil {
		return err
	}
	logger := r.logger().With("message_id", m.id, "case", view.ID, "kind", kind)
	if row.Status == store.InboundDelivered {
		logger.Info("inbound mail already delivered", "delivered_to", row.DeliveredTo)
		return nil
	}
	to, err := r.deliver(ctx, view, m, kind, why)
	if err != nil {
		return err
	}
	if err := r.Store.MarkInboundDelivered(ctx, m.id, view.ID, to); err != nil {
		return err
	}
	logger.Info("inbound mail delivered", "delivered_to", to, "files", len(m.files))
	return nil
}

// classify answers what m is to the case, and why when it may not act as
// the customer's words.
func classify(m message, view cases.CaseView) (kind, why string) {
	switch {
	case m.bounce != nil:
		return cases.InboundBounce, m.bounce.reason
	case m.autoReply != "":
		return cases.InboundAutoReply, m.autoReply
	case m.from == "" || !sameAddress(m.from, view.Customer.Email):
		return cases.InboundUnverifiedSender, "sent from " + orNone(m.from) + ", not the case customer's address"
	case dmarcFailed(m.auth):
		return cases.InboundUnverifiedSender, "the receiving server found DMARC failing for the sender"
	}
	return cases.InboundCustomer, ""
}

var dmarcFail = regexp.MustCompile(`(?i)\bdmarc\s*=\s*fail\b`)

// dmarcFailed reports whether Authentication-Results say DMARC failed: the
// From address is then not shown to be the sender's.
func dmarcFailed(auth string) bool { return dmarcFail.MatchString(auth) }

func orNone(s string) string {
	if s == "" {
		return "no address"
	}
	return s
}

// deliver hands m to its case, or to a new case following it up when the
// case is closed, and answers the id of the case that took it ("" for a
// message a closed case has no use for).
func (r *Receiver) deliver(ctx context.Context, view cases.CaseView, m message, kind, why string) (string, error) {
	signal := cases.InboundMessage{
		Kind: kind, Channel: ChannelEmail, MessageID: m.id, From: m.from, Authentication: m.auth, Reason: why,
		Body: m.text, Actor: vocab.EmailActorPrefix + orNone(m.from),
	}
	switch kind {
	case cases.InboundCustomer:
		signal.Actor = "customer:" + view.Customer.ID
	case cases.InboundBounce:
		signal.Actor, signal.Body, signal.Notification = vocab.SystemActor, "", m.bounce.notification
	}
	if view.Status == cases.StatusClosed {
		return r.followUp(ctx, view, m, kind)
	}
	var stored []storedFile
	if kind == cases.InboundCustomer {
		var err error
		if stored, signal.Attachments, err = r.storeFiles(ctx, view, m); err != nil {
			return "", err
		}
	} else {
		for _, f := range m.files {
			signal.Attachments = append(signal.Attachments, orUnnamed(f.name)+" (not kept)")
		}
	}
	for _, s := range stored {
		signal.Evidence = append(signal.Evidence, s.evidence)
	}
	err := r.Temporal.SignalWorkflow(ctx, cases.CaseWorkflowID(view.ID), "", cases.SignalCustomerMessage, signal)
	var ended *serviceerror.NotFound
	if errors.As(err, &ended) {
		// The case closed and ended since the read model was written.
		view.Status = cases.StatusClosed
		return r.followUp(ctx, view, m, kind)
	}
	if err != nil {
		return "", fmt.Errorf("signal case %s: %w", view.ID, err)
	}
	r.retain(ctx, view, stored)
	return view.ID, nil
}

// followUp opens the case that continues a closed one the customer
// answered, with their new text as its description and their attachments
// as its evidence; its acknowledgement tells them its number. Nothing else
// a closed case is sent acts.
func (r *Receiver) followUp(ctx context.Context, closed cases.CaseView, m message, kind string) (string, error) {
	if kind != cases.InboundCustomer {
		return "", nil
	}
	subject := m.subject
	if subject == "" {
		subject = closed.Subject
	}
	description := m.text
	if description == "" {
		description = "(no text)"
	}
	in, err := r.Opener.Open(ctx, cases.OpenRequest{
		Category: closed.Category, Priority: closed.Priority, Subject: truncate(subject, 200), Description: description,
		Customer: closed.Customer, AccountID: closed.AccountID, OrderID: closed.OrderID, Channel: ChannelEmail,
		OpenedBy: "customer:" + closed.Customer.ID, FollowsUp: closed.ID,
	}, vocab.Once{Key: m.id, KeyScope: "email/" + closed.ID})
	if err != nil {
		return "", fmt.Errorf("open the follow-up of case %s: %w", closed.ID, err)
	}
	next := cases.CaseView{ID: in.ID, Category: in.Category}
	stored, _, err := r.storeFiles(ctx, next, m)
	if err != nil {
		return "", err
	}
	for _, s := range stored {
		h, err := r.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: cases.CaseWorkflowID(in.ID), UpdateName: cases.UpdateAddEvidence, UpdateID: s.evidence.ID,
			Args:         []any{vocab.EvidenceInput{Actor: "customer:" + closed.Customer.ID, Evidence: s.evidence}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return "", fmt.Errorf("attach %s to case %s: %w", s.evidence.ID, in.ID, err)
		}
	}
	r.retain(ctx, next, stored)
	return in.ID, nil
}

// storedFile is an attachment stored in S3 as evidence of a case.
type storedFile struct {
	evidence  vocab.Evidence
	versionID string
}

// storeFiles stores m's files as evidence of the case through the
// evidence store (sniffed, size-limited, checksummed), each under an id
// derived from the message, so a retry writes the same keys. It answers the
// stored files and, for the others, what was refused.
func (r *Receiver) storeFiles(ctx context.Context, view cases.CaseView, m message) ([]storedFile, []string, error) {
	var stored []storedFile
	var refused []string
	for i, f := range m.files {
		e := vocab.Evidence{ID: fileID(m.id, view.ID, i), Kind: "support_message",
			Note: truncate("email attachment "+orUnnamed(f.name), 500), UploadedBy: "customer:" + view.Customer.ID}
		e.Key = evidence.Key(view.ID, e.ID)
		meta := map[string]string{"case-id": view.ID, "evidence-id": e.ID, "kind": e.Kind, "uploaded-by": "email"}
		obj, err := r.Evidence.Put(ctx, e.Key, meta, bytes.NewReader(f.content), int64(len(f.content)))
		var unsupported *evidence.UnsupportedTypeError
		switch {
		case errors.As(err, &unsupported):
			refused = append(refused, orUnnamed(f.name)+" (not kept: "+unsupported.Type+" is not an evidence type)")
			continue
		case errors.Is(err, evidence.ErrTooLarge):
			refused = append(refused, orUnnamed(f.name)+" (not kept: over "+strconv.FormatInt(r.Evidence.MaxBytes(), 10)+" bytes)")
			continue
		case errors.Is(err, evidence.ErrEmpty):
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("store attachment %d of %s: %w", i, m.id, err)
		}
		e.SHA256, e.Size, e.ContentType = obj.SHA256, obj.Size, obj.ContentType
		e.Retained = slices.Contains(vocab.RetainedCategories, view.Category)
		stored = append(stored, storedFile{evidence: e, versionID: obj.VersionID})
	}
	return stored, refused, nil
}

// retain locks the stored files of a case whose evidence is retained, once
// the case has them (as the API does for uploads). A failure is logged: the
// file is recorded, and an operator can lock it.
func (r *Receiver) retain(ctx context.Context, view cases.CaseView, stored []storedFile) {
	for _, s := range stored {
		if !s.evidence.Retained {
			continue
		}
		if err := r.Evidence.Retain(ctx, s.evidence.Key, s.versionID); err != nil {
			r.logger().Error("lock email attachment", "case", view.ID, "evidence", s.evidence.ID, "error", err)
		}
	}
}

var fileIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// fileID derives the evidence id of the i-th file of message messageID on
// case caseID, in the shape of evidence.NewID.
func fileID(messageID, caseID string, i int) string {
	sum := sha256.Sum256([]byte(messageID + "\x00" + caseID + "\x00" + strconv.Itoa(i)))
	return "E-" + fileIDEncoding.EncodeToString(sum[:10])
}

func orUnnamed(name string) string {
	if strings.TrimSpace(name) == "" {
		return "unnamed file"
	}
	return name
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

func (r *Receiver) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
