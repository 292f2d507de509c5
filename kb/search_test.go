package kb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMarkSnippetEscapesTheTextThenMarksTheMatches(t *testing.T) {
	raw := "Never paste <script>alert(1)</script> &amp; \"quotes\"\n\ninto the " + StartMark + "locked" + StopMark + " form"
	assert.Equal(t, "Never paste &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &#34;quotes&#34; into the <mark>locked</mark> form", MarkSnippet(raw))
}

func TestMarkSnippetKeepsTagsBalancedWhateverMarkersTheArticleHeld(t *testing.T) {
	assert.Equal(t, "a <mark>b c</mark> d", MarkSnippet("a "+StartMark+"b "+StartMark+"c"+StopMark+" d"+StopMark))
	assert.Equal(t, "x <mark>y</mark>", MarkSnippet(StopMark+"x "+StartMark+"y"))
}

func TestAnyWordQueryJoinsPlainWordsWithOr(t *testing.T) {
	assert.Equal(t, "compte or bloqué or depuis or hier or 2", AnyWordQuery(`Compte bloqué -depuis "hier" !! OR compte (2)`))
	assert.Empty(t, AnyWordQuery(" -- ' \" "))
	assert.Len(t, strings.Split(AnyWordQuery(strings.Repeat("w", 1)+strings.Repeat(" x", 10)+" "+strings.Join(manyWords(100), " ")), " or "), maxQueryWords)
}

func manyWords(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "word" + strings.Repeat("a", i+1)
	}
	return out
}

func TestSnippetsShowWordsNotMarkdown(t *testing.T) {
	raw := "## Steps\n- Open the " + StartMark + "login" + StopMark + " page.\n1. Choose **forgot password**.\n```text\ncategory: x\n```\n> `code` stays"
	got := MarkSnippet(raw)
	for _, syntax := range []string{"##", "- Open", "1.", "**", "```", "`", "&gt;"} {
		if strings.Contains(got, syntax) {
			t.Errorf("snippet %q still shows %q", got, syntax)
		}
	}
	if got != "Steps Open the <mark>login</mark> page. Choose forgot password. category: x code stays" {
		t.Errorf("snippet = %q", got)
	}
}
