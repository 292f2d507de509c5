package mailin

import (
	"strings"
	"unicode"
)

// ReplyAboveMarkers are the marker lines by language. Outgoing customer
// emails carry the marker of their language as their first line, so
// anything below it in a reply is the quoted history.
var ReplyAboveMarkers = map[string]string{
	"en": "## Reply above this line ##",
	"fr": "## Répondez au-dessus de cette ligne ##",
}

// NewText answers only the text the customer wrote in the plain-text body
// of an email reply (decoded to UTF-8, possibly rendered from HTML): the
// quoted history, quoted lines, signature and mobile footer are left out,
// line ends are LF, runs of three or more blank lines become one and the
// result is trimmed. It answers "" when nothing new is left (a reply that
// only quotes); what to do then is the caller's call.
//
// The history starts at the earliest of: a line holding one of
// ReplyAboveMarkers, a client's attribution line ("On … wrote:",
// "Le … a écrit :", possibly wrapped over two lines), an Outlook separator
// or header block, or a signature delimiter ("-- "). Quoted (">") lines are
// left out wherever they are, so an attribution followed by a quote and
// then the customer's own lines is an interleaved or bottom-posted reply:
// only the attribution and the quote go, the answers stay. For the same
// reason a marker inside a quote is part of the quote: Thunderbird, by
// default, quotes our whole message, marker included, and has the customer
// answer below it.
func NewText(body string) string {
	body = strings.TrimPrefix(body, "\uFEFF")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	lines := beforeHistory(strings.Split(body, "\n"))
	lines = withoutQuotes(lines)
	lines = withoutFooter(lines)
	return tidy(lines)
}

// beforeHistory answers the lines above the quoted history, keeping quoted
// lines (withoutQuotes removes them) and leaving out the attribution line of
// an interleaved reply.
func beforeHistory(lines []string) []string {
	var kept []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if isQuoted(line) {
			kept = append(kept, line)
			continue
		}
		if hasMarker(line) {
			return kept
		}
		if n := attribution(lines[i:]); n > 0 {
			if !answersBelow(lines[i+n:]) {
				return kept
			}
			i += n - 1
			continue
		}
		if historyStarts(lines[i:]) {
			return kept
		}
		kept = append(kept, line)
	}
	return kept
}

// historyStarts reports whether the history starts at lines[0] with
// something other than an attribution: a signature delimiter, an Outlook
// separator or an Outlook header block.
func historyStarts(lines []string) bool {
	return isSignatureDelimiter(lines[0]) || outlookSeparator(lines[0]) ||
		underscoreSeparator(lines) || headerBlock(lines)
}

// answersBelow reports whether the lines after an attribution are an
// interleaved reply: a quote first, then a line of the customer's own that
// is neither a signature, a footer nor the start of older history.
func answersBelow(lines []string) bool {
	quoted := false
	for i, line := range lines {
		switch {
		case isBlank(line):
		case isQuoted(line):
			quoted = true
		case !quoted:
			return false
		default:
			return !hasMarker(line) && !isFooter(line) &&
				attribution(lines[i:]) == 0 && !historyStarts(lines[i:])
		}
	}
	return false
}

func hasMarker(line string) bool {
	for _, m := range ReplyAboveMarkers {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

func isQuoted(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), ">")
}

func isBlank(line string) bool {
	return strings.TrimSpace(line) == ""
}

// isSignatureDelimiter is RFC 3676's "-- " line, also without its space as
// many clients strip trailing spaces.
func isSignatureDelimiter(line string) bool {
	return strings.TrimRight(line, " \t") == "--"
}

// flat answers line trimmed, with the no-break spaces of French typography
// ("a écrit :", "De :") as plain spaces.
func flat(line string) string {
	return strings.TrimSpace(noBreakSpaces.Replace(line))
}

var noBreakSpaces = strings.NewReplacer("\u00A0", " ", "\u202F", " ")

// attribution answers how many lines (1 or 2) the attribution line at
// lines[0] takes, or 0 when there is none. Gmail wraps a long one over two
// lines; a first line ending a sentence is the customer's, not a wrap.
func attribution(lines []string) int {
	first := flat(lines[0])
	if isAttribution(first) {
		return 1
	}
	if len(lines) > 1 && (strings.HasPrefix(first, "On ") || strings.HasPrefix(first, "Le ")) &&
		!strings.ContainsAny(first[len(first)-1:], ".!?:") &&
		!isQuoted(lines[1]) && isAttribution(first+" "+flat(lines[1])) {
		return 2
	}
	return 0
}

// isAttribution reports whether a flattened line is a client's "On <date>,
// <name> wrote:" or "Le <date>, <name> a écrit :". The date (a digit) and
// the comma after it are what tell it from a sentence such as "On Monday
// your colleague wrote:" or "On 3 Dec she wrote:".
func isAttribution(s string) bool {
	en := strings.HasPrefix(s, "On ") && strings.HasSuffix(s, " wrote:")
	fr := strings.HasPrefix(s, "Le ") && (strings.HasSuffix(s, " a écrit :") || strings.HasSuffix(s, " a écrit:"))
	return (en || fr) && strings.ContainsFunc(s, unicode.IsDigit) && strings.Contains(s, ",")
}

