package main

import (
	"context"
	"crypto/sha256"
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

// cachedKeys answers lookup with its live keys remembered for ttl, so most
// requests authenticate without a SQL statement. Unknown keys are not
// remembered: a wrong key always asks Postgres (and waits its turn there).
func cachedKeys(lookup keyLookup, ttl time.Duration, now func() time.Time) keyLookup {
	type entry struct {
		key     store.APIKey
		expires time.Time
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
		if err != nil {
			return key, err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(cache) >= keyCacheSize {
			for k, e := range cache {
				if !t.Before(e.expires) {
					delete(cache, k)
				}
			}
			if len(cache) >= keyCacheSize {
				clear(cache)
			}
		}
		cache[h] = entry{key: key, expires: t.Add(ttl)}
		return key, nil
	}
}
