package kb

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Markers Postgres's ts_headline puts around a matched word of a snippet,
// in place of HTML: characters of Unicode's private use area, which no
// article means to contain. The snippet is made of Markdown text, so it
// is escaped as a whole and only then are the markers turned into <mark>.
const (
	StartMark = "\uE000"
	StopMark  = "\uE001"
)

// HeadlineOptions are the ts_headline options of a search hit's snippet:
// up to two fragments of 15 to 35 words around the matched words.
const HeadlineOptions = "StartSel=" + StartMark + ", StopSel=" + StopMark +
	", MaxWords=35, MinWords=15, ShortWord=3, MaxFragments=2, FragmentDelimiter=\" … \""

// MarkSnippet answers the HTML of a snippet ts_headline made with
// HeadlineOptions: its text escaped, its spaces and line breaks folded to
// single spaces, each marked word in <mark>. A marker the article itself
// held cannot unbalance the tags: a start inside a mark and a stop outside
// one are dropped, and an open mark is closed at the end.
func MarkSnippet(raw string) string {
	raw = strings.Join(strings.Fields(plainText(raw)), " ")
	var b strings.Builder
	open := false
	for raw != "" {
		i := strings.IndexAny(raw, StartMark+StopMark)
		if i < 0 {
			b.WriteString(html.EscapeString(raw))
			break
		}
		b.WriteString(html.EscapeString(raw[:i]))
		r, size := utf8.DecodeRuneInString(raw[i:])
		switch {
		case string(r) == StartMark && !open:
			b.WriteString("<mark>")
			open = true
		case string(r) == StopMark && open:
			b.WriteString("</mark>")
			open = false
		}
		raw = raw[i+size:]
	}
	if open {
		b.WriteString("</mark>")
	}
	return b.String()
}

// markdownLead matches the Markdown that starts a line of a body (headings,
// list items, quotes, fences); markdownInline the emphasis and code marks.
var (
	markdownLead   = regexp.MustCompile("(?m)^[ \\t]*(#{1,6}[ \\t]+|[-*+][ \\t]+|\\d+\\.[ \\t]+|>[ \\t]?|`{3,}\\w*)")
	markdownInline = regexp.MustCompile("`+|\\*\\*|__")
)

// plainText drops the Markdown syntax of a snippet's lines, so a reader
// sees the words, not "## Steps - 1.".
func plainText(md string) string {
	return markdownInline.ReplaceAllString(markdownLead.ReplaceAllString(md, ""), "")
}

// maxQueryWords bounds the words of an any-word query: a case's subject
// and the head of its description say what it is about.
const maxQueryWords = 64

// AnyWordQuery answers text as a websearch_to_tsquery query matching any
// of its words: its words (letters and digits only, so no quote, no
// leading "-" and no operator survives) joined by " or ", each once, at
// most maxQueryWords of them; "" when text has none.
func AnyWordQuery(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	seen := map[string]bool{}
	var kept []string
	for _, w := range words {
		// "or" is websearch_to_tsquery's operator, a stop word besides.
		if w == "or" || seen[w] {
			continue
		}
		seen[w] = true
		kept = append(kept, w)
		if len(kept) == maxQueryWords {
			break
		}
	}
	return strings.Join(kept, " or ")
}
