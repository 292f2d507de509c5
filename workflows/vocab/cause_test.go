package vocab

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIssuedIDsNameARepeatedIDApart(t *testing.T) {
	var ids IssuedIDs
	assert.Equal(t, "case/C-1/update/u/escalated/team", ids.Name("case/C-1/update/u/escalated/team"))
	assert.Equal(t, "case/C-1/update/u/escalated/team/2", ids.Name("case/C-1/update/u/escalated/team"))
	assert.Equal(t, "case/C-1/update/u/closed/team", ids.Name("case/C-1/update/u/closed/team"), "another id starts at one")
	assert.Equal(t, "case/C-1/update/u/escalated/team/3", ids.Name("case/C-1/update/u/escalated/team"))
}
