package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role is what an API key may do; the API's access rules are written per role.
type Role string

// The roles an API key can have.
const (
	RoleIntegration    Role = "integration"
	RoleAgent          Role = "agent"
	RoleAccountManager Role = "account_manager"
	RoleSecurity       Role = "security"
	RoleTrustSafety    Role = "trust_safety"
	RoleAdmin          Role = "admin"
)

// Roles lists every role, in the order the README's matrix shows them.
var Roles = []Role{RoleIntegration, RoleAgent, RoleAccountManager, RoleSecurity, RoleTrustSafety, RoleAdmin}

// ParseRole answers the role named s, or an error listing the valid ones.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("unknown role %q: want one of %s", s, strings.Join(names, ", "))
}

// APIKey is a stored key, without its secret.
type APIKey struct {
	ID        int64
	Name      string
	Role      Role
	Prefix    string
	CreatedAt time.Time
}

// keyPrefix starts every key so a leaked one is easy to recognise in logs and scanners.
const keyPrefix = "hk_"

// CreateAPIKey stores a new key and answers it with its secret, which is
// never stored and cannot be shown again.
func (s *Store) CreateAPIKey(ctx context.Context, name string, role Role) (APIKey, string, error) {
	if strings.TrimSpace(name) == "" {
		return APIKey{}, "", errors.New("create API key: name must not be empty")
	}
	if _, err := ParseRole(string(role)); err != nil {
		return APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	k := APIKey{Name: name, Role: role, Prefix: secret[:len(keyPrefix)+6]}
	err := s.pool.QueryRow(ctx,
		`INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ($1, $2, $3, $4)
		 RETURNING id, created_at`,
		k.Name, string(k.Role), hashKey(secret), k.Prefix).Scan(&k.ID, &k.CreatedAt)
	if err != nil {
		return APIKey{}, "", fmt.Errorf("create API key %q: %w", name, err)
	}
	return k, secret, nil
}

// LookupAPIKey answers the live key whose secret is given, or ErrNotFound.
func (s *Store) LookupAPIKey(ctx context.Context, secret string) (APIKey, error) {
	var k APIKey
	var role string
	err := s.pool.QueryRow(ctx,
		`SELECT id, name, role, key_prefix, created_at FROM api_keys
		 WHERE key_hash = $1 AND revoked_at IS NULL`,
		hashKey(secret)).Scan(&k.ID, &k.Name, &role, &k.Prefix, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("look up API key: %w", err)
	}
	k.Role = Role(role)
	return k, nil
}

// hashKey is what is stored of a key. Keys carry 256 random bits, so a plain
// SHA-256 resists guessing as well as a slow hash would and costs one
// index lookup per request.
func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
