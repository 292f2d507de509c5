//go:build integration

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// evidenceAPI starts a second API on the stack's task queue whose evidence
// settings are changed by edit (a retention of one day, so test files do
// not stay locked for a year), and answers its base URL.
// pngHeader is the start of every PNG file (the integration tests upload it).
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

func (s *caseStack) evidenceAPI(t *testing.T, edit func(*config.Evidence)) string {
	t.Helper()
	cfg := s.cfg
	cfg.Evidence.RetentionDays = 1
	if edit != nil {
		edit(&cfg.Evidence)
	}
	return startAPI(t, cfg)
}

// upload is one multipart upload: the fields, then the file streamed from
// body with the part's Content-Type the client claims.
type upload struct {
	kind, note string
	claimed    string
	body       io.Reader
	// sized sends the request with its Content-Length, as most clients
	// do; without it the request is chunked and its length unknown.
	sized bool
}

// sendUpload streams u to POST /v1/cases/{id}/evidence at base as role,
// through a pipe: the file is never held by the client either, unless
// u.sized asks for a Content-Length.
func (s *caseStack) sendUpload(t *testing.T, base string, role store.Role, caseID string, u upload) reply {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if u.kind != "" {
				if err := mw.WriteField("kind", u.kind); err != nil {
					return err
				}
			}
			if u.note != "" {
				if err := mw.WriteField("note", u.note); err != nil {
					return err
				}
			}
			if u.body != nil {
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", `form-data; name="file"; filename="../../etc/passwd"`)
				h.Set("Content-Type", u.claimed)
				part, err := mw.CreatePart(h)
				if err != nil {
					return err
				}
				if _, err := io.Copy(part, u.body); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	var body io.Reader = pr
	if u.sized {
		form, err := io.ReadAll(pr)
		require.NoError(t, err)
		body = bytes.NewReader(form)
	}
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodPost, base+"/v1/cases/"+caseID+"/evidence", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.keys[role].Secret)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func evidenceOf(t *testing.T, r reply, status int) evidenceBody {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	var out evidenceBody
	require.NoError(t, json.Unmarshal(r.Body, &out))
	return out
}

// pngBytes answers n bytes that sniff as PNG.
func pngBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	copy(b, pngHeader)
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// download asks for evidence id's URL as role, retrying while the read
// model has not caught up with the upload yet.
func (s *caseStack) download(t *testing.T, role store.Role, id string) downloadBody {
	t.Helper()
	var out downloadBody
	require.Eventually(t, func() bool {
		r := s.as(t, role, http.MethodGet, "/v1/evidence/"+id, nil)
		if r.Status == http.StatusNotFound {
			return false
		}
		require.Equal(t, http.StatusOK, r.Status, "%s", r)
		require.NoError(t, json.Unmarshal(r.Body, &out))
		return true
	}, 20*time.Second, 100*time.Millisecond, "evidence %s never reached the read model", id)
	return out
}

// fetch GETs a presigned URL and answers the body's SHA-256.
func fetch(t *testing.T, url string) (string, int64) {
	t.Helper()
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil)), n
}

// versions lists every version of the objects under prefix.
func versions(t *testing.T, c *s3.Client, bucket, prefix string) []s3types.ObjectVersion {
	t.Helper()
	out, err := c.ListObjectVersions(stacktest.Context(t), &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &prefix})
	require.NoError(t, err)
	return out.Versions
}

