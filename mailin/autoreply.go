package mailin

import (
	"net/textproto"
	"strings"
)

// AutoReply reports whether a message is an automatic one (an out-of-office
// reply, an autoresponder, a mailing list's mail) that must not act on a
// case, with the reason naming what matched ("Auto-Submitted:
// auto-replied", `subject starts with "Out of Office"`). h is the
// message's header; subject its Subject, already decoded from RFC 2047.
// Answering an automatic reply would start a mail loop between two robots.
func AutoReply(h textproto.MIMEHeader, subject string) (reason string, ok bool) {
	// RFC 3834: any value other than "no" is automatic; it may carry
	// parameters ("auto-replied; owner-email=...").
	for _, v := range h.Values("Auto-Submitted") {
		if headerToken(v) != "no" {
			return header("Auto-Submitted", v), true
		}
	}
	for _, key := range []string{"Precedence", "X-Precedence"} {
		for _, v := range h.Values(key) {
			if automaticPrecedence[key][headerToken(v)] {
				return header(key, v), true
			}
		}
	}
	for _, key := range []string{"X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Mail-Autoreply"} {
		if vs := h.Values(key); len(vs) > 0 {
			return header(key, vs[0]), true
		}
	}
	// Exchange sets it on its own automatic replies: a list such as
	// "DR, OOF, AutoReply", or "All".
	for _, v := range h.Values("X-Auto-Response-Suppress") {
		for item := range strings.SplitSeq(v, ",") {
			if suppressed[strings.ToLower(strings.TrimSpace(item))] {
				return header("X-Auto-Response-Suppress", v), true
			}
		}
	}
	for _, key := range []string{"List-Id", "List-Unsubscribe"} {
		if vs := h.Values(key); len(vs) > 0 {
			return header(key, vs[0]), true
		}
	}
	s := strings.ToLower(strings.Join(strings.Fields(subject), " "))
	for _, p := range vacationSubjects {
		if strings.HasPrefix(s, strings.ToLower(p)) {
			return "subject starts with " + `"` + p + `"`, true
		}
	}
	return "", false
}

// automaticPrecedence are the values of Precedence and X-Precedence that
// mark a message sent by a program, lower-cased.
var automaticPrecedence = map[string]map[string]bool{
	"Precedence":   {"bulk": true, "junk": true, "list": true, "auto_reply": true},
	"X-Precedence": {"auto_reply": true},
}

// suppressed are the X-Auto-Response-Suppress items, lower-cased, that only
// an automatic message carries.
var suppressed = map[string]bool{"all": true, "oof": true, "autoreply": true}

// vacationSubjects are the subject prefixes of the common clients'
// out-of-office replies, in English and French, and Outlook's German one
// (matched case-insensitively, so "Out of Office" also takes
// "Out of office:").
var vacationSubjects = []string{
	"Out of Office",
	"Automatic reply:",
	"Autoreply:",
	"Auto:",
	"Réponse automatique",
	"Absence du bureau",
	"Absent du bureau",
	"Message d'absence",
	"Message d’absence",
	"Abwesenheitsnotiz",
}

// headerToken answers a header value's first token, lower-cased, without
// the parameters or comment after it.
func headerToken(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, ";( \t"); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(v)
}

func header(key, value string) string {
	return key + ": " + strings.TrimSpace(value)
}
