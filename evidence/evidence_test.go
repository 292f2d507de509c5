package evidence

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKeyIsCaseAndEvidenceIDNeverTheFileName(t *testing.T) {
	id := NewID()
	assert.Regexp(t, `^E-[A-Z2-7]{16}$`, id)
	assert.NotEqual(t, id, NewID())
	assert.Equal(t, "cases/C-1/"+id, Key("C-1", id))
	// Identity-check records name themselves by checksum; the layout is the same.
	assert.Equal(t, "cases/C-2/E-0123456789ABCDEF0123", Key("C-2", "E-0123456789ABCDEF0123"))
}

func TestChecksumTaggingSetsTheChecksumTag(t *testing.T) {
	sum := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	assert.Equal(t, "sha256", ChecksumTag, "stored objects and their readers agree on this name")
	assert.Equal(t, "sha256="+sum, ChecksumTagging(sum))
}
