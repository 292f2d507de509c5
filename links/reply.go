package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PurposeReply is the purpose of a reply address: a token of the other
// purposes opens no mailbox, and a reply token opens no page.
const PurposeReply = "reply"

// replyLocalPrefix starts the local part of every reply address; the token
// follows it as a subaddress (reply+<token>@<domain>).
const replyLocalPrefix = "reply+"

// replyMACBytes is how much of the HMAC a reply token keeps: 80 bits, so
// the address stays short enough for every mail system to carry.
const replyMACBytes = 10

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ReplyToken answers the token of the reply address of case caseID for its
// customer, valid until expires, under the newest key:
// <case id>.<key id>.<expiry in unix seconds, base 36>.<mac>. The customer
// is in the MAC but not in the token: the receiver looks the case's
// customer up and checks the token with VerifyReply. Case ids hold no dot
// (the API's pattern); a dotted one still parses, since the fields are
// taken from the right.
func (s *Signer) ReplyToken(caseID, customer string, expires time.Time) string {
	k := s.keys[0]
	exp := strconv.FormatInt(expires.Unix(), 36)
	return caseID + "." + k.ID + "." + exp + "." + replyMAC(k.Secret, k.ID, caseID, customer, exp)
}

// ReplyAddress answers the reply address of token at the inbound mail domain.
func ReplyAddress(token, domain string) string {
	return replyLocalPrefix + token + "@" + domain
}

// ReplyTokenOf answers the token of a reply address at domain and the case
// it names, without checking it: the receiver looks the case up, then
// calls VerifyReply. Angle brackets and the domain's case are tolerated.
func ReplyTokenOf(addr, domain string) (token, caseID string, err error) {
	addr = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(addr), "<"), ">")
	at := strings.LastIndex(addr, "@")
	if at < 0 || !strings.EqualFold(addr[at+1:], domain) {
		return "", "", fmt.Errorf("%w: not an address at %s", ErrInvalid, domain)
	}
	local := addr[:at]
	if len(local) <= len(replyLocalPrefix) || !strings.EqualFold(local[:len(replyLocalPrefix)], replyLocalPrefix) {
		return "", "", fmt.Errorf("%w: not a reply address", ErrInvalid)
	}
	token = local[len(replyLocalPrefix):]
	caseID, _, _, _, ok := splitReply(token)
	if !ok {
		return "", "", fmt.Errorf("%w: malformed reply token", ErrInvalid)
	}
	return token, caseID, nil
}

// VerifyReply answers the case id of token when it is intact, signed by a
// known key for that case and customer, and not expired at now; else
// ErrInvalid or ErrExpired.
func (s *Signer) VerifyReply(token, customer string, now time.Time) (string, error) {
	caseID, kid, exp, sum, ok := splitReply(token)
	if !ok {
		return "", ErrInvalid
	}
	var key *Key
	for i := range s.keys {
		if s.keys[i].ID == kid {
			key = &s.keys[i]
		}
	}
	if key == nil || !hmac.Equal([]byte(strings.ToLower(sum)), []byte(replyMAC(key.Secret, kid, caseID, customer, exp))) {
		return "", ErrInvalid
	}
	secs, err := strconv.ParseInt(exp, 36, 64)
	if err != nil {
		return "", ErrInvalid
	}
	if !now.Before(time.Unix(secs, 0)) {
		return caseID, ErrExpired
	}
	return caseID, nil
}

// splitReply takes a reply token apart from the right.
func splitReply(token string) (caseID, kid, exp, sum string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) < 4 {
		return "", "", "", "", false
	}
	n := len(parts)
	caseID = strings.Join(parts[:n-3], ".")
	kid, exp, sum = parts[n-3], parts[n-2], parts[n-1]
	if caseID == "" || kid == "" || exp == "" || sum == "" {
		return "", "", "", "", false
	}
	return caseID, kid, exp, sum, true
}

// replyMAC answers the truncated lower-case base32 HMAC-SHA256 of a reply
// token's fields, its purpose first.
func replyMAC(secret []byte, kid, caseID, customer, exp string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(strings.Join([]string{PurposeReply, version, kid, caseID, customer, exp}, "\x00")))
	return lowerBase32.EncodeToString(h.Sum(nil)[:replyMACBytes])
}
