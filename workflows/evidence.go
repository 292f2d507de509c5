package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"go.temporal.io/sdk/workflow"
)

// EvidenceKinds lists what an evidence file can be.
var EvidenceKinds = []string{
	"delivery_screenshot", "login_note", "recovery_instructions", "customer_confirmation",
	"policy_warning", "support_message", "dispute_document", "other",
}

// RetainedCategories are the cases whose evidence S3 Object Lock keeps
// unaltered: what may end before an arbitrator or the police.
var RetainedCategories = []Category{CategoryDispute, CategorySecurityAlert, CategoryFraudReport}

// ChecksumTag is the S3 object tag that holds an evidence object's SHA-256
// in lowercase hex: uploads through the API and identity-check records
// both carry it.
const ChecksumTag = "sha256"

// ChecksumTagging answers the x-amz-tagging value that sets ChecksumTag to
// sum in the request that stores an object.
func ChecksumTagging(sum string) string { return ChecksumTag + "=" + sum }

// Evidence is one file attached to a case; the bytes are in S3 under Key.
type Evidence struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Key         string `json:"key"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Note        string `json:"note,omitempty"`
	// Retained is true when S3 Object Lock keeps the file from change or early deletion.
	Retained   bool   `json:"retained,omitempty"`
	UploadedBy string `json:"uploaded_by"`
	// Seq is the timeline event that recorded the file.
	Seq int `json:"seq"`
}

// EvidenceInput records a file the API has stored.
type EvidenceInput struct {
	Actor    string   `json:"actor"`
	Evidence Evidence `json:"evidence"`
}

// EvidenceResult answers an evidence update: the file as recorded and
// whether the same bytes were already on the case (then nothing was added
// and the earlier record is answered).
type EvidenceResult struct {
	Evidence  Evidence `json:"evidence"`
	Duplicate bool     `json:"duplicate"`
}

// DownloadInput records a download of an evidence file.
type DownloadInput struct {
	Actor      string `json:"actor"`
	EvidenceID string `json:"evidence_id"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (c *supportCase) validateAddEvidence(in EvidenceInput) error {
	e := in.Evidence
	switch {
	case !slices.Contains(EvidenceKinds, e.Kind):
		return invalidArgument(fmt.Sprintf("kind: unknown kind %q", e.Kind))
	case !sha256Hex.MatchString(e.SHA256):
		return invalidArgument("sha256: want 64 lowercase hex digits")
	case e.ID == "" || e.Key == "":
		return invalidArgument("id: the evidence needs an id and a key")
	case e.Size < 0:
		return invalidArgument("size: must not be negative")
	}
	return nil
}

// addEvidence records a file on the timeline with its checksum, unless the
// same bytes are already on the case.
func (c *supportCase) addEvidence(ctx workflow.Context, in EvidenceInput) (EvidenceResult, error) {
	if i := slices.IndexFunc(c.view.Evidence, func(e Evidence) bool { return e.SHA256 == in.Evidence.SHA256 }); i >= 0 {
		return EvidenceResult{Evidence: c.view.Evidence[i], Duplicate: true}, nil
	}
	e := in.Evidence
	e.UploadedBy = in.Actor
	e = c.attachEvidence(ctx, in.Actor, e)
	c.changed(ctx)
	return EvidenceResult{Evidence: e}, nil
}

// hasEvidence reports whether a file with these bytes is on the case.
func (c *supportCase) hasEvidence(sha256 string) bool {
	return slices.ContainsFunc(c.view.Evidence, func(e Evidence) bool { return e.SHA256 == sha256 })
}

// attachEvidence records e on the timeline and the case's files.
func (c *supportCase) attachEvidence(ctx workflow.Context, actor string, e Evidence) Evidence {
	ev := c.record(ctx, actor, EventEvidenceAdded, payload(
		"evidence_id", e.ID, "kind", e.Kind, "sha256", e.SHA256, "size", strconv.FormatInt(e.Size, 10),
		"content_type", e.ContentType, "key", e.Key, "note", e.Note, "retained", strconv.FormatBool(e.Retained)))
	e.Seq = ev.Seq
	c.view.Evidence = append(c.view.Evidence, e)
	return e
}

func (c *supportCase) validateRecordDownload(in DownloadInput) error {
	for _, e := range c.view.Evidence {
		if e.ID == in.EvidenceID {
			return nil
		}
	}
	return invalidArgument(fmt.Sprintf("evidence_id: no evidence %q on this case", in.EvidenceID))
}

// recordDownload puts who fetched which file on the timeline.
func (c *supportCase) recordDownload(ctx workflow.Context, in DownloadInput) (EvidenceResult, error) {
	var e Evidence
	for _, x := range c.view.Evidence {
		if x.ID == in.EvidenceID {
			e = x
		}
	}
	c.record(ctx, in.Actor, EventEvidenceFetched, payload("evidence_id", e.ID, "sha256", e.SHA256))
	c.changed(ctx)
	return EvidenceResult{Evidence: e}, nil
}