func TestEvidenceUploadAndDownloadKeepTheBytesAndTheirChecksum(t *testing.T) {
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c3 := stacktest.S3(t)
	bucket := s.cfg.S3.Bucket
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	file := pngBytes(t, 300_000)

	got := evidenceOf(t, s.sendUpload(t, base, store.RoleIntegration, c.ID,
		upload{kind: "delivery_screenshot", note: "the code screen", claimed: "text/plain", body: bytes.NewReader(file), sized: true}), http.StatusCreated)
	e := got.Evidence
	assert.False(t, got.Duplicate)
	assert.Equal(t, "image/png", e.ContentType, "the type is sniffed, not taken from the client")
	assert.Equal(t, sha256Hex(file), e.SHA256)
	assert.Equal(t, int64(len(file)), e.Size)
	assert.Equal(t, "cases/"+c.ID+"/"+e.ID, e.Key, "never the client's file name")
	assert.Equal(t, "delivery_screenshot", e.Kind)
	assert.Equal(t, "the code screen", e.Note)
	assert.False(t, e.Retained, "a login failure's evidence is not locked")
	assert.Equal(t, s.actor(store.RoleIntegration), e.UploadedBy)

	head, err := c3.HeadObject(stacktest.Context(t), &s3.HeadObjectInput{Bucket: &bucket, Key: &e.Key})
	require.NoError(t, err)
	assert.Equal(t, s3types.ServerSideEncryptionAes256, head.ServerSideEncryption)
	assert.Equal(t, "image/png", aws.ToString(head.ContentType))
	assert.Equal(t, map[string]string{"case-id": c.ID, "evidence-id": e.ID, "kind": "delivery_screenshot",
		"uploaded-by": s.actor(store.RoleIntegration)}, head.Metadata)
	tags, err := c3.GetObjectTagging(stacktest.Context(t), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &e.Key})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "sha256", aws.ToString(tags.TagSet[0].Key))
	assert.Equal(t, e.SHA256, aws.ToString(tags.TagSet[0].Value), "the checksum is the object's tag")
	assert.Len(t, versions(t, c3, bucket, e.Key), 1, "one version per file")

	listed := s.as(t, store.RoleAgent, http.MethodGet, "/v1/cases/"+c.ID+"/evidence", nil)
	require.Equal(t, http.StatusOK, listed.Status, "%s", listed)
	var list evidenceListOutput
	require.NoError(t, json.Unmarshal(listed.Body, &list.Body))
	require.Len(t, list.Body.Evidence, 1)
	assert.Equal(t, e, list.Body.Evidence[0])

	dl := s.download(t, store.RoleAgent, e.ID)
	assert.Equal(t, e, dl.Evidence)
	assert.Equal(t, c.ID, dl.CaseID)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), dl.ExpiresAt, 10*time.Second)
	sum, n := fetch(t, dl.URL)
	assert.Equal(t, e.SHA256, sum, "the downloaded bytes are the uploaded ones")
	assert.Equal(t, int64(len(file)), n)

	var fetched []vocab.Event
	for _, ev := range s.timeline(t, c.ID) {
		if ev.Kind == cases.EventEvidenceFetched {
			fetched = append(fetched, ev)
		}
	}
	require.Len(t, fetched, 1, "the download is on the timeline")
	assert.Equal(t, s.actor(store.RoleAgent), fetched[0].Actor)
	assert.Equal(t, e.ID, fetched[0].Payload["evidence_id"])

	// ?redirect=true answers 302 to the URL.
	sum, _ = fetch(t, s.redirected(t, store.RoleAdmin, "/v1/evidence/"+e.ID+"?redirect=true"))
	assert.Equal(t, e.SHA256, sum)

	// The integration may upload but not read evidence back.
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodGet, "/v1/evidence/"+e.ID, nil), http.StatusForbidden)

	// Not retained: the version can be deleted.
	vs := versions(t, c3, bucket, e.Key)
	require.Len(t, vs, 1)
	_, err = c3.DeleteObject(stacktest.Context(t), &s3.DeleteObjectInput{Bucket: &bucket, Key: &e.Key, VersionId: vs[0].VersionId})
	require.NoError(t, err, "a file that is not retained can be deleted")
}

