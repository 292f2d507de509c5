// Package kb holds what the knowledge base knows apart from storage: the
// values an article takes (locales, statuses, limits), the checks that
// name each wrong field, the safe rendering of an article's Markdown, and
// the unified diff of two of its versions.
package kb

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"handoff/workflows/vocab"
)

// Locale is the language an article is written in; it picks the text
// search configuration that stems its words.
type Locale string

// The locales of articles.
const (
	LocaleEN Locale = "en"
	LocaleFR Locale = "fr"
)

// Locales lists every locale.
var Locales = []Locale{LocaleEN, LocaleFR}

// SearchConfig answers the Postgres text search configuration of l, the
// one the migration's generated column uses for it.
func (l Locale) SearchConfig() string {
	if l == LocaleFR {
		return "french"
	}
	return "english"
}

// Status is where an article is in its life: only published ones are
// shown to customers and suggested on cases.
type Status string

// The statuses of an article.
const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
	StatusArchived  Status = "archived"
)

// Statuses lists every status.
var Statuses = []Status{StatusDraft, StatusPublished, StatusArchived}

// Limits of an article: a title fits a line of a list, a body a long
// guide (100 KB of Markdown is some 15,000 words).
const (
	MinTitleRunes = 3
	MaxTitleRunes = 200
	MaxBodyBytes  = 100 << 10
)

// FieldError names one wrong field of an article by its JSON name.
type FieldError struct {
	Field   string
	Message string
}

// InvalidError is an article refused before it reaches Postgres, with
// every wrong field.
type InvalidError struct {
	Fields []FieldError
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Message
	}
	return "invalid article: " + strings.Join(parts, "; ")
}

// Check answers an *InvalidError naming every wrong field of an article
// with these values, or nil. An empty locale is not checked: an edit keeps
// the article's.
func Check(locale, category, title, body string) error {
	var fields []FieldError
	add := func(field, why string) {
		if why != "" {
			fields = append(fields, FieldError{Field: field, Message: why})
		}
	}
	if locale != "" {
		add("locale", CheckLocale(locale))
	}
	add("category", CheckCategory(category))
	add("title", CheckTitle(title))
	add("body_md", CheckBody(body))
	if len(fields) == 0 {
		return nil
	}
	return &InvalidError{Fields: fields}
}

// CheckLocale says why s is no locale, or "".
func CheckLocale(s string) string {
	if slices.Contains(Locales, Locale(s)) {
		return ""
	}
	return "must be one of " + join(Locales)
}

// CheckCategory says why s is no case category, or "".
func CheckCategory(s string) string {
	if slices.Contains(vocab.Categories, vocab.Category(s)) {
		return ""
	}
	return "must be a case category: one of " + join(vocab.Categories)
}

// CheckStatus says why s is no status, or "".
func CheckStatus(s string) string {
	if slices.Contains(Statuses, Status(s)) {
		return ""
	}
	return "must be one of " + join(Statuses)
}

// CheckTitle says why s cannot be a title, or "": one line of
// MinTitleRunes to MaxTitleRunes characters, not only spaces.
func CheckTitle(s string) string {
	if why := storable(s); why != "" {
		return why
	}
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n < MinTitleRunes:
		return fmt.Sprintf("must have at least %d characters besides spaces", MinTitleRunes)
	case utf8.RuneCountInString(s) > MaxTitleRunes:
		return fmt.Sprintf("must have at most %d characters", MaxTitleRunes)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "must be one line without control characters"
	}
	return ""
}

// CheckBody says why s cannot be an article's Markdown, or "": some
// text, at most MaxBodyBytes.
func CheckBody(s string) string {
	if why := storable(s); why != "" {
		return why
	}
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case len(s) > MaxBodyBytes:
		return fmt.Sprintf("must be at most %d bytes (it has %d)", MaxBodyBytes, len(s))
	}
	return ""
}

// storable says why Postgres text would refuse s, or "".
func storable(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "must not contain NUL characters"
	}
	return ""
}

func join[T ~string](values []T) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}
