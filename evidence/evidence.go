// Package evidence stores the files attached to cases and deliveries in S3: the object
// key layout, the checksum tag, the put, Object Lock retention and
// presigned download links. The API's uploads and the identity-check
// records of account recoveries both go through it.
package evidence

import (
	"crypto/rand"
	"encoding/base32"
)

// ChecksumTag is the S3 object tag that holds an evidence object's SHA-256
// in lowercase hex: uploads through the API and identity-check records
// both carry it.
const ChecksumTag = "sha256"

// ChecksumTagging answers the x-amz-tagging value that sets ChecksumTag to
// sum in the request that stores an object.
func ChecksumTagging(sum string) string { return ChecksumTag + "=" + sum }

// Key names the object of one evidence file of a case:
// cases/<case id>/<evidence id>. It is never derived from the client's
// file name, so a caller cannot pick or collide with another case's keys.
func Key(caseID, evidenceID string) string {
	return "cases/" + caseID + "/" + evidenceID
}

// DeliveryKey names the object of one evidence file of an account
// delivery: deliveries/<delivery id>/<evidence id>, beside the cases' keys
// and, like them, never derived from the client's file name.
func DeliveryKey(deliveryID, evidenceID string) string {
	return "deliveries/" + deliveryID + "/" + evidenceID
}

// SellerKey names the object of one document of a seller (an ID card, a
// registration extract): sellers/<seller id>/<evidence id>, never derived
// from the client's file name.
func SellerKey(sellerID, evidenceID string) string {
	return "sellers/" + sellerID + "/" + evidenceID
}

// NewID answers a new random evidence id: "E-" and 16 base32 characters
// (80 random bits), short enough for a URL and unguessable.
func NewID() string {
	b := make([]byte, 10)
	// crypto/rand.Read never fails on the platforms Go supports (it
	// crashes the program instead), so the error carries nothing.
	_, _ = rand.Read(b)
	return "E-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}
