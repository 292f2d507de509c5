package codec_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"handoff/codec"
)

func ring(t *testing.T, ids ...string) *codec.Keyring {
	t.Helper()
	var lines []string
	for _, id := range ids {
		line, err := codec.NewKeyLine(id)
		require.NoError(t, err)
		lines = append(lines, line)
	}
	r, err := codec.ParseKeys(strings.Join(lines, "\n"))
	require.NoError(t, err)
	return r
}

type customer struct {
	Name, Email string
}

func TestASealedPayloadHoldsNoPlaintextAndOpensToTheSameValue(t *testing.T) {
	dc := codec.New(ring(t, "k1")).DataConverter()
	p, err := dc.ToPayload(customer{Name: "Ada Lovelace", Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, codec.Encoding, string(p.Metadata[converter.MetadataEncoding]))
	assert.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))
	assert.False(t, bytes.Contains(p.Data, []byte("ada@example.com")))
	assert.False(t, bytes.Contains(p.Data, []byte("json/plain")), "the inner encoding is sealed too")

	var back customer
	require.NoError(t, dc.FromPayload(p, &back))
	assert.Equal(t, customer{Name: "Ada Lovelace", Email: "ada@example.com"}, back)
}

func TestKeysRotateNewPayloadsUnderTheFirstOldOnesStillOpen(t *testing.T) {
	oldLine, err := codec.NewKeyLine("2026-01")
	require.NoError(t, err)
	newLine, err := codec.NewKeyLine("2026-07")
	require.NoError(t, err)
	old, err := codec.ParseKeys(oldLine)
	require.NoError(t, err)
	rotated, err := codec.ParseKeys(newLine + "\n" + oldLine)
	require.NoError(t, err)
	assert.Equal(t, "2026-07", rotated.SealingKey())
	assert.Equal(t, []string{"2026-07", "2026-01"}, rotated.IDs())

	p, err := codec.New(old).DataConverter().ToPayload("before the rotation")
	require.NoError(t, err)
	var s string
	require.NoError(t, codec.New(rotated).DataConverter().FromPayload(p, &s))
	assert.Equal(t, "before the rotation", s)

	q, err := codec.New(rotated).DataConverter().ToPayload("after")
	require.NoError(t, err)
	assert.Equal(t, "2026-07", string(q.Metadata[codec.MetadataKeyID]))
	err = codec.New(old).DataConverter().FromPayload(q, &s)
	assert.ErrorIs(t, err, codec.ErrUnknownKey, "a process without the new key cannot open it")
}

func TestATamperedPayloadOrAnotherKeysNameDoesNotOpen(t *testing.T) {
	r := ring(t, "a", "b")
	c := codec.New(r)
	sealed, err := c.Encode([]*commonpb.Payload{{Data: []byte("secret")}})
	require.NoError(t, err)

	flipped := &commonpb.Payload{Metadata: sealed[0].Metadata, Data: append([]byte(nil), sealed[0].Data...)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	assert.Error(t, err)

	renamed := &commonpb.Payload{Metadata: map[string][]byte{}, Data: sealed[0].Data}
	for k, v := range sealed[0].Metadata {
		renamed.Metadata[k] = v
	}
	renamed.Metadata[codec.MetadataKeyID] = []byte("b")
	_, err = c.Decode([]*commonpb.Payload{renamed})
	assert.Error(t, err, "the key id is the additional data")
}

func TestAPayloadThatWasNeverSealedPassesThrough(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload("from before the codec")
	require.NoError(t, err)
	var s string
	require.NoError(t, codec.New(ring(t, "k")).DataConverter().FromPayload(plain, &s))
	assert.Equal(t, "from before the codec", s)
}

func TestSealAllAndOpenAllWalkAWholeHistory(t *testing.T) {
	c := codec.New(ring(t, "k"))
	input, err := converter.GetDefaultDataConverter().ToPayloads("ada@example.com")
	require.NoError(t, err)
	hist := &historypb.History{Events: []*historypb.HistoryEvent{{
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: input},
		},
	}}}
	ctx := context.Background()
	require.NoError(t, c.SealAll(ctx, hist))
	sealed := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	assert.False(t, bytes.Contains(sealed.Data, []byte("ada@")))
	require.NoError(t, c.OpenAll(ctx, hist))
	assert.Contains(t, string(hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0].Data), "ada@example.com")
}

func TestParseKeysRefusesWhatCannotBeAKey(t *testing.T) {
	for name, text := range map[string]string{
		"empty":     "",
		"no id":     "c2VjcmV0",
		"short key": "k:c2VjcmV0",
		"not b64":   "k:!!!",
		"bad id":    "k y:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	} {
		_, err := codec.ParseKeys(text)
		assert.Error(t, err, name)
	}
	line, err := codec.NewKeyLine("k")
	require.NoError(t, err)
	_, err = codec.ParseKeys(line + "\n" + line)
	assert.ErrorContains(t, err, "twice")

	other, err := codec.NewKeyLine("j")
	require.NoError(t, err)
	r, err := codec.ParseKeys("# a comment, with a comma\n" + other + ", " + line + "\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"j", "k"}, r.IDs(), "comments skipped, commas separate entries")
}
