package main

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// presignTTL is how long a download URL works when the evidence store was
// not told (EVIDENCE_LINK_TTL's default): minutes, never SigV4's seven days.
const presignTTL = 5 * time.Minute

// linkTTL is how long the download URLs this server presigns work:
// EVIDENCE_LINK_TTL, or presignTTL when the store was made without it.
func (s *server) linkTTL() time.Duration {
	if ttl := s.evidence.LinkTTL(); ttl > 0 {
		return ttl
	}
	return presignTTL
}

// multipartSlack is what a multipart body may carry beyond the file itself
// (boundaries, part headers, kind and note) before its declared length
// alone is refused as too large.
const multipartSlack = 1 << 20

// Bounds on the small form fields.
const (
	maxKindBytes = 100
	maxNoteBytes = 2000
)

// fileTooLarge is the problem of a file over the store's limit, whether
// its request's length shows it or its stream does.
func fileTooLarge(maxBytes int64) *problem {
	return newProblem(http.StatusRequestEntityTooLarge,
		"the file is larger than "+strconv.FormatInt(maxBytes, 10)+" bytes")
}

// uploadProblem answers the store's refusals of a file as the problems a
// client can act on; any other error (S3 failing) is answered unchanged,
// for caseError to map.
func uploadProblem(err error, maxBytes int64) error {
	var unsupported *evidence.UnsupportedTypeError
	var unreadable *evidence.ReadError
	switch {
	case errors.Is(err, evidence.ErrTooLarge):
		return fileTooLarge(maxBytes)
	case errors.Is(err, evidence.ErrEmpty):
		return newProblem(http.StatusUnprocessableEntity, "the file is empty",
			fieldProblem{Field: "file", Message: "is empty"})
	case errors.As(err, &unreadable):
		return newProblem(http.StatusBadRequest, "the upload could not be read: "+unreadable.Err.Error())
	case errors.As(err, &unsupported):
		return newProblem(http.StatusUnsupportedMediaType,
			"a file of type "+unsupported.Type+" is not accepted; allowed: "+strings.Join(unsupported.Allowed, ", "))
	}
	return err
}

// UploadStream takes the request body of an upload as a stream: no Body
// field, so huma neither reads nor limits it, and the resolver hands it
// over. (Embedded in each upload's input, so it is exported.)
type UploadStream struct {
	body          io.Reader
	contentType   string
	contentLength int64
}

// Resolve keeps the request's body stream and the headers that describe it.
func (in *UploadStream) Resolve(ctx huma.Context) []error {
	in.body = ctx.BodyReader()
	in.contentType = ctx.Header("Content-Type")
	in.contentLength = -1
	if n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64); err == nil {
		in.contentLength = n
	}
	return nil
}

// boundary answers the multipart boundary of the upload, refusing a body
// that is not multipart/form-data (415) or whose declared length alone is
// over maxBytes (413), before anything is looked up or read.
func (in *UploadStream) boundary(maxBytes int64) (string, error) {
	mediaType, params, err := mime.ParseMediaType(in.contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return "", newProblem(http.StatusUnsupportedMediaType, "send the file as multipart/form-data")
	}
	if in.contentLength > maxBytes+multipartSlack {
		return "", fileTooLarge(maxBytes)
	}
	return params["boundary"], nil
}

