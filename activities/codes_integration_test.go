//go:build integration

package activities

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/codes"
	"handoff/stacktest"
	"handoff/workflows/accountflows"
)

// The code the mail shows, alone on its indented line.
var mailedCode = regexp.MustCompile(`(?m)^\s+([0-9]{6})\s*$`)

func TestRecoveryCodeArrivesInFrenchWithTheCodeItsDigestMatches(t *testing.T) {
	ctx := stacktest.Context(t)
	n, db := stackNotifier(t, "")
	stamp := time.Now().UnixNano()
	req := accountflows.CodeRequest{
		ID: fmt.Sprintf("recovery/R-%d/code", stamp), Purpose: accountflows.CodePurposeRecovery, Channel: CodeChannelEmail,
		To: fmt.Sprintf("recover-%d@example.com", stamp), Locale: "fr", CaseID: fmt.Sprintf("N-%d", stamp),
		ValidFor: 15 * time.Minute,
	}
	sent, _, err := sendCode(t, n, req)
	require.NoError(t, err)
	again, _, err := sendCode(t, n, req)
	require.NoError(t, err, "a retried activity finds the code sent")
	assert.Equal(t, sent, again)

	mails := mailsTo(t, n, req.To)
	require.Len(t, mails, 1, "the retry sent nothing")
	var msg mailpitMessage
	require.NoError(t, mailpitGet(ctx, "/api/v1/message/"+mails[0].ID, &msg))
	assert.Equal(t, "["+req.CaseID+"] Votre code de récupération de compte", msg.Subject)
	assert.Equal(t, strings.ReplaceAll(req.ID, "/", ".")+".email@handoff.localhost", msg.MessageID)
	text := strings.ReplaceAll(msg.Text, "\r\n", "\n") // SMTP lines end in CRLF
	assert.Contains(t, text, "Il est valable 15 minutes")
	assert.Contains(t, text, "Nous ne vous le demanderons jamais par téléphone")
	m := mailedCode.FindStringSubmatch(text)
	require.NotNil(t, m, "no code in the mail:\n%s", text)
	secret := []byte(stacktest.Config(t).Notify.CodeSecret)
	assert.Equal(t, sent.Digest, codes.Digest(secret, req.ID, m[1]), "the mailed code verifies against the digest")
	assert.Equal(t, sent.Digest, codes.Digest(secret, req.ID, m[1][:3]+" "+m[1][3:]), "as the customer may type it")
	assert.NotContains(t, msg.Text+msg.HTML, sent.Digest)
	assert.Contains(t, msg.HTML, m[1])

	recs, err := db.Deliveries(ctx, req.ID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "sent", recs[0].Status)
	assert.Equal(t, 1, recs[0].Attempts)
	assert.Equal(t, req.To, recs[0].Target)
	assert.Equal(t, EventRecoveryCode, recs[0].Event)
	assert.Equal(t, req.CaseID, recs[0].CaseID)
}
