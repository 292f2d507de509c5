// Package codes derives the one-time verification codes of account
// recoveries and contact changes from a secret, so a code is never stored:
// the worker derives a code from its id to send it, and the workflow keeps
// only its digest, which the API derives again from the code a customer
// types. Whoever holds neither the secret nor the code learns nothing from
// a workflow history.
package codes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Digits is how many decimal digits a code has.
const Digits = 6

// Code answers the code of id: Digits decimal digits derived from
// HMAC-SHA256(secret, "code\x00"+id). The same secret and id always answer
// the same code, so a retried send sends the code already sent.
func Code(secret []byte, id string) string {
	sum := mac(secret, "code\x00"+id)
	// 2^64 is ~1.8e13 times 1e6, so the modulo bias is negligible.
	return fmt.Sprintf("%0*d", Digits, binary.BigEndian.Uint64(sum[:8])%1_000_000)
}

// Digest answers what a workflow compares a typed code by: the hex
// HMAC-SHA256(secret, "digest\x00"+id+"\x00"+Normalize(code)). Being keyed,
// it cannot be turned back into the code by trying the million codes
// without the secret.
func Digest(secret []byte, id, code string) string {
	sum := mac(secret, "digest\x00"+id+"\x00"+Normalize(code))
	return hex.EncodeToString(sum)
}

// Normalize strips the spaces and dashes people type inside a code
// ("123 456", "123-456").
func Normalize(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}

func mac(secret []byte, msg string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
