package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"

	"handoff/config"
	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// presignTTL is how long a download URL works.
const presignTTL = 5 * time.Minute

// multipartSlack is what a multipart body may carry beyond the file itself
// (boundaries, part headers, kind and note) before its declared length
// alone is refused as too large.
const multipartSlack = 1 << 20

// Bounds on the small form fields.
const (
	maxKindBytes = 100
	maxNoteBytes = 2000
)

// evidenceFiles stores evidence bytes in S3.
type evidenceFiles struct {
	s3        *s3.Client
	uploader  *transfermanager.Client
	presign   *s3.PresignClient
	bucket    string
	maxBytes  int64
	types     []string
	retention time.Duration
}

func newEvidenceFiles(c *s3.Client, bucket string, cfg config.Evidence) *evidenceFiles {
	return &evidenceFiles{
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
	}
}

// evidenceKey names an evidence object; never after the client's file name.
func evidenceKey(caseID, evidenceID string) string {
	return "cases/" + caseID + "/" + evidenceID
}

func newEvidenceID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "E-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// errTooLarge is read from a capReader past its limit.
var errTooLarge = errors.New("the file is larger than allowed")

// capReader reads at most limit bytes from r and fails with errTooLarge on
// the first byte beyond, so a stream is refused without being held.
type capReader struct {
	r     io.Reader
	limit int64
	n     int64
	over  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errTooLarge
	}
	// Read one byte more than allowed, to tell "exactly the limit" from "over".
	if room := c.limit - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		c.over = true
		return n - int(c.n-c.limit), errTooLarge
	}
	return n, err
}

// sniff reads the first 512 bytes of r and answers the content type they
// show (http.DetectContentType) with a reader that still yields every byte.
func sniff(r io.Reader) (string, io.Reader, error) {
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", nil, err
	}
	if len(head) == 0 {
		return "", nil, io.EOF
	}
	return http.DetectContentType(head), br, nil
}

// typeAllowed reports whether a sniffed type is one of allowed: equal to an
// entry, or of the same media type when the entry has no parameters.
func typeAllowed(sniffed string, allowed []string) bool {
	mt, params, err := mime.ParseMediaType(sniffed)
	if err != nil {
		return false
	}
	got := mime.FormatMediaType(mt, params)
	for _, a := range allowed {
		if a == got || (!strings.Contains(a, ";") && a == mt) {
			return true
		}
	}
	return false
}

// storedObject is an uploaded evidence object, checksummed.
type storedObject struct {
	Key         string
	VersionID   string
	SHA256      string
	Size        int64
	ContentType string
}

// put streams r to S3 under key through the upload manager, refusing it
// (413, 415) once its size or sniffed type shows it is not allowed, and
// answers it with its SHA-256. meta becomes the object's x-amz-meta-*.
// sizeHint is the request's length, -1 when unknown: a request no larger
// than one part holds a file that goes in one PutObject (putWhole).
//
// The checksum is only known once the stream has ended, after the upload
// has begun (S3's own SHA-256 of a multipart upload is a checksum of part
// checksums, not the file's), so it is stored as the object's sha256 tag,
// which can be set afterwards without rewriting the bytes.
func (f *evidenceFiles) put(ctx context.Context, key string, meta map[string]string, r io.Reader, sizeHint int64) (storedObject, error) {
	capped := &capReader{r: r, limit: f.maxBytes}
	contentType, body, err := sniff(capped)
	switch {
	case capped.over:
		return storedObject{}, f.tooLarge()
	case errors.Is(err, io.EOF):
		return storedObject{}, newProblem(http.StatusUnprocessableEntity, "the file is empty",
			fieldProblem{Field: "file", Message: "is empty"})
	case err != nil:
		return storedObject{}, newProblem(http.StatusBadRequest, "the upload could not be read: "+err.Error())
	case !typeAllowed(contentType, f.types):
		return storedObject{}, newProblem(http.StatusUnsupportedMediaType,
			"a file of type "+contentType+" is not accepted; allowed: "+strings.Join(f.types, ", "))
	}
	if 0 <= sizeHint && sizeHint <= partSize {
		return f.putWhole(ctx, key, meta, body, capped, contentType, sizeHint)
	}
	h := sha256.New()
	up, err := f.uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), Body: io.TeeReader(body, h),
		ContentType: aws.String(contentType), Metadata: meta,
		ServerSideEncryption: tmtypes.ServerSideEncryptionAes256,
	})
	if capped.over {
		// The manager aborts a multipart upload whose body fails; a single
		// PutObject was never sent.
		return storedObject{}, f.tooLarge()
	}
	if err != nil {
		return storedObject{}, fmt.Errorf("upload %s: %w", key, err)
	}
	obj := storedObject{Key: key, VersionID: aws.ToString(up.VersionID), SHA256: hex.EncodeToString(h.Sum(nil)),
		Size: capped.n, ContentType: contentType}
	_, err = f.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), VersionId: up.VersionID,
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(evidence.ChecksumTag), Value: aws.String(obj.SHA256)}}},
	})
	if err != nil {
		f.remove(ctx, key, obj.VersionID)
		return storedObject{}, fmt.Errorf("tag %s with its checksum: %w", key, err)
	}
	return obj, nil
}

