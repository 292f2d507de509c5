package mailin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/jhillyerd/enmime/v2"
)

// HeaderNotification is the header outgoing emails name their notification
// in; a bounce that quotes the email's headers says which one failed.
const HeaderNotification = "X-Handoff-Notification"

// message is what the receiver reads of one email.
type message struct {
	// id is the Message-ID without its brackets, or, for a message
	// without one, a digest of its bytes.
	id string
	// from is the header From address, lower-cased; empty when missing.
	from    string
	subject string
	// text is the new text only (NewText of the plain or HTML body).
	text string
	// auth is the receiving server's Authentication-Results.
	auth string
	// autoReply, when set, says why the message is an automatic one.
	autoReply string
	// bounce is set for a delivery status notification.
	bounce *bounce
	// files are the attachments and inline images, in message order.
	files []file
}

// bounce is what a delivery status notification says.
type bounce struct {
	// notification is the X-Handoff-Notification of the bounced email.
	notification string
	// reason is the failed recipient's status and the server's diagnostic.
	reason string
}

// file is one attachment or inline image as the message carried it.
type file struct {
	name    string
	content []byte
}

// parseMessage reads raw, which came with the envelope sender mailFrom
// (empty for the null sender).
func parseMessage(raw []byte, mailFrom string) (message, error) {
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return message{}, fmt.Errorf("read MIME message: %w", err)
	}
	m := message{
		id:      strings.Trim(strings.TrimSpace(env.GetHeader("Message-Id")), "<>"),
		subject: strings.TrimSpace(env.GetHeader("Subject")),
		text:    NewText(env.Text),
		auth:    strings.Join(env.GetHeaderValues("Authentication-Results"), "; "),
	}
	if m.id == "" {
		sum := sha256.Sum256(raw)
		m.id = "sha256:" + hex.EncodeToString(sum[:16])
	}
	if from, err := env.AddressList("From"); err == nil && len(from) > 0 {
		m.from = strings.ToLower(from[0].Address)
	}
	m.bounce = readBounce(env.Root)
	if m.bounce == nil {
		if reason, ok := AutoReply(env.Root.Header, m.subject); ok {
			m.autoReply = reason
		} else if mailFrom == "" {
			// RFC 5321: only automatic messages use the null sender.
			m.autoReply = "null envelope sender"
		}
	}
	for _, p := range parts(env) {
		m.files = append(m.files, file{name: p.FileName, content: p.Content})
	}
	return m, nil
}

// parts answers a message's files: its attachments, its inline parts and
// the images of a multipart/related body (inline images without a
// disposition), leaving out the text bodies.
func parts(env *enmime.Envelope) []*enmime.Part {
	var out []*enmime.Part
	for _, group := range [][]*enmime.Part{env.Attachments, env.Inlines, env.OtherParts} {
		for _, p := range group {
			if len(p.Content) == 0 || (strings.HasPrefix(p.ContentType, "text/") && p.FileName == "") ||
				strings.HasPrefix(p.ContentType, "multipart/") || strings.HasPrefix(p.ContentType, "message/") {
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

// readBounce answers what a delivery status notification (RFC 3464, a
// multipart/report of report-type delivery-status) says failed, or nil for
// any other message or a report of no failure.
func readBounce(root *enmime.Part) *bounce {
	if root == nil || root.ContentType != "multipart/report" {
		return nil
	}
	var status, original *enmime.Part
	for p := root.FirstChild; p != nil; p = p.NextSibling {
		switch p.ContentType {
		case "message/delivery-status", "message/global-delivery-status":
			status = p
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers":
			original = p
		}
	}
	if status == nil {
		return nil
	}
	b := &bounce{}
	failed := false
	for _, fields := range statusFields(status.Content) {
		if !strings.EqualFold(fields.Get("Action"), "failed") {
			continue
		}
		failed = true
		b.reason = strings.TrimSpace(strings.Join([]string{fields.Get("Status"), fields.Get("Diagnostic-Code")}, " "))
		break
	}
	if !failed {
		return nil
	}
	if original != nil {
		if h, err := readHeader(original.Content); err == nil {
			b.notification = strings.TrimSpace(h.Get(HeaderNotification))
		}
	}
	if b.reason == "" {
		b.reason = "delivery failed"
	}
	return b
}

// statusFields answers the field groups of a delivery-status body: the
// per-message group, then one per recipient, separated by blank lines.
func statusFields(body []byte) []textproto.MIMEHeader {
	var out []textproto.MIMEHeader
	for _, block := range bytes.Split(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		if len(bytes.TrimSpace(block)) == 0 {
			continue
		}
		if h, err := readHeader(block); err == nil {
			out = append(out, h)
		}
	}
	return out
}

// readHeader reads a header block, with or without the blank line that
// ends it and a body after it.
func readHeader(b []byte) (textproto.MIMEHeader, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimLeft(b, "\r\n"), "\r\n\r\n"...))))
	h, err := r.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, fmt.Errorf("read header block: %w", err)
	}
	return h, nil
}

// sameAddress reports whether two email addresses are the same mailbox
// (the domain is case-insensitive; so is the local part, in practice).
func sameAddress(a, b string) bool {
	pa, err := mail.ParseAddress(a)
	if err != nil {
		return false
	}
	pb, err := mail.ParseAddress(b)
	if err != nil {
		return false
	}
	return strings.EqualFold(pa.Address, pb.Address)
}
