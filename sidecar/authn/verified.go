package authn

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// Verifying a JWT (parse, signature, claims) costs tens of microseconds and
// a TokenReview a round trip to the API server; a caller presents the same
// token on every call until it expires. verified remembers tokens that
// passed, by their SHA-256 (never the token itself), until the token's exp
// but no longer than a cap, so a revoked service account or a rotated key
// stops working soon. It belongs to one Authenticator: a configuration
// change starts afresh.
type verified struct {
	entries sync.Map // [32]byte -> *verifiedEntry
	count   atomic.Int64
}

type verifiedEntry struct {
	identity *Identity
	until    time.Time
}

const (
	// maxVerified bounds memory; past it the cache starts over.
	maxVerified = 50_000
	// oidcVerifiedFor and kubeVerifiedFor cap how long a verification holds.
	oidcVerifiedFor = 2 * time.Minute
	kubeVerifiedFor = 10 * time.Second
)

func tokenKey(raw string) [32]byte { return sha256.Sum256([]byte(raw)) }

func (v *verified) get(key [32]byte, now time.Time) (*Identity, bool) {
	e, ok := v.entries.Load(key)
	if !ok {
		return nil, false
	}
	entry := e.(*verifiedEntry)
	if !now.Before(entry.until) {
		if v.entries.CompareAndDelete(key, e) {
			v.count.Add(-1)
		}
		return nil, false
	}
	return entry.identity, true
}

// put remembers id until the token's exp claim, capped at maxFor.
func (v *verified) put(key [32]byte, id *Identity, now time.Time, maxFor time.Duration) {
	until := now.Add(maxFor)
	if exp, ok := id.Claims["exp"].(float64); ok {
		if t := time.Unix(int64(exp), 0); t.Before(until) {
			until = t
		}
	}
	if !now.Before(until) {
		return
	}
	if v.count.Add(1) > maxVerified {
		v.entries.Clear()
		v.count.Store(1)
	}
	if _, loaded := v.entries.Swap(key, &verifiedEntry{identity: id, until: until}); loaded {
		v.count.Add(-1)
	}
}
