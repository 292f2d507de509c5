package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"handoff/config"
)

// minioConsoleAddr is the MinIO console's fixed local address.
const minioConsoleAddr = "127.0.0.1:9001"

// minioKMSKeyName names the single static key MinIO encrypts objects with
// (SSE-S3); the key itself is generated once and kept under .dev.
const minioKMSKeyName = "handoff-key"

// minioPart is the S3 evidence store: MinIO serving a folder under .dev,
// with a bucket made with Object Lock so evidence can be retained.
type minioPart struct {
	cfg    config.S3
	layout layout
}

func (m *minioPart) info() partInfo { return minioInfo }

// host answers S3_ENDPOINT's host:port.
func (m *minioPart) host() string {
	u, err := url.Parse(m.cfg.Endpoint)
	if err != nil {
		return m.cfg.Endpoint
	}
	if u.Port() == "" {
		if u.Scheme == "https" {
			return u.Host + ":443"
		}
		return u.Host + ":80"
	}
	return u.Host
}

func (m *minioPart) address() string { return m.host() }

func (m *minioPart) probe(ctx context.Context) error {
	return httpOK(ctx, strings.TrimSuffix(m.cfg.Endpoint, "/")+"/minio/health/live")
}

func (m *minioPart) ready(ctx context.Context) error { return m.probe(ctx) }

func (m *minioPart) startable() error {
	if strings.HasPrefix(m.cfg.Endpoint, "https:") {
		return fmt.Errorf("S3_ENDPOINT %s uses https, so no MinIO is started here", m.cfg.Endpoint)
	}
	if err := requireLoopback(m.host()); err != nil {
		return fmt.Errorf("S3_ENDPOINT: %w", err)
	}
	if m.cfg.AccessKeyID == "" {
		return errors.New("a local MinIO needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY as its root user and password")
	}
	if len(m.cfg.AccessKeyID) < 3 || len(m.cfg.SecretAccessKey) < 8 {
		return errors.New("MinIO needs S3_ACCESS_KEY_ID of at least 3 characters and S3_SECRET_ACCESS_KEY of at least 8")
	}
	return nil
}

func (m *minioPart) start(_ context.Context, l launcher) (*child, error) {
	bin := m.layout.bin("minio")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make tools`", m.layout.rel(bin))
	}
	data := m.layout.dev("minio", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, fmt.Errorf("create state folder: %w", err)
	}
	kms, err := m.kmsKey()
	if err != nil {
		return nil, err
	}
	return l.start(command{
		part: minioInfo,
		path: bin,
		args: []string{
			"server", data,
			"--address", m.host(),
			"--console-address", minioConsoleAddr,
			// Else MinIO makes ~/.minio/certs; keep everything under .dev.
			"--certs-dir", m.layout.dev("minio", "certs"),
		},
		env: []string{
			"MINIO_ROOT_USER=" + m.cfg.AccessKeyID,
			"MINIO_ROOT_PASSWORD=" + m.cfg.SecretAccessKey,
			"MINIO_KMS_SECRET_KEY=" + kms,
		},
	})
}

// kmsKey answers MINIO_KMS_SECRET_KEY, generated on first use and kept, as
// objects encrypted with a lost key cannot be read again.
func (m *minioPart) kmsKey() (string, error) {
	path := m.layout.dev("minio", "kms-key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read MinIO KMS key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate MinIO KMS key: %w", err)
	}
	key := minioKMSKeyName + ":" + base64.StdEncoding.EncodeToString(raw)
	// O_EXCL: never overwrite a key that data may already depend on.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write MinIO KMS key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write MinIO KMS key: %w", err)
	}
	return key, f.Close()
}

// setup creates the evidence bucket with Object Lock (which also turns on
// versioning) when it does not exist; an existing bucket is left as it is.
// A just-started MinIO may refuse requests for a moment, so it retries.
func (m *minioPart) setup(ctx context.Context) error {
	client, err := m.cfg.NewClient(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err = m.ensureBucket(ctx, client)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bucket %s: %w", m.cfg.Bucket, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (m *minioPart) ensureBucket(ctx context.Context, client *s3.Client) error {
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(m.cfg.Bucket)})
	if err == nil {
		return nil
	}
	var notFound *types.NotFound
	var apiErr smithy.APIError
	if !errors.As(err, &notFound) && !(errors.As(err, &apiErr) && apiErr.ErrorCode() == "NotFound") {
		return fmt.Errorf("head bucket: %w", err)
	}
	in := &s3.CreateBucketInput{
		Bucket:                     aws.String(m.cfg.Bucket),
		ObjectLockEnabledForBucket: aws.Bool(true),
	}
	if m.cfg.Region != "" && m.cfg.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(m.cfg.Region),
		}
	}
	_, err = client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket: %w", err)
	}
	return nil
}

func (m *minioPart) endpoints() [][2]string {
	e := [][2]string{{"MinIO API", m.cfg.Endpoint + " (bucket " + m.cfg.Bucket + ")"}}
	if isLoopback(hostOnly(m.host())) {
		e = append(e, [2]string{"MinIO console", fmt.Sprintf("http://%s (user %s, password %s)",
			minioConsoleAddr, m.cfg.AccessKeyID, m.cfg.SecretAccessKey)})
	}
	return e
}
