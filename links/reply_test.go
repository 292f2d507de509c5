package links

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAReplyAddressNamesItsCaseAndVerifiesForItsCustomer(t *testing.T) {
	s, err := NewSigner([]Key{next, old})
	require.NoError(t, err)
	token := s.ReplyToken("C-0123456789ABCDEF", "cus-1", now.Add(90*24*time.Hour))
	addr := ReplyAddress(token, "reply.handoff.localhost")
	assert.True(t, strings.HasPrefix(addr, "reply+C-0123456789ABCDEF.k2."), addr)
	assert.LessOrEqual(t, len(addr[:strings.Index(addr, "@")]), 64, "RFC 5321 caps a local part at 64 octets")

	got, caseID, err := ReplyTokenOf("<"+strings.ToUpper(addr[:5])+addr[5:len(addr)-9]+"LOCALHOST>", "reply.handoff.localhost")
	require.NoError(t, err)
	assert.Equal(t, token, got)
	assert.Equal(t, "C-0123456789ABCDEF", caseID)

	verified, err := s.VerifyReply(token, "cus-1", now)
	require.NoError(t, err)
	assert.Equal(t, "C-0123456789ABCDEF", verified)
}

func TestAReplyTokenIsRefusedForAnotherCustomerOrCaseOrAfterItsExpiry(t *testing.T) {
	s, err := NewSigner([]Key{next})
	require.NoError(t, err)
	token := s.ReplyToken("C-1", "cus-1", now.Add(time.Hour))

	_, err = s.VerifyReply(token, "cus-2", now)
	assert.ErrorIs(t, err, ErrInvalid, "another customer")
	_, err = s.VerifyReply("C-2"+strings.TrimPrefix(token, "C-1"), "cus-1", now)
	assert.ErrorIs(t, err, ErrInvalid, "another case in the token")
	_, err = s.VerifyReply(token, "cus-1", now.Add(time.Hour))
	assert.ErrorIs(t, err, ErrExpired)
	flipped := "a"
	if strings.HasSuffix(token, "a") {
		flipped = "b"
	}
	_, err = s.VerifyReply(token[:len(token)-1]+flipped, "cus-1", now)
	assert.ErrorIs(t, err, ErrInvalid, "an altered mac")
	_, err = s.VerifyReply("C-1.k2.zz", "cus-1", now)
	assert.ErrorIs(t, err, ErrInvalid, "too few fields")

	other, err := NewSigner([]Key{old})
	require.NoError(t, err)
	_, err = other.VerifyReply(token, "cus-1", now)
	assert.ErrorIs(t, err, ErrInvalid, "an unknown key")
}

func TestAnOlderKeyStillVerifiesAReplyToken(t *testing.T) {
	before, err := NewSigner([]Key{old})
	require.NoError(t, err)
	token := before.ReplyToken("C-1", "cus-1", now.Add(time.Hour))
	rotated, err := NewSigner([]Key{next, old})
	require.NoError(t, err)
	_, err = rotated.VerifyReply(token, "cus-1", now)
	assert.NoError(t, err)
}

func TestReplyTokenOfRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{
		"support@reply.handoff.localhost",
		"reply+@reply.handoff.localhost",
		"reply+C-1.k2.zz.abc@elsewhere.example",
		"reply+C-1.k2@reply.handoff.localhost",
		"no-at-sign",
	} {
		_, _, err := ReplyTokenOf(addr, "reply.handoff.localhost")
		assert.ErrorIs(t, err, ErrInvalid, addr)
	}
}