func TestDisputeEvidenceIsRetainedAndCannotBeDeleted(t *testing.T) {
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c3 := stacktest.S3(t)
	bucket := s.cfg.S3.Bucket
	body := newCaseBody(vocab.CategoryDispute)
	body.OrderID = "ord-" + unique()
	c := s.open(t, store.RoleIntegration, body)

	e := evidenceOf(t, s.sendUpload(t, base, store.RoleTrustSafety, c.ID,
		upload{kind: "dispute_document", claimed: "application/pdf", body: bytes.NewReader([]byte("%PDF-1.7\n" + unique()))}),
		http.StatusCreated).Evidence
	assert.True(t, e.Retained)
	assert.Equal(t, "application/pdf", e.ContentType)

	vs := versions(t, c3, bucket, e.Key)
	require.Len(t, vs, 1)
	ret, err := c3.GetObjectRetention(stacktest.Context(t), &s3.GetObjectRetentionInput{Bucket: &bucket, Key: &e.Key, VersionId: vs[0].VersionId})
	require.NoError(t, err)
	assert.Equal(t, s3types.ObjectLockRetentionModeGovernance, ret.Retention.Mode)
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), aws.ToTime(ret.Retention.RetainUntilDate), time.Minute)

	_, err = c3.DeleteObject(stacktest.Context(t), &s3.DeleteObjectInput{Bucket: &bucket, Key: &e.Key, VersionId: vs[0].VersionId})
	require.Error(t, err, "a retained version cannot be deleted")
	t.Logf("delete of a retained version: %v", err)
	_, err = c3.PutObjectRetention(stacktest.Context(t), &s3.PutObjectRetentionInput{Bucket: &bucket, Key: &e.Key, VersionId: vs[0].VersionId,
		Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Hour))}})
	require.Error(t, err, "the retention cannot be shortened without bypassing governance")
}

func TestSameBytesTwiceAreStoredAndRecordedOnce(t *testing.T) {
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c3 := stacktest.S3(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryOrderIssue))
	file := pngBytes(t, 50_000)

	first := evidenceOf(t, s.sendUpload(t, base, store.RoleIntegration, c.ID, upload{claimed: "image/png", body: bytes.NewReader(file)}), http.StatusCreated)
	assert.Equal(t, "other", first.Evidence.Kind, "the default kind")
	again := evidenceOf(t, s.sendUpload(t, base, store.RoleAgent, c.ID, upload{kind: "support_message", claimed: "image/png", body: bytes.NewReader(file)}), http.StatusOK)
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.Evidence, again.Evidence, "the first record is answered")

	added := 0
	for _, ev := range s.timeline(t, c.ID) {
		if ev.Kind == cases.EventEvidenceAdded {
			added++
		}
	}
	assert.Equal(t, 1, added, "one timeline event")
	prefix := "cases/" + c.ID + "/"
	objs, err := c3.ListObjectsV2(stacktest.Context(t), &s3.ListObjectsV2Input{Bucket: &s.cfg.S3.Bucket, Prefix: &prefix})
	require.NoError(t, err)
	require.Len(t, objs.Contents, 1, "one object under %s", prefix)
	assert.Equal(t, first.Evidence.Key, aws.ToString(objs.Contents[0].Key))
	assert.Len(t, versions(t, c3, s.cfg.S3.Bucket, prefix), 1, "the duplicate left no version behind")
}

func TestRefusedUploadsAreProblemsAndStoreNothing(t *testing.T) {
	s := newCaseStack(t)
	small := s.evidenceAPI(t, func(e *config.Evidence) { e.MaxBytes = 64 << 10 })
	c3 := stacktest.S3(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))

	p := problemOf(t, s.sendUpload(t, small, store.RoleIntegration, c.ID,
		upload{claimed: "image/png", body: bytes.NewReader(append(elfHeader, make([]byte, 1000)...))}), http.StatusUnsupportedMediaType)
	assert.Contains(t, p.Detail, "application/octet-stream")
	problemOf(t, s.sendUpload(t, small, store.RoleIntegration, c.ID,
		upload{claimed: "image/png", body: bytes.NewReader(pngBytes(t, 200<<10))}), http.StatusRequestEntityTooLarge)
	p = problemOf(t, s.sendUpload(t, small, store.RoleIntegration, c.ID,
		upload{kind: "selfie", claimed: "image/png", body: bytes.NewReader(pngBytes(t, 100))}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"kind"}, fieldsOfProblem(p))
	p = problemOf(t, s.sendUpload(t, small, store.RoleIntegration, c.ID, upload{kind: "other"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"file"}, fieldsOfProblem(p))
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases/"+c.ID+"/evidence", map[string]string{"file": "x"}), http.StatusUnsupportedMediaType)
	problemOf(t, s.sendUpload(t, small, store.RoleIntegration, "C-NOPE"+unique(),
		upload{claimed: "image/png", body: bytes.NewReader(pngBytes(t, 100))}), http.StatusNotFound)
	problemOf(t, s.as(t, store.RoleAgent, http.MethodGet, "/v1/evidence/E-NOPE"+unique(), nil), http.StatusNotFound)

	prefix := "cases/" + c.ID + "/"
	assert.Empty(t, versions(t, c3, s.cfg.S3.Bucket, prefix), "a refused upload leaves nothing in S3")
	s.requireUnchanged(t, c)
}

