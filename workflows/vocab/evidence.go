package vocab

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// EvidenceKinds lists what an evidence file can be.
var EvidenceKinds = []string{
	"delivery_screenshot", "login_note", "recovery_instructions", "customer_confirmation",
	"policy_warning", "support_message", "dispute_document", "identity_document", "other",
}

// RetainedCategories are the cases whose evidence S3 Object Lock keeps
// unaltered: what may end before an arbitrator or the police.
var RetainedCategories = []Category{CategoryDispute, CategorySecurityAlert, CategoryFraudReport}

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

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Check refuses an evidence record a case or a delivery cannot take: an
// unknown kind, a malformed checksum, no id or key, a negative size.
func (e Evidence) Check() error {
	switch {
	case !slices.Contains(EvidenceKinds, e.Kind):
		return InvalidArgument(fmt.Sprintf("kind: unknown kind %q", e.Kind))
	case !sha256Hex.MatchString(e.SHA256):
		return InvalidArgument("sha256: want 64 lowercase hex digits")
	case e.ID == "" || e.Key == "":
		return InvalidArgument("id: the evidence needs an id and a key")
	case e.Size < 0:
		return InvalidArgument("size: must not be negative")
	}
	return nil
}

// Payload is what a timeline's evidence_added event says of e.
func (e Evidence) Payload() map[string]string { return Payload(e.Pairs()...) }

// Pairs are Payload's key, value pairs, in a fixed order.
func (e Evidence) Pairs() []string {
	return []string{"evidence_id", e.ID, "kind", e.Kind, "sha256", e.SHA256, "size", strconv.FormatInt(e.Size, 10),
		"content_type", e.ContentType, "key", e.Key, "note", e.Note, "retained", strconv.FormatBool(e.Retained)}
}

// FindEvidence answers the index in files of the file with these bytes, or -1.
func FindEvidence(files []Evidence, sha256 string) int {
	return slices.IndexFunc(files, func(e Evidence) bool { return e.SHA256 == sha256 })
}
