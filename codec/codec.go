// Package codec keeps customer data out of Temporal's history: every
// payload a Handoff client or worker sends (workflow and activity inputs
// and results, update arguments and results, signals, query results, memo,
// failure messages) is sealed with AES-256-GCM before it leaves the
// process, under a key named in the payload's metadata. Several keys are
// held at once so they rotate: new payloads are sealed under the first,
// payloads sealed under any of them still open. Payloads that were never
// sealed (histories from before the codec) pass through unchanged.
//
// The same codec serves the Temporal Web UI and CLI through the API's
// /codec endpoints (api/codec.go), so an authorised operator reads the
// decrypted payloads and anyone else sees ciphertext.
package codec

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of a sealed payload.
const (
	// Encoding is the sealed payload's encoding.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that sealed the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher, for whoever reads a history by hand.
	MetadataCipher = "encryption-cipher"
	// Cipher is the only cipher.
	Cipher = "AES-256-GCM"
)

// ErrUnknownKey is a payload sealed under a key the keyring does not hold.
var ErrUnknownKey = errors.New("payload sealed under an unknown key")

// keyID is what a key id may hold: it goes into every payload's metadata
// and into the keys file.
var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring is the keys a process seals and opens payloads with; the first
// seals.
type Keyring struct {
	ids  []string
	aead map[string]cipher.AEAD
}

// Key is one named AES-256 key.
type Key struct {
	ID     string
	Secret []byte // 32 bytes
}

// NewKeyring answers a keyring of keys, the first sealing. Ids must be
// distinct and secrets 32 bytes.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("payload keys: none given")
	}
	r := &Keyring{aead: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if !keyID.MatchString(k.ID) {
			return nil, fmt.Errorf("payload keys: id %q must be 1 to 64 of A-Z a-z 0-9 . _ -", k.ID)
		}
		if _, dup := r.aead[k.ID]; dup {
			return nil, fmt.Errorf("payload keys: id %q twice", k.ID)
		}
		if len(k.Secret) != 32 {
			return nil, fmt.Errorf("payload keys: key %q is %d bytes, AES-256 needs 32", k.ID, len(k.Secret))
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("payload keys: key %q: %w", k.ID, err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payload keys: key %q: %w", k.ID, err)
		}
		r.ids = append(r.ids, k.ID)
		r.aead[k.ID] = gcm
	}
	return r, nil
}

// SealingKey answers the id of the key new payloads are sealed under.
func (r *Keyring) SealingKey() string { return r.ids[0] }

// IDs answers the ids of the keys, the sealing one first.
func (r *Keyring) IDs() []string { return append([]string(nil), r.ids...) }

// ParseKeys reads keys written one a line (or separated by commas) as
// "id:base64-of-32-bytes", the first sealing; blank lines and lines
// starting with # are skipped.
func ParseKeys(text string) (*Keyring, error) {
	var keys []Key
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			n++
			id, secret, ok := strings.Cut(strings.TrimSpace(entry), ":")
			if !ok {
				return nil, fmt.Errorf("payload keys: entry %d is not id:base64-key", n)
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
			if err != nil {
				return nil, fmt.Errorf("payload keys: key %q is not base64: %w", strings.TrimSpace(id), err)
			}
			keys = append(keys, Key{ID: strings.TrimSpace(id), Secret: raw})
		}
	}
	return NewKeyring(keys...)
}

// LoadKeys answers the keyring of inline (ParseKeys' format) when it is
// set, else of the file at path.
func LoadKeys(inline, path string) (*Keyring, error) {
	if strings.TrimSpace(inline) != "" {
		return ParseKeys(inline)
	}
	if path == "" {
		return nil, errors.New("payload keys: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("payload keys: %w (make run writes one for the local stack)", err)
	}
	return ParseKeys(string(data))
}

// NewKeyLine answers a fresh key named id in ParseKeys' format.
func NewKeyLine(id string) (string, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, secret); err != nil {
		return "", fmt.Errorf("new payload key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(secret), nil
}

// Codec seals and opens payloads with a keyring; it is a
// converter.PayloadCodec.
type Codec struct {
	ring *Keyring
}

// New answers the codec of ring.
func New(ring *Keyring) *Codec { return &Codec{ring: ring} }

var _ converter.PayloadCodec = (*Codec)(nil)

// Encode seals each payload under the sealing key: the whole payload
// (metadata and data) is the plaintext, the key id the additional data, so
// a payload cannot be moved under another key's name.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.ring.SealingKey()
	gcm := c.ring.aead[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("seal payload: %w", err)
		}
		nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
		if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
			return nil, fmt.Errorf("seal payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(id),
				MetadataCipher:             []byte(Cipher),
			},
			Data: gcm.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode opens each sealed payload with the key it names; a payload that
// is not sealed is answered as it is.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		gcm, ok := c.ring.aead[id]
		if !ok {
			return nil, fmt.Errorf("open payload: %w %q", ErrUnknownKey, id)
		}
		data := p.GetData()
		if len(data) < gcm.NonceSize() {
			return nil, errors.New("open payload: too short to be sealed")
		}
		plain, err := gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("open payload under key %q: %w", id, err)
		}
		var opened commonpb.Payload
		if err := proto.Unmarshal(plain, &opened); err != nil {
			return nil, fmt.Errorf("open payload under key %q: %w", id, err)
		}
		out[i] = &opened
	}
	return out, nil
}

// DataConverter answers the SDK's default converter with c under it.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter answers a failure converter that moves a failure's
// message and stack trace into its sealed attributes: an error message
// may quote what a customer wrote.
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          c.DataConverter(),
		EncodeCommonAttributes: true,
	})
}

// OpenAll opens, in place, every sealed payload of msg (a history, an
// event, any Temporal API message), search attributes aside: to write a
// recorded history as plain payloads, or to read one in a test.
func (c *Codec) OpenAll(ctx context.Context, msg proto.Message) error {
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Decode(ps)
		},
	})
}

// SealAll seals, in place, every payload of msg, search attributes aside.
func (c *Codec) SealAll(ctx context.Context, msg proto.Message) error {
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Encode(ps)
		},
	})
}
