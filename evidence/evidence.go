// Package evidence stores the files attached to cases in S3: the object
// key layout, the checksum tag, the put, Object Lock retention and
// presigned download links. The API's uploads and the identity-check
// records of account recoveries both go through it.
package evidence

// ChecksumTag is the S3 object tag that holds an evidence object's SHA-256
// in lowercase hex: uploads through the API and identity-check records
// both carry it.
const ChecksumTag = "sha256"

// ChecksumTagging answers the x-amz-tagging value that sets ChecksumTag to
// sum in the request that stores an object.
func ChecksumTagging(sum string) string { return ChecksumTag + "=" + sum }
