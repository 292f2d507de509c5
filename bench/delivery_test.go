package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/deliveries"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// startRequest reads a delivery body as the API hands it to the Starter;
// a field the workflow does not know is an error.
func startRequest(t *testing.T, body map[string]any) deliveries.StartRequest {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in deliveries.DeliveryInput
	require.NoError(t, dec.Decode(&in))
	return deliveries.StartRequest{
		ID: "D-bench", AccountID: in.AccountID, OrderID: in.OrderID, Buyer: in.Buyer, SellerID: in.SellerID,
		Product: in.Product, AllowedUse: in.AllowedUse, RecoveryPath: in.RecoveryPath, Region: in.Region,
		StartedBy: "bench",
	}
}

func TestDeliveryBodyStartsADeliveryUnderTheBenchPolicy(t *testing.T) {
	book, err := sla.Parse([]byte(standardPolicy()), "bench.yaml")
	require.NoError(t, err)
	policy := book.Deliveries()
	assert.Equal(t, sla.DefaultDeliveryPolicy.ConfirmationWindow, policy.ConfirmationWindow)
	assert.Equal(t, sla.DefaultDeliveryPolicy.Warranty, policy.Warranty)
	assert.Equal(t, sla.DefaultDeliveryPolicy.WarrantyNotice, policy.WarrantyNotice)

	body := deliveryBody()
	assert.NotContains(t, body, "warranty", "the policy's warranty applies")
	in, err := deliveries.NewInput(policy, startRequest(t, body), time.Now())
	require.NoError(t, err, "every handoff field the Starter checks is there")
	// No deadline of its own inside a lifecycle that lasts a second or so:
	// the reminder (half the window) and the warranty notice are hours away.
	assert.GreaterOrEqual(t, in.ConfirmationWindow/2, time.Hour)
	assert.GreaterOrEqual(t, in.Warranty-in.WarrantyNotice, time.Hour)

	other := startRequest(t, deliveryBody())
	assert.NotEqual(t, in.AccountID, other.AccountID, "each delivery has an account of its own")
	assert.NotEqual(t, in.OrderID, other.OrderID)
	assert.NotEqual(t, in.Buyer.ID, other.Buyer.ID)
}

func TestDeliveryStepsDeliverConfirmAndRetire(t *testing.T) {
	var actions []string
	for _, s := range deliverySteps {
		actions = append(actions, s.action)
	}
	assert.Equal(t, []string{"deliver", "confirm", "retire"}, actions)
	assert.Equal(t, map[string]string{"reason": "bench"}, deliverySteps[2].body)
}

func TestDeliveryScreenshotFormIsDeliveryEvidence(t *testing.T) {
	body, length, contentType, err := evidenceForm("shot.png", 3, deliveryScreenshotSize)
	require.NoError(t, err)
	raw, err := io.ReadAll(body)
	require.NoError(t, err)
	assert.Equal(t, int64(len(raw)), length)
	_, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])

	kind, err := mr.NextPart()
	require.NoError(t, err)
	require.Equal(t, "kind", kind.FormName())
	value, err := io.ReadAll(kind)
	require.NoError(t, err)
	assert.Equal(t, "delivery_screenshot", string(value), "the kind a delivery needs before it is delivered")
	assert.True(t, slices.Contains(vocab.EvidenceKinds, string(value)))

	file, err := mr.NextPart()
	require.NoError(t, err)
	assert.Equal(t, "file", file.FormName())
	assert.Equal(t, "shot.png", file.FileName())
	data, err := io.ReadAll(file)
	require.NoError(t, err)
	assert.Len(t, data, deliveryScreenshotSize)
	assert.Equal(t, "image/png", http.DetectContentType(data))
}