func TestClosedCaseRefusesEvidenceButStillServesIt(t *testing.T) {
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	e := evidenceOf(t, s.sendUpload(t, base, store.RoleIntegration, c.ID,
		upload{claimed: "text/plain", body: strings.NewReader("the customer's confirmation " + unique())}), http.StatusCreated).Evidence
	s.act(t, store.RoleAgent, c.ID, "replies", map[string]string{"body": "Fixed"})
	s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "New code sent"})
	s.act(t, store.RoleIntegration, c.ID, "csat", map[string]int{"rating": 4})
	s.act(t, store.RoleAgent, c.ID, "close", nil)
	s.awaitCompleted(t, c.ID, 20*time.Second)

	problemOf(t, s.sendUpload(t, base, store.RoleIntegration, c.ID,
		upload{claimed: "text/plain", body: strings.NewReader("too late")}), http.StatusConflict)
	dl := s.download(t, store.RoleAdmin, e.ID)
	sum, _ := fetch(t, dl.URL)
	assert.Equal(t, e.SHA256, sum, "an ended case's files are still served")
	listed := s.as(t, store.RoleAgent, http.MethodGet, "/v1/cases/"+c.ID+"/evidence", nil)
	require.Equal(t, http.StatusOK, listed.Status, "%s", listed)
	assert.Contains(t, string(listed.Body), e.ID, "listed from the read model")
}

// generated yields n bytes that sniff as PNG, made on the fly, hashing
// them as they go.
type generated struct {
	left int64
	sent int64
	h    hash.Hash
}

func (g *generated) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		p[i] = byte((g.sent + int64(i)) * 2654435761 >> 13)
	}
	if g.sent == 0 {
		copy(p, pngHeader)
	}
	g.h.Write(p)
	g.left -= int64(len(p))
	g.sent += int64(len(p))
	return len(p), nil
}

func heapInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestLargeUploadStreamsWithAFlatHeap(t *testing.T) {
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	const size = 256 << 20

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if h := heapInuse(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	})
	gen := &generated{left: size, h: sha256.New()}
	start := time.Now()
	r := s.sendUpload(t, base, store.RoleIntegration, c.ID, upload{claimed: "application/octet-stream", body: gen})
	took := time.Since(start)
	close(stop)
	wg.Wait()
	e := evidenceOf(t, r, http.StatusCreated).Evidence
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	assert.Equal(t, int64(size), e.Size)
	assert.Equal(t, hex.EncodeToString(gen.h.Sum(nil)), e.SHA256)
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	t.Logf("256 MiB upload in %s: HeapInuse before %.1f MiB, peak %.1f MiB, after GC %.1f MiB; Sys before %.1f MiB, after %.1f MiB",
		took, mib(before.HeapInuse), mib(peak.Load()), mib(after.HeapInuse), mib(before.Sys), mib(after.Sys))
	assert.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(64<<20), "heap growth after the upload")
	assert.Less(t, int64(peak.Load())-int64(before.HeapInuse), int64(128<<20), "the file is never held in memory")

	bucket := s.cfg.S3.Bucket
	tags, err := stacktest.S3(t).GetObjectTagging(stacktest.Context(t), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &e.Key})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, e.SHA256, aws.ToString(tags.TagSet[0].Value), "a streamed file is tagged with its checksum once it has ended")

	dl := s.download(t, store.RoleAgent, e.ID)
	sum, n := fetch(t, dl.URL)
	assert.Equal(t, e.SHA256, sum)
	assert.Equal(t, int64(size), n)
	s.deleteAtEnd(t, e.Key)
}

// deleteAtEnd removes an unretained test object when t ends, so large
// test files do not pile up in the local MinIO.
func (s *caseStack) deleteAtEnd(t *testing.T, key string) {
	c3 := stacktest.S3(t)
	bucket := s.cfg.S3.Bucket
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := c3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &key})
		if err != nil {
			return
		}
		for _, v := range out.Versions {
			_, _ = c3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
		}
	})
}
