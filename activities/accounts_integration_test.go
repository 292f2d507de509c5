//go:build integration

package activities

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/accounts"
	"handoff/stacktest"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
)

func TestIdentityCheckRecordIsStoredWithItsChecksumAndLockedWhenRetained(t *testing.T) {
	ctx := stacktest.Context(t)
	cfg := stacktest.Config(t)
	c3 := stacktest.S3(t)
	a := NewAccounts(accounts.NewPostgres(stacktest.Store(t).Pool()), c3, cfg.S3.Bucket, time.Hour, cases.Opener{})
	caseID := "C-CHECK-" + time.Now().UTC().Format("150405.000000000")
	rec := accountflows.CheckRecord{CaseID: caseID, Name: "identity-check-1", Recorded: time.Now(),
		Facts: map[string]string{"registered_email": "ada@example.com"}}

	plain, err := a.RecordIdentityCheck(ctx, rec)
	require.NoError(t, err)
	again, err := a.RecordIdentityCheck(ctx, rec)
	require.NoError(t, err)
	assert.Equal(t, plain, again, "a retried record names the same object")
	obj, err := c3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(plain.Key)})
	require.NoError(t, err)
	body, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	var stored struct {
		Facts map[string]string `json:"facts"`
	}
	require.NoError(t, json.Unmarshal(body, &stored))
	assert.Equal(t, "ada@example.com", stored.Facts["registered_email"])
	tags, err := c3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(plain.Key)})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "sha256", aws.ToString(tags.TagSet[0].Key))
	assert.Equal(t, plain.SHA256, aws.ToString(tags.TagSet[0].Value))
	assert.False(t, plain.Retained)

	rec.Name, rec.Retain = "identity-check-2", true
	locked, err := a.RecordIdentityCheck(ctx, rec)
	require.NoError(t, err)
	assert.True(t, locked.Retained)
	head, err := c3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(locked.Key)})
	require.NoError(t, err)
	_, err = c3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(locked.Key), VersionId: head.VersionId})
	assert.Error(t, err, "a retained record cannot be deleted early")
}
