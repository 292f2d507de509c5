package standardwebhooks

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example of the Standard Webhooks specification: a verifier that
// accepts it agrees with every conforming sender, not only with itself.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = "1614265330"
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func specVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := NewVerifier(specSecret, 0, func() time.Time { return time.Unix(1614265330, 0).Add(time.Minute) })
	require.NoError(t, err)
	return v
}

func specHeaders(signature string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, specID)
	h.Set(HeaderTimestamp, specTimestamp)
	h.Set(HeaderSignature, signature)
	return h
}

func TestVerifyAcceptsTheSpecificationExample(t *testing.T) {
	v := specVerifier(t)
	require.NoError(t, v.Verify(specHeaders(specSignature), []byte(specBody)))
	assert.Equal(t, specSignature, v.Sign(specID, 1614265330, []byte(specBody)))
}

func TestSignMakesTheSpecificationExample(t *testing.T) {
	key, err := ParseSecret(specSecret)
	require.NoError(t, err)
	assert.Equal(t, specSignature, Sign(key, specID, 1614265330, []byte(specBody)))
}

func TestVerifyAcceptsOneMatchAmongSeveralSignatures(t *testing.T) {
	v := specVerifier(t)
	h := specHeaders("v1,bm90IHRoaXMgb25l v2,whatever " + specSignature)
	assert.NoError(t, v.Verify(h, []byte(specBody)))
}

func TestVerifyRefuses(t *testing.T) {
	with := func(name, value string) http.Header {
		h := specHeaders(specSignature)
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	cases := map[string]struct {
		headers http.Header
		body    string
		want    error
	}{
		"a changed body":           {specHeaders(specSignature), `{"test": 2432232315}`, ErrSignatureInvalid},
		"another id":               {with(HeaderID, "msg_other"), specBody, ErrSignatureInvalid},
		"an unknown version only":  {specHeaders("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), specBody, ErrSignatureInvalid},
		"no signature":             {with(HeaderSignature, ""), specBody, ErrMissingHeaders},
		"no id":                    {with(HeaderID, ""), specBody, ErrMissingHeaders},
		"a timestamp in ms":        {with(HeaderTimestamp, "1614265330000"), specBody, ErrStaleTimestamp},
		"a timestamp an hour old":  {with(HeaderTimestamp, "1614261730"), specBody, ErrStaleTimestamp},
		"a timestamp not a number": {with(HeaderTimestamp, "soon"), specBody, ErrBadTimestamp},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, specVerifier(t).Verify(c.headers, []byte(c.body)), c.want)
		})
	}
}

func TestNewVerifierRefusesMalformedSecrets(t *testing.T) {
	for _, secret := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_"} {
		_, err := NewVerifier(secret, 0, nil)
		require.Error(t, err, "%q", secret)
		assert.NotContains(t, err.Error(), "MfKQ9r8G", "secrets are never quoted")
	}
}

// rotationSecrets are two secrets of a rotation, the new one first, and
// one that is neither.
const (
	newSecret   = "whsec_bmV3LXNlY3JldC1vZi10aGUtcm90YXRpb24tMDE="
	otherSecret = "whsec_bm90LWEtbGlzdGVkLXNlY3JldC1hdC1hbGwtMDE="
)

func TestAVerifierOfSeveralSecretsAcceptsOneSignedByAnyAndRefusesOneSignedByNone(t *testing.T) {
	now := func() time.Time { return time.Unix(1614265330, 0) }
	v, err := NewVerifier(newSecret+", "+specSecret, 0, now)
	require.NoError(t, err)
	sign := func(secret string) string {
		key, err := ParseSecret(secret)
		require.NoError(t, err)
		return Sign(key, specID, 1614265330, []byte(specBody))
	}
	assert.NoError(t, v.Verify(specHeaders(sign(newSecret)), []byte(specBody)), "the first (current) secret verifies")
	assert.NoError(t, v.Verify(specHeaders(specSignature), []byte(specBody)), "the second (old) secret verifies")
	assert.ErrorIs(t, v.Verify(specHeaders(sign(otherSecret)), []byte(specBody)), ErrSignatureInvalid, "a secret not listed does not")
	assert.Equal(t, sign(newSecret), v.Sign(specID, 1614265330, []byte(specBody)), "Sign uses the first secret")
}

func TestParseSecretsNamesTheBadEntryWithoutQuotingIt(t *testing.T) {
	keys, err := ParseSecrets(specSecret)
	require.NoError(t, err)
	assert.Len(t, keys, 1, "a single secret is a list of one")

	for list, position := range map[string]string{
		specSecret + ",MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": "entry 2",
		"whsec_not base64!," + specSecret:                "entry 1",
		specSecret + ",," + newSecret:                    "entry 2",
		specSecret + ", whsec_":                          "entry 2",
	} {
		_, err := ParseSecrets(list)
		require.Error(t, err, "%q", list)
		assert.Contains(t, err.Error(), position, "%q", list)
		assert.NotContains(t, err.Error(), "MfKQ9r8G", "secrets are never quoted")
	}
}
