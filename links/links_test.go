package links

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
)

var (
	now  = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	old  = Key{ID: "k1", Secret: []byte("an-older-secret-of-at-least-32-bytes!!")}
	next = Key{ID: "k2", Secret: []byte("the-newest-secret-of-at-least-32-bytes")}
)

func survey(t *testing.T, keys ...Key) (*Signer, string) {
	t.Helper()
	s, err := NewSigner(keys)
	require.NoError(t, err)
	return s, s.Sign(Claims{Purpose: PurposeSurvey, Subject: "C-1", Customer: "cus-1", Expires: now.Add(7 * 24 * time.Hour)})
}

func TestAnIntactTokenAnswersItsClaims(t *testing.T) {
	s, token := survey(t, next)
	c, err := s.Verify(token, PurposeSurvey, "C-1", now)
	require.NoError(t, err)
	assert.Equal(t, Claims{Purpose: PurposeSurvey, Subject: "C-1", Customer: "cus-1", Expires: now.Add(7 * 24 * time.Hour)}, c)
	assert.True(t, strings.HasPrefix(token, "v1.k2."), "the token names its key")
}

func TestATamperedTokenIsInvalid(t *testing.T) {
	s, token := survey(t, next)
	parts := strings.Split(token, ".")
	forged := encode(Claims{Purpose: PurposeSurvey, Subject: "C-2", Customer: "cus-1", Expires: now.Add(time.Hour)})
	for name, bad := range map[string]string{
		"another case in the body": strings.Join([]string{parts[0], parts[1], forged, parts[3]}, "."),
		"a flipped signature":      token[:len(token)-2] + "AA",
		"an unknown key":           strings.Replace(token, ".k2.", ".k9.", 1),
		"cut short":                strings.Join(parts[:3], "."),
		"another version":          "v2" + token[2:],
		"empty":                    "",
	} {
		_, err := s.Verify(bad, PurposeSurvey, "C-1", now)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}

func TestAnExpiredTokenIsExpiredNotInvalid(t *testing.T) {
	s, token := survey(t, next)
	_, err := s.Verify(token, PurposeSurvey, "C-1", now.Add(7*24*time.Hour))
	assert.ErrorIs(t, err, ErrExpired)
}

func TestATokenOpensOnlyItsPurposeAndSubject(t *testing.T) {
	s, token := survey(t, next)
	_, err := s.Verify(token, PurposeDelivery, "C-1", now)
	assert.ErrorIs(t, err, ErrWrongUse, "a survey link is no delivery link")
	_, err = s.Verify(token, PurposeSurvey, "C-2", now)
	assert.ErrorIs(t, err, ErrWrongUse, "nor a link to another case")
}

func TestARotatedKeyStillVerifiesWhatItSigned(t *testing.T) {
	before, token := survey(t, old)
	after, err := NewSigner([]Key{next, old})
	require.NoError(t, err)
	_, err = after.Verify(token, PurposeSurvey, "C-1", now)
	require.NoError(t, err, "links sent before the rotation keep working")
	assert.True(t, strings.HasPrefix(after.Sign(Claims{Purpose: PurposeSurvey, Subject: "C-1", Expires: now}), "v1.k2."), "the newest key signs")
	retired, err := NewSigner([]Key{next})
	require.NoError(t, err)
	_, err = retired.Verify(token, PurposeSurvey, "C-1", now)
	assert.ErrorIs(t, err, ErrInvalid, "once the old key is removed its links stop working")
	_ = before
}

func TestKeysAreChecked(t *testing.T) {
	for name, keys := range map[string][]Key{
		"none":         nil,
		"short secret": {{ID: "k1", Secret: []byte("short")}},
		"dotted id":    {{ID: "k.1", Secret: next.Secret}},
		"twice":        {next, next},
	} {
		_, err := NewSigner(keys)
		assert.Error(t, err, name)
	}
}

func TestTheDefaultConfigurationSigns(t *testing.T) {
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	s, err := FromConfig(cfg.Notify.LinkKeys)
	require.NoError(t, err)
	token := s.Sign(Claims{Purpose: PurposeDelivery, Subject: "D-1", Customer: "buy-1", Expires: now.Add(time.Hour)})
	_, err = s.Verify(token, PurposeDelivery, "D-1", now)
	assert.NoError(t, err)
}
