package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"handoff/store"
)

// keyCacheTTL is how long a key found in Postgres is trusted without
// asking again: a revoked key stops working within it.
const keyCacheTTL = 30 * time.Second

// keyCacheSize bounds the cache; past it, expired entries are dropped and
// then the whole cache, which costs one lookup per key.
const keyCacheSize = 10_000

// keyStaleFor is how long a remembered key keeps working while Postgres
// cannot be asked: the read model being down must not stop the actions,
// which only need Temporal. It is no weaker than the TTL, since a key is
// revoked in Postgres and so cannot be revoked meanwhile; past it the
// caller gets the 503 naming Postgres.
const keyStaleFor = 15 * time.Minute

// keyRecheck is how soon a key served stale asks Postgres again, so an
// outage does not cost every request a failed lookup.
const keyRecheck = 5 * time.Second

// cachedKeys answers lookup with its live keys remembered for ttl, so most
// requests authenticate without a SQL statement. Unknown keys are not
// remembered: a wrong key always asks Postgres (and waits its turn there).
// A key remembered before Postgres failed keeps working for keyStaleFor
// after it was last confirmed; one Postgres no longer knows is forgotten.
func cachedKeys(lookup keyLookup, ttl time.Duration, now func() time.Time) keyLookup {
	type entry struct {
		key       store.APIKey
		expires   time.Time
		confirmed time.Time
	}
	var mu sync.Mutex
	cache := map[[32]byte]entry{}
	return func(ctx context.Context, secret string) (store.APIKey, error) {
		h := sha256.Sum256([]byte(secret))
		t := now()
		mu.Lock()
		e, ok := cache[h]
		mu.Unlock()
		if ok && t.Before(e.expires) {
			return e.key, nil
		}
		key, err := lookup(ctx, secret)
		switch {
		case errors.Is(err, store.ErrNotFound):
			mu.Lock()
			delete(cache, h)
			mu.Unlock()
			return key, err
		case err != nil && ok && t.Sub(e.confirmed) < keyStaleFor:
			e.expires = t.Add(keyRecheck)
			mu.Lock()
			cache[h] = e
			mu.Unlock()
			return e.key, nil
		case err != nil:
			return key, err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(cache) >= keyCacheSize {
			for k, e := range cache {
				if !t.Before(e.expires) && t.Sub(e.confirmed) >= keyStaleFor {
					delete(cache, k)
				}
			}
			if len(cache) >= keyCacheSize {
				clear(cache)
			}
		}
		cache[h] = entry{key: key, expires: t.Add(ttl), confirmed: t}
		return key, nil
	}
}