type uploadEvidenceInput struct {
	CaseIDParam
	UploadStream
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
	boundary, err := in.boundary(s.evidence.MaxBytes())
	if err != nil {
		return nil, err
	}
	view, err := s.projectedCase(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if view.Status == cases.StatusClosed {
		return nil, newProblem(http.StatusConflict, "cannot add evidence: the case is closed")
	}
	return s.storeEvidence(ctx, in.body, boundary, in.contentLength, evidenceOwner{
		meta: "case-id", id: in.ID, key: evidence.Key, update: cases.UpdateAddEvidence,
		workflowID: cases.CaseWorkflowID(in.ID), retained: slices.Contains(vocab.RetainedCategories, view.Category),
		located: true, fail: s.caseError,
	})
}

// evidenceOwner is what an uploaded file is attached to: a case or a
// delivery, and how its workflow records the file.
type evidenceOwner struct {
	// meta names the owner in the object's metadata (case-id, delivery-id);
	// id is the owner's id.
	meta, id string
	// key answers the object key of one of the owner's files.
	key func(ownerID, evidenceID string) string
	// workflowID and update are the workflow and its add-evidence update.
	workflowID, update string
	// retained files are locked by Object Lock once recorded.
	retained bool
	// located answers the file's /v1/evidence/{id} as Location.
	located bool
	// fail maps an error to the owner's problem (caseError, deliveryError).
	fail func(ctx context.Context, id string, err error) error
}

// storeEvidence reads an upload's multipart form (kind and note, then the
// file) from body, streams the file to S3 under the owner's key and
// records it on the owner's workflow. Until the workflow has recorded it,
// a refusal deletes the object again; a duplicate is deleted too.
func (s *server) storeEvidence(ctx context.Context, body io.Reader, boundary string, contentLength int64, o evidenceOwner) (*evidenceOutput, error) {
	who := callerFrom(ctx)
	e := vocab.Evidence{ID: evidence.NewID(), Kind: "other", Retained: o.retained}
	e.Key = o.key(o.id, e.ID)
	var obj *evidence.Object
	done := false
	defer func() {
		if obj != nil && !done {
			s.evidence.Remove(ctx, obj.Key, obj.VersionID)
		}
	}()
	mr := multipart.NewReader(body, boundary)
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
			meta := map[string]string{o.meta: o.id, "evidence-id": e.ID, "kind": e.Kind, "uploaded-by": who.actor()}
			stored, err := s.evidence.Put(ctx, e.Key, meta, part, contentLength)
			if err != nil {
				return nil, o.fail(ctx, o.id, uploadProblem(err, s.evidence.MaxBytes()))
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
	var res vocab.EvidenceResult
	if err := s.runUpdate(ctx, o.workflowID, o.update, e.ID,
		vocab.EvidenceInput{Actor: who.actor(), Evidence: e}, &res); err != nil {
		if !refused(err) {
			// No answer is no refusal: Temporal may have taken the update
			// and run it once a worker can, and a record whose object was
			// deleted is a broken file. The object stays until the same
			// update id answers (finishEvidence).
			done = true
			go s.finishEvidence(context.WithoutCancel(ctx), o, *obj, vocab.EvidenceInput{Actor: who.actor(), Evidence: e})
		}
		return nil, o.fail(ctx, o.id, err)
	}
	out := &evidenceOutput{Status: http.StatusCreated, Body: evidenceBody{Evidence: res.Evidence, Duplicate: res.Duplicate}}
	if o.located {
		out.Location = "/v1/evidence/" + res.Evidence.ID
	}
	if res.Duplicate {
		out.Status = http.StatusOK
		return out, nil
	}
	done = true // recorded: the object stays, whatever happens next
	if e.Retained {
		if err := s.evidence.Retain(ctx, obj.Key, obj.VersionID); err != nil {
			return nil, o.fail(ctx, o.id, err)
		}
	}
	return out, nil
}

// refused reports that err is the workflow's own answer to an update
// (its validator or handler refused it) or that the workflow has ended, so
// the update was not and will not be run.
func refused(err error) bool {
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	return errors.As(err, &appErr) || errors.As(err, &notFound)
}

// Bounds of finishEvidence: how long it keeps asking, and its waits.
const (
	evidenceFinishFor   = 30 * time.Minute
	evidenceFinishFirst = 2 * time.Second
	evidenceFinishMax   = 30 * time.Second
)

// finishEvidence runs the add-evidence update of an upload that got no
// answer again, under the same update id, until the workflow answers:
// Temporal runs an update id once, so it learns the first try's outcome
// or records the file now. A refusal or a duplicate deletes the object; a
// record keeps it, locked when retained. A workflow that has ended by then
// keeps the object (it may have recorded it before ending). It runs in the
// background for evidenceFinishFor at most; a process stopped meanwhile
// leaves the object, which no record names.
func (s *server) finishEvidence(ctx context.Context, o evidenceOwner, obj evidence.Object, in vocab.EvidenceInput) {
	ctx, cancel := context.WithTimeout(ctx, evidenceFinishFor)
	defer cancel()
	log := s.logger.With(o.meta, o.id, "evidence", in.Evidence.ID)
	for wait := evidenceFinishFirst; ; wait = min(2*wait, evidenceFinishMax) {
		select {
		case <-ctx.Done():
			log.WarnContext(ctx, "evidence upload left unfinished; its object stays", "key", obj.Key)
			return
		case <-time.After(wait):
		}
		var res vocab.EvidenceResult
		err := s.runUpdate(ctx, o.workflowID, o.update, in.Evidence.ID, in, &res)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			log.WarnContext(ctx, "evidence upload's workflow ended before it answered; its object stays", "key", obj.Key)
			return
		case refused(err), err == nil && res.Duplicate:
			s.evidence.Remove(ctx, obj.Key, obj.VersionID)
			log.InfoContext(ctx, "evidence upload finished: not recorded, object deleted", "error", err)
			return
		case err == nil:
			if in.Evidence.Retained {
				if err := s.evidence.Retain(ctx, obj.Key, obj.VersionID); err != nil {
					log.ErrorContext(ctx, "evidence recorded, but not locked", "error", err)
				}
			}
			log.InfoContext(ctx, "evidence upload finished: recorded")
			return
		}
	}
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
	ID string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The evidence id."`
	RedirectParam
}

type downloadBody struct {
	URL       string         `json:"url" doc:"A presigned GET URL of the file."`
	ExpiresAt time.Time      `json:"expires_at" doc:"When the URL stops working."`
	CaseID    string         `json:"case_id"`
	Evidence  vocab.Evidence `json:"evidence"`
}

// downloadEvidence answers a short-lived URL of a file, after recording on
// its case who fetched it. A case that has ended cannot record anything
// more; its files are still served.
func (s *server) downloadEvidence(ctx context.Context, in *downloadEvidenceInput) (*download[downloadBody], error) {
	rec, err := s.store.GetEvidence(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem(http.StatusNotFound, "no evidence "+in.ID)
	}
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	var res vocab.EvidenceResult
	err = s.runUpdate(ctx, cases.CaseWorkflowID(rec.CaseID), cases.UpdateRecordDownload, evidence.NewID(),
		cases.DownloadInput{Actor: callerFrom(ctx).actor(), EvidenceID: rec.ID}, &res)
	var ended *serviceerror.NotFound // the workflow has completed: nothing can be recorded
	if err != nil && !errors.As(err, &ended) {
		return nil, s.caseError(ctx, rec.CaseID, err)
	}
	return presignedDownload(ctx, s, rec.Key, in.Redirect, s.caseError, rec.CaseID, func(u PresignedURL) *downloadBody {
		return &downloadBody{URL: u.URL, ExpiresAt: u.ExpiresAt, CaseID: rec.CaseID, Evidence: rec.Evidence}
	})
}
