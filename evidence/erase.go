package evidence

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Erasure is what Erase did to one key: how many versions (and delete
// markers) it deleted, and until when Object Lock still keeps the versions
// it could not (zero when none is kept).
type Erasure struct {
	Deleted     int
	RetainUntil time.Time
}

// Erase deletes every version of the object under key, so no old version
// keeps the bytes (in a versioned bucket a plain delete only hides them),
// except versions Object Lock retains: those stay, and RetainUntil says
// until when. A key with no versions left is erased already.
func (s *Store) Erase(ctx context.Context, key string) (Erasure, error) {
	var out Erasure
	pager := s3.NewListObjectVersionsPaginator(s.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(key)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("list versions of %s: %w", key, err)
		}
		var ids []string
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				ids = append(ids, aws.ToString(v.VersionId))
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				ids = append(ids, aws.ToString(m.VersionId))
			}
		}
		for _, id := range ids {
			until, err := s.retainedUntil(ctx, key, id)
			if err != nil {
				return out, err
			}
			if until.After(time.Now()) {
				if until.After(out.RetainUntil) {
					out.RetainUntil = until
				}
				continue
			}
			if _, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
				VersionId: aws.String(id)}); err != nil {
				return out, fmt.Errorf("delete %s version %s: %w", key, id, err)
			}
			out.Deleted++
		}
	}
	return out, nil
}

// retainedUntil answers until when Object Lock keeps one version (zero
// when it does not, or for a delete marker).
func (s *Store) retainedUntil(ctx context.Context, key, versionID string) (time.Time, error) {
	out, err := s.s3.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
		VersionId: aws.String(versionID)})
	if err != nil {
		// No retention configured on the version (or a delete marker): S3
		// answers an error rather than an empty retention.
		var hold time.Time
		if lh, lerr := s.s3.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
			VersionId: aws.String(versionID)}); lerr == nil && lh.LegalHold != nil && lh.LegalHold.Status == s3types.ObjectLockLegalHoldStatusOn {
			hold = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) // a legal hold has no end until it is lifted
		}
		return hold, nil
	}
	if out.Retention == nil || out.Retention.RetainUntilDate == nil {
		return time.Time{}, nil
	}
	return aws.ToTime(out.Retention.RetainUntilDate), nil
}
