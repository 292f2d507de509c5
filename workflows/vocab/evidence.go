package vocab

// EvidenceKinds lists what an evidence file can be.
var EvidenceKinds = []string{
	"delivery_screenshot", "login_note", "recovery_instructions", "customer_confirmation",
	"policy_warning", "support_message", "dispute_document", "other",
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
