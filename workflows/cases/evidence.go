package cases

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

func (c *supportCase) validateAddEvidence(in vocab.EvidenceInput) error { return in.Evidence.Check() }

// addEvidence records a file on the timeline with its checksum, unless the
// same bytes are already on the case.
func (c *supportCase) addEvidence(ctx workflow.Context, in vocab.EvidenceInput) (vocab.EvidenceResult, error) {
	if i := vocab.FindEvidence(c.view.Evidence, in.Evidence.SHA256); i >= 0 {
		return vocab.EvidenceResult{Evidence: c.view.Evidence[i], Duplicate: true}, nil
	}
	e := in.Evidence
	e.UploadedBy = in.Actor
	e = c.attachEvidence(ctx, in.Actor, e)
	c.changed(ctx)
	return vocab.EvidenceResult{Evidence: e}, nil
}

// hasEvidence reports whether a file with these bytes is on the case.
func (c *supportCase) hasEvidence(sha256 string) bool {
	return vocab.FindEvidence(c.view.Evidence, sha256) >= 0
}

// attachEvidence records e on the timeline and the case's files.
func (c *supportCase) attachEvidence(ctx workflow.Context, actor string, e vocab.Evidence) vocab.Evidence {
	ev := c.record(ctx, actor, EventEvidenceAdded, e.Payload())
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
	return vocab.InvalidArgument(fmt.Sprintf("evidence_id: no evidence %q on this case", in.EvidenceID))
}

// recordDownload puts who fetched which file on the timeline.
func (c *supportCase) recordDownload(ctx workflow.Context, in DownloadInput) (vocab.EvidenceResult, error) {
	var e vocab.Evidence
	for _, x := range c.view.Evidence {
		if x.ID == in.EvidenceID {
			e = x
		}
	}
	c.record(ctx, in.Actor, EventEvidenceFetched, vocab.Payload("evidence_id", e.ID, "sha256", e.SHA256))
	c.changed(ctx)
	return vocab.EvidenceResult{Evidence: e}, nil
}
