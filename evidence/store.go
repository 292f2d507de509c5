package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"handoff/config"
)

// partSize is the upload manager's part size (S3's smallest), and the
// largest request whose file is stored in one PutObject.
const partSize = 5 << 20

// ErrTooLarge is answered (wrapped) by Put for a file over the store's
// size limit; nothing of it is left in S3.
var ErrTooLarge = errors.New("the file is larger than allowed")

// ErrEmpty is answered (wrapped) by Put for a file with no bytes.
var ErrEmpty = errors.New("the file is empty")

// UnsupportedTypeError is answered (wrapped) by Put for a file whose
// sniffed type is not one the store accepts.
type UnsupportedTypeError struct {
	// Type is the type sniffed from the file's first bytes.
	Type string
	// Allowed are the types the store accepts.
	Allowed []string
}

// Error names the refused type and the allowed ones.
func (e *UnsupportedTypeError) Error() string {
	return "a file of type " + e.Type + " is not accepted; allowed: " + strings.Join(e.Allowed, ", ")
}

// ReadError is answered (wrapped) by Put when the file's own stream fails
// before it is stored: the sender's fault, unlike a failing S3.
type ReadError struct {
	// Err is the stream's error.
	Err error
}

// Error says the file could not be read, and why.
func (e *ReadError) Error() string { return "read the file: " + e.Err.Error() }

// Unwrap answers the stream's error.
func (e *ReadError) Unwrap() error { return e.Err }

// Object is a stored evidence object, checksummed.
type Object struct {
	// Key is the object's key (see Key).
	Key string
	// VersionID is the version S3 gave the bytes; empty on an unversioned bucket.
	VersionID string
	// SHA256 is the bytes' SHA-256 in lowercase hex, also in the ChecksumTag tag.
	SHA256 string
	// Size is the number of bytes stored.
	Size int64
	// ContentType is the object's Content-Type.
	ContentType string
}

// Store keeps evidence files in one S3 bucket: encrypted at rest, tagged
// with their SHA-256, and locked by Object Lock when their case asks.
type Store struct {
	s3       *s3.Client
	uploader *transfermanager.Client
	presign  *s3.PresignClient
	bucket   string
	// maxBytes and types bound what Put accepts from a client.
	maxBytes int64
	types    []string
	// retention is how long Object Lock keeps a retained object.
	retention time.Duration
	// linkTTL is how long a download URL works (EVIDENCE_LINK_TTL).
	linkTTL time.Duration
}

// NewStore answers a Store of bucket through c, accepting the files cfg
// allows, retaining them for cfg.RetentionDays and presigning their
// download links for cfg.LinkTTL.
func NewStore(c *s3.Client, bucket string, cfg config.Evidence) *Store {
	return &Store{
		s3: c,
		// Parts of 5 MiB (S3's smallest), two in flight: an upload holds about three part
		// buffers in memory whatever the file's size.
		uploader: transfermanager.New(c, func(o *transfermanager.Options) {
			o.PartSizeBytes = partSize
			o.Concurrency = 2
		}),
		presign:   s3.NewPresignClient(c),
		bucket:    bucket,
		maxBytes:  cfg.MaxBytes,
		types:     cfg.ContentTypes,
		retention: time.Duration(cfg.RetentionDays) * 24 * time.Hour,
		linkTTL:   cfg.LinkTTL,
	}
}

// LinkTTL is how long the download links of the files should work
// (config.Evidence.LinkTTL, checked by config to be 10s to 1h); zero when
// the Store was made from a configuration that did not say.
func (s *Store) LinkTTL() time.Duration { return s.linkTTL }

// MaxBytes is the largest file Put accepts.
func (s *Store) MaxBytes() int64 { return s.maxBytes }