// putWhole reads a small file whole and stores it in one PutObject that
// carries its checksum tag, and its SHA-256 for S3 to check the bytes
// against: one request where a streamed upload makes two (the upload, then
// the tag), and no larger a buffer than the manager's part would be.
func (f *evidenceFiles) putWhole(ctx context.Context, key string, meta map[string]string, body io.Reader, capped *capReader, contentType string, sizeHint int64) (storedObject, error) {
	buf := bytes.NewBuffer(make([]byte, 0, sizeHint+bytes.MinRead))
	_, err := buf.ReadFrom(body)
	switch {
	case capped.over:
		return storedObject{}, f.tooLarge()
	case err != nil:
		return storedObject{}, newProblem(http.StatusBadRequest, "the upload could not be read: "+err.Error())
	}
	sum := sha256.Sum256(buf.Bytes())
	obj := storedObject{Key: key, SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len()), ContentType: contentType}
	out, err := f.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes()),
		ContentLength: aws.Int64(obj.Size), ContentType: aws.String(contentType), Metadata: meta,
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
		ChecksumSHA256:       aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Tagging:              aws.String(evidence.ChecksumTagging(obj.SHA256)),
	})
	if err != nil {
		return storedObject{}, fmt.Errorf("upload %s: %w", key, err)
	}
	obj.VersionID = aws.ToString(out.VersionId)
	return obj, nil
}

// partSize is the upload manager's part size, and the largest request
// whose file is stored in one PutObject.
const partSize = 5 << 20

func (f *evidenceFiles) tooLarge() error {
	return newProblem(http.StatusRequestEntityTooLarge,
		"the file is larger than "+strconv.FormatInt(f.maxBytes, 10)+" bytes")
}

// remove deletes one version of an object (the current one when versionID
// is empty), even when the request that stored it was cancelled.
func (f *evidenceFiles) remove(ctx context.Context, key, versionID string) {
	in := &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = f.s3.DeleteObject(ctx, in)
}

// retain locks an object version in governance mode for the retention period.
func (f *evidenceFiles) retain(ctx context.Context, key, versionID string) error {
	in := &s3.PutObjectRetentionInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key),
		Retention: &s3types.ObjectLockRetention{
			Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(f.retention)),
		},
	}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if _, err := f.s3.PutObjectRetention(ctx, in); err != nil {
		return fmt.Errorf("retain %s: %w", key, err)
	}
	return nil
}

// uploadEvidenceInput takes the request body as a stream: no Body field,
// so huma neither reads nor limits it, and the resolver hands it over.
type uploadEvidenceInput struct {
	CaseIDParam
	body          io.Reader
	contentType   string
	contentLength int64
}

// Resolve keeps the request's body stream and the headers that describe it.
func (in *uploadEvidenceInput) Resolve(ctx huma.Context) []error {
	in.body = ctx.BodyReader()
	in.contentType = ctx.Header("Content-Type")
	in.contentLength = -1
	if n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64); err == nil {
		in.contentLength = n
	}
	return nil
}

