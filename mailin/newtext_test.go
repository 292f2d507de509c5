package mailin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minReplyCases guards the corpus glob: a pattern that matches nothing (or a
// folder moved away) must fail rather than pass with no case run.
const minReplyCases = 14

// TestNewTextKeepsOnlyWhatTheCustomerWrote runs every reply under
// testdata/replies: <name>.txt is the body as the client sent it and
// <name>.want.txt the new text NewText must answer. Each case also runs
// with CRLF line ends, as SMTP delivers them.
func TestNewTextKeepsOnlyWhatTheCustomerWrote(t *testing.T) {
	bodies, err := filepath.Glob(filepath.Join("testdata", "replies", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, bodyPath := range bodies {
		if strings.HasSuffix(bodyPath, ".want.txt") {
			continue
		}
		cases++
		name := strings.TrimSuffix(filepath.Base(bodyPath), ".txt")
		wantPath := strings.TrimSuffix(bodyPath, ".txt") + ".want.txt"
		t.Run(name, func(t *testing.T) {
			body := readFile(t, bodyPath)
			// An editor ends the file with a newline; the answer is trimmed.
			want := strings.TrimSuffix(readFile(t, wantPath), "\n")
			if got := NewText(body); got != want {
				t.Errorf("NewText(%s) differs from %s (- want, + got):\n%s", bodyPath, wantPath, lineDiff(want, got))
			}
			crlf := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
			if got := NewText(crlf); got != want {
				t.Errorf("NewText(%s with CRLF) differs from %s (- want, + got):\n%s", bodyPath, wantPath, lineDiff(want, got))
			}
		})
	}
	if cases < minReplyCases {
		t.Fatalf("found %d reply cases under testdata/replies, want at least %d", cases, minReplyCases)
	}
}

func TestNewTextRules(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"plain text is kept", "Hello,\nthanks.", "Hello,\nthanks."},
		{"only a quote answers nothing", "> a\n> b\n", ""},
		{"empty body", "", ""},
		{"signature delimiter without its space", "Thanks\n--\nJean\n", "Thanks"},
		{"dashes inside a sentence stay", "Price -- 12 EUR\nok", "Price -- 12 EUR\nok"},
		{"two blank lines stay", "a\n\n\nb", "a\n\n\nb"},
		{"three blank lines become one", "a\n\n\n\nb", "a\n\nb"},
		{"whitespace-only lines are blank", "a\n \n\t\n  \nb", "a\n\nb"},
		{"trailing spaces are trimmed", "a  \nb\t", "a\nb"},
		{"lone CR is a line end", "a\rb", "a\nb"},
		{"byte order mark goes", "\uFEFFHello", "Hello"},
		{"accents stay", "Très bien, à jeudi. Ça marche, Noël !", "Très bien, à jeudi. Ça marche, Noël !"},
		{"footer not last stays", "Sent from my iPhone\nthe rest is mine", "Sent from my iPhone\nthe rest is mine"},
		{"several footers go", "ok\n\nSent from my iPhone\nGet Outlook for iOS", "ok"},
		{"footer with a link goes", "ok\n\nGet Outlook for iOS<https://aka.ms/o0ukef>", "ok"},
		{"footer with a typographic apostrophe goes", "ok\n\nEnvoyé à partir d’Outlook", "ok"},
		{"footer among other words stays", "ok\nI sent from my iPhone a photo", "ok\nI sent from my iPhone a photo"},
		{"On … wrote: without a date stays", "On Monday your colleague wrote:\nhello", "On Monday your colleague wrote:\nhello"},
		{"wrote mid-line stays", "On 3 Dec she wrote: it is fine\nok", "On 3 Dec she wrote: it is fine\nok"},
		{"On <date> … wrote: without a comma stays", "On 3 Dec she wrote:\nfine", "On 3 Dec she wrote:\nfine"},
		{"a sentence above a wrote: line is no wrapped attribution", "On 3 Dec I called, twice.\nThen your colleague wrote:\nnothing", "On 3 Dec I called, twice.\nThen your colleague wrote:\nnothing"},
		{"a écrit : without a date stays", "Le technicien a écrit :\nrien", "Le technicien a écrit :\nrien"},
		{"French attribution with no-break space", "Oui\n\nLe 01/12/2026 à 10:00, Support a écrit\u00A0:\n> Bonjour", "Oui"},
		{"attribution followed by unquoted history", "Yes\n\nOn 1 Dec 2026, at 10:00, Jane wrote:\n\nHello Jane,\nwe shipped it.", "Yes"},
		{"attribution with nothing after", "Yes\nOn 1 Dec 2026, at 10:00, Jane wrote:", "Yes"},
		{"bottom post below an attribution", "On 12/1/26 10:00 AM, Support wrote:\n> Which size?\n\nSize M.", "Size M."},
		{"signature below a quote is not an answer", "Yes\nOn 12/1/26 10:00 AM, Support wrote:\n> Which size?\n-- \nJean", "Yes"},
		{"quote between text keeps the paragraphs apart", "a\n> q\nb", "a\n\nb"},
		{"indented quote", "a\n  > q\n", "a"},
		{"marker anywhere in a line", "ok\n*## Reply above this line ##*\nhistory", "ok"},
		{"quoted marker is part of the quote", "> ## Reply above this line ##\n> Which size?\n\nSize M.", "Size M."},
		{"Original Message in capitals", "ok\n----- ORIGINAL MESSAGE -----\nFrom: x", "ok"},
		{"Thunderbird forward separator", "ok\n-------- Message original --------\nSujet : x", "ok"},
		{"many dashes alone stay", "ok\n----------\nmore", "ok\n----------\nmore"},
		{"underscores without headers stay", "ok\n____________\nmore", "ok\n____________\nmore"},
		{"underscores before headers", "ok\n__________\n\nFrom: S <s@x>\nSent: today\nTo: me", "ok"},
		{"From line alone stays", "From: my new address is below\nok", "From: my new address is below\nok"},
		{"From without To or Subject stays", "From: Paris\nDate: Monday\nok", "From: Paris\nDate: Monday\nok"},
		{"From header block far apart stays", "From: a\n1\n2\n3\n4\nSent: b\nTo: c", "From: a\n1\n2\n3\n4\nSent: b\nTo: c"},
		{"From with Date and Subject", "ok\n\nFrom: S <s@x>\nDate: Mon, 1 Dec 2026\nSubject: hi\n\nold", "ok"},
		{"French header block without spaces", "ok\nDe: S\nEnvoyé: lundi\nÀ: moi\nObjet: x", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewText(tt.body); got != tt.want {
				t.Errorf("NewText(%q) (- want, + got):\n%s", tt.body, lineDiff(tt.want, got))
			}
		})
	}
}

func TestReplyAboveMarkersCoverTheCustomerLanguages(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		m := ReplyAboveMarkers[lang]
		if m == "" {
			t.Errorf("no marker for %q", lang)
			continue
		}
		if got := NewText("ok\n" + m + "\nhistory"); got != "ok" {
			t.Errorf("text above the %s marker: got %q, want %q", lang, got, "ok")
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lineDiff answers want and got line by line, "-" for a line only in want,
// "+" for a line only in got, so a failure reads like a diff.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			fmt.Fprintf(&out, "  %q\n", a[i])
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&out, "- %q\n", a[i])
			i++
		default:
			fmt.Fprintf(&out, "+ %q\n", b[j])
			j++
		}
	}
	return out.String()
}
