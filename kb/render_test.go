package kb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRenderDropsScriptsEventHandlersAndJavascriptLinks(t *testing.T) {
	md := "# Reset\n\n<script>alert(1)</script>\n\n" +
		"<img src=x onerror=alert(2)>\n\n" +
		"<a href=\"https://example.com\" onclick=\"steal()\">raw link</a>\n\n" +
		"[click](javascript:alert(3)) and [also](JaVaScRiPt:alert(4)) and <javascript:alert(5)>\n\n" +
		"<div style=\"position:fixed\" onmouseover=\"x()\">overlay</div>\n\n" +
		"<iframe src=\"https://evil.example\"></iframe>\n"
	html := string(Render(md))
	lower := strings.ToLower(html)
	for _, gone := range []string{"<script", "alert(1)", "onerror", "onclick", "onmouseover", "href=\"javascript", "<iframe", "style=", "<!--"} {
		assert.NotContains(t, lower, gone, html)
	}
	assert.Contains(t, html, "<h1>Reset</h1>")
	// What is left of the links is their text, never a link.
	assert.Contains(t, html, "<p>click and also and javascript:alert(5)</p>")
	assert.NotContains(t, html, "<a")
}

func TestRenderKeepsHeadingsListsCodeAndTables(t *testing.T) {
	md := "## Unlock your account\n\n" +
		"1. Open the *email*\n2. Click **the link**\n\n" +
		"- one\n- two\n\n" +
		"Run `reset --now` or:\n\n```go\nfmt.Println(\"<b>hi</b>\")\n```\n\n" +
		"| Step | Time |\n|:-----|-----:|\n| Wait | 5 min |\n\n" +
		"~~old~~ new, see https://help.example.com/reset\n"
	html := string(Render(md))
	assert.Contains(t, html, "<h2>Unlock your account</h2>")
	assert.Contains(t, html, "<ol>\n<li>Open the <em>email</em></li>")
	assert.Contains(t, html, "<strong>the link</strong>")
	assert.Contains(t, html, "<ul>\n<li>one</li>")
	assert.Contains(t, html, "<code>reset --now</code>")
	assert.Contains(t, html, `<pre><code class="language-go">fmt.Println(&#34;&lt;b&gt;hi&lt;/b&gt;&#34;)`)
	assert.Contains(t, html, "<table>")
	assert.Contains(t, html, `<th align="left">Step</th>`)
	assert.Contains(t, html, `<td align="right">5 min</td>`)
	assert.Contains(t, html, "<del>old</del>")
	assert.Contains(t, html, `<a href="https://help.example.com/reset" rel="nofollow noopener" target="_blank">https://help.example.com/reset</a>`)
}

func TestRenderMarksEveryLinkNofollow(t *testing.T) {
	html := string(Render("[home](/kb) and [docs](https://docs.example.com)"))
	assert.Contains(t, html, `<a href="/kb" rel="nofollow">home</a>`)
	assert.Contains(t, html, `<a href="https://docs.example.com" rel="nofollow noopener" target="_blank">docs</a>`)
}