// Put streams a client's file r to S3 under key through the upload
// manager, refusing it (ErrTooLarge, ErrEmpty, *UnsupportedTypeError,
// *ReadError) once its size or sniffed type shows it is not allowed, and
// answers it with its SHA-256. meta becomes the object's x-amz-meta-*.
// sizeHint is the request's length, -1 when unknown: a request no larger
// than one part holds a file that goes in one PutObject (PutBytes).
//
// The checksum is only known once the stream has ended, after the upload
// has begun (S3's own SHA-256 of a multipart upload is a checksum of part
// checksums, not the file's), so it is stored as the object's ChecksumTag
// tag, which can be set afterwards without rewriting the bytes.
func (s *Store) Put(ctx context.Context, key string, meta map[string]string, r io.Reader, sizeHint int64) (Object, error) {
	capped := &capReader{r: r, limit: s.maxBytes}
	contentType, body, err := sniff(capped)
	switch {
	case capped.over:
		return Object{}, fmt.Errorf("put %s: %w", key, ErrTooLarge)
	case errors.Is(err, io.EOF):
		return Object{}, fmt.Errorf("put %s: %w", key, ErrEmpty)
	case err != nil:
		return Object{}, fmt.Errorf("put %s: %w", key, &ReadError{Err: err})
	case !typeAllowed(contentType, s.types):
		return Object{}, fmt.Errorf("put %s: %w", key, &UnsupportedTypeError{Type: contentType, Allowed: s.types})
	}
	if 0 <= sizeHint && sizeHint <= partSize {
		return s.putWhole(ctx, key, meta, body, capped, contentType, sizeHint)
	}
	h := sha256.New()
	up, err := s.uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: io.TeeReader(body, h),
		ContentType: aws.String(contentType), Metadata: meta,
		ServerSideEncryption: tmtypes.ServerSideEncryptionAes256,
	})
	if capped.over {
		// The manager aborts a multipart upload whose body fails; a single
		// PutObject was never sent.
		return Object{}, fmt.Errorf("put %s: %w", key, ErrTooLarge)
	}
	if err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", key, err)
	}
	obj := Object{Key: key, VersionID: aws.ToString(up.VersionID), SHA256: hex.EncodeToString(h.Sum(nil)),
		Size: capped.n, ContentType: contentType}
	_, err = s.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), VersionId: up.VersionID,
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(ChecksumTag), Value: aws.String(obj.SHA256)}}},
	})
	if err != nil {
		// An untagged object has no checksum to be checked against: it goes.
		s.Remove(ctx, key, obj.VersionID)
		return Object{}, fmt.Errorf("tag %s with its checksum: %w", key, err)
	}
	return obj, nil
}

// putWhole reads a small file whole and stores it with PutBytes: one
// request where a streamed upload makes two (the upload, then the tag),
// and no larger a buffer than the manager's part would be.
func (s *Store) putWhole(ctx context.Context, key string, meta map[string]string, body io.Reader, capped *capReader, contentType string, sizeHint int64) (Object, error) {
	buf := bytes.NewBuffer(make([]byte, 0, sizeHint+bytes.MinRead))
	_, err := buf.ReadFrom(body)
	switch {
	case capped.over:
		return Object{}, fmt.Errorf("put %s: %w", key, ErrTooLarge)
	case err != nil:
		return Object{}, fmt.Errorf("put %s: %w", key, &ReadError{Err: err})
	}
	return s.PutBytes(ctx, key, meta, contentType, buf.Bytes(), false)
}

// PutBytes stores body under key in one PutObject that carries its
// checksum tag, and its SHA-256 for S3 to check the bytes against, with
// server-side encryption; meta becomes the object's x-amz-meta-*. With
// retain the same request locks the version in governance mode for the
// retention period, so no version of it is ever unlocked, even briefly.
// Unlike Put it trusts its caller: neither size nor type is checked.
func (s *Store) PutBytes(ctx context.Context, key string, meta map[string]string, contentType string, body []byte, retain bool) (Object, error) {
	sum := sha256.Sum256(body)
	obj := Object{Key: key, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body)), ContentType: contentType}
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(obj.Size), ContentType: aws.String(contentType), Metadata: meta,
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
		ChecksumSHA256:       aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Tagging:              aws.String(ChecksumTagging(obj.SHA256)),
	}
	if retain {
		in.ObjectLockMode = s3types.ObjectLockModeGovernance
		in.ObjectLockRetainUntilDate = aws.Time(s.retainUntil())
	}
	out, err := s.s3.PutObject(ctx, in)
	if err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", key, err)
	}
	obj.VersionID = aws.ToString(out.VersionId)
	return obj, nil
}

// Remove deletes one version of an object (the current one when versionID
// is empty), even when the request that stored it was cancelled. It is a
// clean-up after a refusal or a duplicate: a failure only leaves an object
// no case records, so it is not reported.
func (s *Store) Remove(ctx context.Context, key, versionID string) {
	in := &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = s.s3.DeleteObject(ctx, in)
}

// Retain locks an object version (the current one when versionID is
// empty) in governance mode for the retention period. Uploads are locked
// after they are stored, once their case has recorded them: a duplicate is
// deleted again instead.
func (s *Store) Retain(ctx context.Context, key, versionID string) error {
	in := &s3.PutObjectRetentionInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		Retention: &s3types.ObjectLockRetention{
			Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(s.retainUntil()),
		},
	}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if _, err := s.s3.PutObjectRetention(ctx, in); err != nil {
		return fmt.Errorf("retain %s: %w", key, err)
	}
	return nil
}

// retainUntil is when a version locked now may change again.
func (s *Store) retainUntil() time.Time { return time.Now().Add(s.retention) }

// DownloadURL answers a presigned GET URL of the object under key that
// works for ttl, so the bytes go from S3 to the client, not through us.
func (s *Store) DownloadURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}