// uploadRequestBody documents the multipart form the upload reads.
func uploadRequestBody() *huma.RequestBody {
	kinds := make([]any, len(vocab.EvidenceKinds))
	for i, k := range vocab.EvidenceKinds {
		kinds[i] = k
	}
	return &huma.RequestBody{
		Required:    true,
		Description: "One part named file; kind and note, when sent, come before it.",
		Content: map[string]*huma.MediaType{"multipart/form-data": {Schema: &huma.Schema{
			Type: "object", Required: []string{"file"},
			Properties: map[string]*huma.Schema{
				"file": {Type: "string", Format: "binary",
					Description: "The file; its type is sniffed from its first bytes, whatever the part says."},
				"kind": {Type: "string", Enum: kinds, Default: "other"},
				"note": {Type: "string", MaxLength: aws.Int(maxNoteBytes)},
			},
		}}},
	}
}

type evidenceBody struct {
	Evidence vocab.Evidence `json:"evidence"`
	// Duplicate is true when the same bytes were already on the case: nothing was stored.
	Duplicate bool `json:"duplicate" doc:"True when the same bytes were already on the case; the earlier record is answered and nothing was stored."`
}

type evidenceOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     evidenceBody
}

// uploadEvidence stores a file in S3, then records it on the case. The
// workflow decides whether the bytes are new (by checksum): a duplicate's
// object is deleted again, a new file of a retained category is locked.
func (s *server) uploadEvidence(ctx context.Context, in *uploadEvidenceInput) (*evidenceOutput, error) {
	mediaType, params, err := mime.ParseMediaType(in.contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, newProblem(http.StatusUnsupportedMediaType, "send the file as multipart/form-data")
	}
	if in.contentLength > s.evidence.maxBytes+multipartSlack {
		return nil, s.evidence.tooLarge()
	}
	view, err := s.projectedCase(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if view.Status == cases.StatusClosed {
		return nil, newProblem(http.StatusConflict, "cannot add evidence: the case is closed")
	}
	who := callerFrom(ctx)
	e := vocab.Evidence{ID: newEvidenceID(), Kind: "other",
		Retained: slices.Contains(vocab.RetainedCategories, view.Category)}
	e.Key = evidenceKey(in.ID, e.ID)
	var obj *storedObject
	done := false
	defer func() {
		if obj != nil && !done {
			s.evidence.remove(ctx, obj.Key, obj.VersionID)
		}
	}()
	mr := multipart.NewReader(in.body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, newProblem(http.StatusBadRequest, "the multipart body is malformed: "+err.Error())
		}
		switch part.FormName() {
		case "kind", "note":
			if obj != nil {
				// The object's metadata is written with the file.
				return nil, newProblem(http.StatusUnprocessableEntity, "send kind and note before the file",
					fieldProblem{Field: part.FormName(), Message: "comes after the file part"})
			}
			v, p := formValue(part, map[string]int{"kind": maxKindBytes, "note": maxNoteBytes}[part.FormName()])
			if p != nil {
				return nil, p
			}
			if part.FormName() == "kind" {
				e.Kind = v
			} else {
				e.Note = v
			}
			if !slices.Contains(vocab.EvidenceKinds, e.Kind) {
				return nil, unknownKind(e.Kind)
			}
		case "file":
			if obj != nil {
				return nil, newProblem(http.StatusUnprocessableEntity, "send one file per request",
					fieldProblem{Field: "file", Message: "is sent twice"})
			}
			meta := map[string]string{"case-id": in.ID, "evidence-id": e.ID, "kind": e.Kind, "uploaded-by": who.actor()}
			stored, err := s.evidence.put(ctx, e.Key, meta, part, in.contentLength)
			if err != nil {
				return nil, s.caseError(ctx, in.ID, err)
			}
			obj = &stored
		default:
			return nil, newProblem(http.StatusBadRequest, "the form has unknown fields",
				fieldProblem{Field: part.FormName(), Message: "is not a field of this request"})
		}
	}
	if obj == nil {
		return nil, newProblem(http.StatusUnprocessableEntity, "the form has no file",
			fieldProblem{Field: "file", Message: "is required"})
	}
	e.SHA256, e.Size, e.ContentType = obj.SHA256, obj.Size, obj.ContentType
	var res cases.EvidenceResult
	if err := s.update(ctx, in.ID, cases.UpdateAddEvidence, e.ID,
		cases.EvidenceInput{Actor: who.actor(), Evidence: e}, &res); err != nil {
		return nil, err
	}
	if res.Duplicate {
		return &evidenceOutput{Status: http.StatusOK, Location: "/v1/evidence/" + res.Evidence.ID,
			Body: evidenceBody{Evidence: res.Evidence, Duplicate: true}}, nil
	}
	done = true // recorded: the object stays, whatever happens next
	if e.Retained {
		if err := s.evidence.retain(ctx, obj.Key, obj.VersionID); err != nil {
			return nil, s.caseError(ctx, in.ID, err)
		}
	}
	return &evidenceOutput{Status: http.StatusCreated, Location: "/v1/evidence/" + res.Evidence.ID,
		Body: evidenceBody{Evidence: res.Evidence}}, nil
}

