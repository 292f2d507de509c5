package codes

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

var secret = []byte("handoff-test-verification-code-secret-0123")

func TestCodeIsSixDigitsAndTheSameForTheSameID(t *testing.T) {
	c := Code(secret, "recovery/R-1/code")
	assert.Regexp(t, `^[0-9]{6}$`, c)
	assert.Equal(t, c, Code(secret, "recovery/R-1/code"))
}

func TestCodesOfDifferentIDsDiffer(t *testing.T) {
	seen := map[string]string{}
	for _, id := range []string{"recovery/R-1/code", "recovery/R-2/code", "contact/P-1/code", "a", "b", "c", "d", "e"} {
		c := Code(secret, id)
		assert.Regexp(t, `^[0-9]{6}$`, c, id)
		if other, ok := seen[c]; ok {
			t.Errorf("ids %q and %q share the code %s", other, id, c)
		}
		seen[c] = id
	}
}

func TestCodesAreZeroPadded(t *testing.T) {
	// Over many ids some codes start with 0; they must keep six digits.
	padded := false
	for i := range 2000 {
		c := Code(secret, "id-"+strconv.Itoa(i))
		assert.Len(t, c, 6)
		padded = padded || c[0] == '0'
	}
	assert.True(t, padded, "no code started with 0 in 2000 ids")
}

func TestDigestOfTheRightCodeMatchesAsTyped(t *testing.T) {
	id := "recovery/R-1/code"
	c := Code(secret, id)
	want := Digest(secret, id, c)
	assert.Regexp(t, `^[0-9a-f]{64}$`, want)
	for _, typed := range []string{c, c[:3] + " " + c[3:], c[:3] + "-" + c[3:], " " + c + " ", "-" + c[:2] + " -" + c[2:]} {
		assert.Equal(t, want, Digest(secret, id, typed), "typed %q", typed)
	}
}

func TestDigestOfAWrongCodeDiffers(t *testing.T) {
	id := "recovery/R-1/code"
	c := Code(secret, id)
	wrong := "000000"
	if c == wrong {
		wrong = "000001"
	}
	assert.NotEqual(t, Digest(secret, id, c), Digest(secret, id, wrong))
	assert.NotEqual(t, Digest(secret, id, c), Digest(secret, "recovery/R-2/code", c), "a code is bound to its id")
}

func TestDifferentSecretsDiffer(t *testing.T) {
	other := []byte("another-verification-code-secret-of-32-bytes")
	id := "recovery/R-1/code"
	assert.NotEqual(t, Digest(secret, id, "123456"), Digest(other, id, "123456"))
	// Two secrets may share a code by chance (1 in a million); over a few ids they must not all agree.
	same := 0
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if Code(secret, id) == Code(other, id) {
			same++
		}
	}
	assert.Less(t, same, 5)
}

func TestNormalizeStripsSpacesAndDashes(t *testing.T) {
	assert.Equal(t, "123456", Normalize(" 12-34 56 "))
	assert.Equal(t, "12a456", Normalize("12a456"), "other characters are kept, so they never match")
}
