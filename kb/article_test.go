package kb

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fieldNames(err error) []string {
	var inv *InvalidError
	if !errors.As(err, &inv) {
		return nil
	}
	var out []string
	for _, f := range inv.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCheckNamesEveryWrongFieldOfAnArticle(t *testing.T) {
	err := Check("de", "billing", "  a ", "")
	require.Error(t, err)
	assert.Equal(t, []string{"locale", "category", "title", "body_md"}, fieldNames(err))
	assert.Contains(t, err.Error(), "locale must be one of en, fr")
}

func TestCheckTakesAGoodArticleAndSkipsAnEmptyLocale(t *testing.T) {
	assert.NoError(t, Check("fr", "locked_account", "Compte bloqué", "Pour **débloquer** votre compte…"))
	assert.NoError(t, Check("", "password_reset", "Reset your password", "Open the email."))
}

func TestCheckRefusesAMultiLineTitleAndAnOversizedBody(t *testing.T) {
	err := Check("en", "general_question", "Two\nlines", strings.Repeat("x", MaxBodyBytes+1))
	assert.Equal(t, []string{"title", "body_md"}, fieldNames(err))
	assert.Equal(t, []string{"title"}, fieldNames(Check("en", "general_question", strings.Repeat("é", MaxTitleRunes+1), "ok")))
	assert.NoError(t, Check("en", "general_question", strings.Repeat("é", MaxTitleRunes), strings.Repeat("x", MaxBodyBytes)))
}

func TestCheckRefusesTextPostgresCannotStore(t *testing.T) {
	assert.Equal(t, []string{"title", "body_md"}, fieldNames(Check("en", "general_question", "bad\x00title", "bad \xff body")))
}

func TestCheckStatusKnowsTheThreeStatuses(t *testing.T) {
	for _, s := range []string{"draft", "published", "archived"} {
		assert.Empty(t, CheckStatus(s), s)
	}
	assert.Equal(t, "must be one of draft, published, archived", CheckStatus("deleted"))
}

func TestSearchConfigOfEachLocale(t *testing.T) {
	assert.Equal(t, "english", LocaleEN.SearchConfig())
	assert.Equal(t, "french", LocaleFR.SearchConfig())
}