// formValue reads a small form field, refusing one over max bytes.
func formValue(part *multipart.Part, max int) (string, *problem) {
	b, err := io.ReadAll(io.LimitReader(part, int64(max)+1))
	if err != nil {
		return "", newProblem(http.StatusBadRequest, "the multipart body is malformed: "+err.Error())
	}
	if len(b) > max {
		return "", newProblem(http.StatusUnprocessableEntity, "a field is too long",
			fieldProblem{Field: part.FormName(), Message: "at most " + strconv.Itoa(max) + " bytes"})
	}
	return strings.TrimSpace(string(b)), nil
}

func unknownKind(kind string) *problem {
	return newProblem(http.StatusUnprocessableEntity, "unknown evidence kind "+strconv.Quote(kind),
		fieldProblem{Field: "kind", Message: "want one of " + strings.Join(vocab.EvidenceKinds, ", ")})
}

// update runs a workflow update on a case, answering a refusal as a problem.
func (s *server) update(ctx context.Context, id, name, key string, arg, out any) error {
	if err := s.runUpdate(ctx, cases.CaseWorkflowID(id), name, key, arg, out); err != nil {
		return s.caseError(ctx, id, err)
	}
	return nil
}

type evidenceListOutput struct {
	Body struct {
		Evidence []vocab.Evidence `json:"evidence"`
	}
}

// listEvidence answers a case's files, from its workflow while it runs
// and from the read model once it has ended.
func (s *server) listEvidence(ctx context.Context, in *CaseIDParam) (*evidenceListOutput, error) {
	v, err := s.readCase(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &evidenceListOutput{}
	out.Body.Evidence = v.Evidence
	if out.Body.Evidence == nil {
		out.Body.Evidence = []vocab.Evidence{}
	}
	return out, nil
}

type downloadEvidenceInput struct {
	ID       string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The evidence id."`
	Redirect bool   `query:"redirect" doc:"Answer 302 to the download URL instead of JSON."`
}

type downloadBody struct {
	URL       string         `json:"url" doc:"A presigned GET URL of the file."`
	ExpiresAt time.Time      `json:"expires_at" doc:"When the URL stops working."`
	CaseID    string         `json:"case_id"`
	Evidence  vocab.Evidence `json:"evidence"`
}

type downloadOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     *downloadBody
}

// downloadEvidence answers a short-lived URL of a file, after recording on
// its case who fetched it. A case that has ended cannot record anything
// more; its files are still served.
func (s *server) downloadEvidence(ctx context.Context, in *downloadEvidenceInput) (*downloadOutput, error) {
	rec, err := s.store.GetEvidence(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem(http.StatusNotFound, "no evidence "+in.ID)
	}
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	var res cases.EvidenceResult
	err = s.runUpdate(ctx, cases.CaseWorkflowID(rec.CaseID), cases.UpdateRecordDownload, newEvidenceID(),
		cases.DownloadInput{Actor: callerFrom(ctx).actor(), EvidenceID: rec.ID}, &res)
	var ended *serviceerror.NotFound // the workflow has completed: nothing can be recorded
	if err != nil && !errors.As(err, &ended) {
		return nil, s.caseError(ctx, rec.CaseID, err)
	}
	expires := time.Now().Add(presignTTL)
	req, err := s.evidence.presign.PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(s.evidence.bucket), Key: aws.String(rec.Key)},
		s3.WithPresignExpires(presignTTL))
	if err != nil {
		return nil, s.caseError(ctx, rec.CaseID, fmt.Errorf("presign %s: %w", rec.Key, err))
	}
	if in.Redirect {
		return &downloadOutput{Status: http.StatusFound, Location: req.URL}, nil
	}
	return &downloadOutput{Status: http.StatusOK,
		Body: &downloadBody{URL: req.URL, ExpiresAt: expires.UTC(), CaseID: rec.CaseID, Evidence: rec.Evidence}}, nil
}
