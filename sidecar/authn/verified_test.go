package authn

import (
	"testing"
	"time"
)

func TestVerifiedHoldsATokenUntilItsExpiry(t *testing.T) {
	var v verified
	now := time.Unix(1_000_000, 0)
	id := &Identity{Subject: "ci", Claims: map[string]any{"exp": float64(now.Unix() + 30)}}
	key := tokenKey("token-a")
	v.put(key, id, now, oidcVerifiedFor)

	if got, ok := v.get(key, now.Add(29*time.Second)); !ok || got != id {
		t.Fatalf("a verified token was not remembered before its exp")
	}
	if _, ok := v.get(key, now.Add(30*time.Second)); ok {
		t.Fatalf("a token was remembered past its exp")
	}
	if _, ok := v.get(tokenKey("token-b"), now); ok {
		t.Fatalf("another token was taken for a verified one")
	}
}

func TestVerifiedCapsHowLongAVerificationHolds(t *testing.T) {
	var v verified
	now := time.Unix(1_000_000, 0)
	id := &Identity{Subject: "sa", Claims: map[string]any{"exp": float64(now.Unix() + 3600)}}
	key := tokenKey("token")
	v.put(key, id, now, kubeVerifiedFor)
	if _, ok := v.get(key, now.Add(kubeVerifiedFor)); ok {
		t.Fatalf("a verification held longer than its cap")
	}
	v.put(tokenKey("expired"), &Identity{Claims: map[string]any{"exp": float64(now.Unix() - 1)}}, now, oidcVerifiedFor)
	if _, ok := v.get(tokenKey("expired"), now); ok {
		t.Fatalf("an expired token was remembered")
	}
}

func TestVerifiedIsBounded(t *testing.T) {
	var v verified
	now := time.Unix(1_000_000, 0)
	for i := range maxVerified + 10 {
		v.put(tokenKey(string(rune(i))+"-token"), &Identity{}, now, time.Minute)
	}
	if n := v.count.Load(); n > maxVerified {
		t.Fatalf("cache holds %d entries, more than %d", n, maxVerified)
	}
}
