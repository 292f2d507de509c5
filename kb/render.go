package kb

import (
	"bytes"
	"html/template"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders CommonMark with the GitHub extensions articles use:
// tables, strikethrough, bare URLs as links. It keeps goldmark's safe
// default: raw HTML in the Markdown is omitted and dangerous link schemes
// (javascript:, vbscript:, data:) are dropped.
var markdown = goldmark.New(goldmark.WithExtensions(
	extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
	extension.Strikethrough,
	extension.Linkify,
))

// policy is the second, independent line: whatever goldmark let through,
// only user-content HTML survives (no script, no event handler, no style,
// no javascript: URL), links carry rel="nofollow", and links to other
// sites open apart with rel="nofollow noopener".
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	// The language of a fenced code block, for a stylesheet to use.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+-]{1,40}$`)).OnElements("code")
	return p
}()

// Render answers an article's Markdown as HTML safe to put in a page. A
// document goldmark cannot render (it renders any text) answers as
// escaped text.
func Render(md string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(md), &b); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(md) + "</pre>")
	}
	return template.HTML(policy.SanitizeBytes(b.Bytes())) //nolint:gosec // sanitized just above
}
