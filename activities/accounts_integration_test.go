//go:build integration

package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/accounts"
	"handoff/evidence"
	"handoff/stacktest"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

func TestIdentityCheckRecordIsStoredWithItsChecksumAndLockedWhenRetained(t *testing.T) {
	ctx := stacktest.Context(t)
	cfg := stacktest.Config(t)
	c3 := stacktest.S3(t)
	// A day's lock (the store counts retention in days), so the records the
	// test leaves behind are not kept for the configured year.
	ev := cfg.Evidence
	ev.RetentionDays = 1
	a := NewAccounts(accounts.NewPostgres(stacktest.Store(t).Pool()), evidence.NewStore(c3, cfg.S3.Bucket, ev), cases.Opener{})
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
	assert.Equal(t, evidence.Key(caseID, plain.ID), plain.Key, "records and uploads share the key layout")
	assert.Regexp(t, `^E-[0-9A-F]{20}$`, plain.ID)
	assert.Equal(t, "login_note", plain.Kind)
	assert.Equal(t, "application/json", plain.ContentType)
	assert.Equal(t, int64(len(body)), plain.Size)
	sum := sha256.Sum256(body)
	assert.Equal(t, hex.EncodeToString(sum[:]), plain.SHA256)
	plainHead, err := c3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(plain.Key)})
	require.NoError(t, err)
	assert.Equal(t, "application/json", aws.ToString(plainHead.ContentType))
	assert.Equal(t, s3types.ServerSideEncryptionAes256, plainHead.ServerSideEncryption)
	assert.Equal(t, map[string]string{"case-id": caseID, "evidence-id": plain.ID, "kind": "login_note",
		"uploaded-by": vocab.SystemActor}, plainHead.Metadata)
	assert.Empty(t, plainHead.ObjectLockMode, "a record of a case that retains nothing is not locked")

	rec.Name, rec.Retain = "identity-check-2", true
	locked, err := a.RecordIdentityCheck(ctx, rec)
	require.NoError(t, err)
	assert.True(t, locked.Retained)
	head, err := c3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(locked.Key)})
	require.NoError(t, err)
	assert.Equal(t, s3types.ObjectLockModeGovernance, head.ObjectLockMode)
	if assert.NotNil(t, head.ObjectLockRetainUntilDate) {
		assert.WithinDuration(t, time.Now().Add(24*time.Hour), *head.ObjectLockRetainUntilDate, time.Minute)
	}
	_, err = c3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(locked.Key), VersionId: head.VersionId})
	assert.Error(t, err, "a retained record cannot be deleted early")
}