// outlookSeparator reports "-----Original Message-----" and its French
// "-----Message d'origine-----".
func outlookSeparator(line string) bool {
	s := strings.ToLower(flat(line))
	if !strings.HasPrefix(s, "---") || !strings.HasSuffix(s, "---") {
		return false
	}
	s = strings.ReplaceAll(strings.Trim(s, "- "), "’", "'")
	// Thunderbird writes "-------- Original Message --------" and, in
	// French, "-------- Message original --------".
	return s == "original message" || s == "message d'origine" || s == "message original"
}

// underscoreSeparator reports Outlook's line of underscores above the
// header block of the message replied to.
func underscoreSeparator(lines []string) bool {
	s := flat(lines[0])
	if len(s) < 10 || strings.Trim(s, "_") != "" {
		return false
	}
	for _, line := range lines[1:min(len(lines), 4)] {
		if !isBlank(line) {
			return fromKeys[headerKey(line)]
		}
	}
	return false
}

// headerBlock reports Outlook's header block of the message replied to: a
// From line followed within four lines by a Sent or Date line and a To or
// Subject line (or their French names).
func headerBlock(lines []string) bool {
	if !fromKeys[headerKey(lines[0])] {
		return false
	}
	var sent, to bool
	for _, line := range lines[1:min(len(lines), 5)] {
		k := headerKey(line)
		sent = sent || sentKeys[k]
		to = to || toKeys[k]
	}
	return sent && to
}

var (
	fromKeys = map[string]bool{"from": true, "de": true}
	sentKeys = map[string]bool{"sent": true, "date": true, "envoyé": true}
	toKeys   = map[string]bool{"to": true, "subject": true, "à": true, "objet": true}
)

// headerKey answers the lower-cased name of the header a line starts with
// ("From: …", "De : …", "*Envoyé :* …" as HTML renders bold), or "".
func headerKey(line string) string {
	s := flat(line)
	i := strings.Index(s, ":")
	if i < 0 || i > 12 {
		return ""
	}
	return strings.ToLower(strings.Trim(s[:i], " *"))
}

// withoutQuotes leaves out the quoted lines; a quote between two lines of
// text leaves a blank line so the answers around it stay apart.
func withoutQuotes(lines []string) []string {
	var kept []string
	for i := 0; i < len(lines); i++ {
		if !isQuoted(lines[i]) {
			kept = append(kept, lines[i])
			continue
		}
		for i+1 < len(lines) && isQuoted(lines[i+1]) {
			i++
		}
		if len(kept) > 0 && !isBlank(kept[len(kept)-1]) && i+1 < len(lines) && !isBlank(lines[i+1]) {
			kept = append(kept, "")
		}
	}
	return kept
}

// withoutFooter leaves out the mobile footers among the last non-blank
// lines.
func withoutFooter(lines []string) []string {
	for {
		for len(lines) > 0 && isBlank(lines[len(lines)-1]) {
			lines = lines[:len(lines)-1]
		}
		if len(lines) == 0 || !isFooter(lines[len(lines)-1]) {
			return lines
		}
		lines = lines[:len(lines)-1]
	}
}

// footers are the mobile and webmail footers, lower-cased.
var footers = map[string]bool{
	"sent from my iphone":                         true,
	"sent from my ipad":                           true,
	"sent from my android":                        true,
	"sent from my android phone":                  true,
	"sent from my samsung galaxy smartphone":      true,
	"sent from yahoo mail for iphone":             true,
	"sent from yahoo mail on android":             true,
	"sent from mail for windows":                  true,
	"sent from mail for windows 10":               true,
	"get outlook for ios":                         true,
	"get outlook for android":                     true,
	"envoyé de mon iphone":                        true,
	"envoyé de mon ipad":                          true,
	"envoyé depuis mon iphone":                    true,
	"envoyé depuis mon ipad":                      true,
	"envoyé de mon appareil android":              true,
	"envoyé depuis mon appareil android":          true,
	"télécharger outlook pour ios":                true,
	"télécharger outlook pour android":            true,
	"obtenir outlook pour ios":                    true,
	"obtenir outlook pour android":                true,
	"envoyé à partir de outlook":                  true,
	"envoyé à partir d'outlook":                   true,
	"envoyé à partir de courrier pour windows":    true,
	"envoyé à partir de courrier pour windows 10": true,
}

// isFooter reports a footer line, also with the link Outlook for mobile
// puts after it ("Get Outlook for iOS<https://aka.ms/…>", or "( https://… )"
// as HTML renders it).
func isFooter(line string) bool {
	s := flat(line)
	for _, link := range []string{"<http", "( http"} {
		if i := strings.Index(s, link); i > 0 {
			s = strings.TrimSpace(s[:i])
		}
	}
	s = strings.ToLower(strings.TrimRight(s, ".!"))
	return footers[strings.ReplaceAll(s, "’", "'")]
}

// tidy trims the lines' ends, collapses runs of three or more blank lines
// to one and trims the whole.
func tidy(lines []string) string {
	var b strings.Builder
	for i := 0; i < len(lines); {
		if !isBlank(lines[i]) {
			b.WriteString(strings.TrimRightFunc(lines[i], unicode.IsSpace))
			b.WriteByte('\n')
			i++
			continue
		}
		n := 0
		for ; i < len(lines) && isBlank(lines[i]); i++ {
			n++
		}
		if n >= 3 {
			n = 1
		}
		b.WriteString(strings.Repeat("\n", n))
	}
	return strings.TrimSpace(b.String())
}
