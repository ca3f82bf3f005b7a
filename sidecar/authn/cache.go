package authn

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"
)

// CacheOptions tune how a Cache talks to issuers. Zero values take defaults.
type CacheOptions struct {
	// HTTPClient fetches discovery documents and key sets. Default: a client
	// with a 10 s timeout.
	HTTPClient *http.Client
	// KeyRefetchInterval is the least time between two key-set fetches of
	// one issuer, however many tokens with unknown key ids arrive. Default 10 s.
	KeyRefetchInterval time.Duration
	// KeyMaxAge is how long a key set is used before it is refetched (at the
	// same limited rate), so keys the issuer withdrew stop verifying. Default 1 h.
	KeyMaxAge time.Duration
	// DiscoveryRetryMin and DiscoveryRetryMax bound the exponential backoff
	// between failed discovery attempts. Defaults 1 s and 30 s.
	DiscoveryRetryMin, DiscoveryRetryMax time.Duration
}

// Cache holds, per issuer URL, the discovered provider and its key set. One
// Cache lives as long as the sidecar and is handed to every Authenticator it
// builds (WithCache), so a configuration change refetches nothing.
type Cache struct {
	opts CacheOptions

	mu      sync.Mutex
	issuers map[string]*remoteIssuer
}

// NewCache returns an empty Cache.
func NewCache(o CacheOptions) *Cache {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	o.KeyRefetchInterval = cmp.Or(o.KeyRefetchInterval, 10*time.Second)
	o.KeyMaxAge = cmp.Or(o.KeyMaxAge, time.Hour)
	o.DiscoveryRetryMin = cmp.Or(o.DiscoveryRetryMin, time.Second)
	o.DiscoveryRetryMax = max(cmp.Or(o.DiscoveryRetryMax, 30*time.Second), o.DiscoveryRetryMin)
	return &Cache{opts: o, issuers: map[string]*remoteIssuer{}}
}

func (c *Cache) issuer(url string) *remoteIssuer {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.issuers[url]
	if !ok {
		r = &remoteIssuer{url: url, opts: &c.opts}
		c.issuers[url] = r
	}
	return r
}

// fetchTimeout bounds a shared fetch, which runs detached from the request
// that started it so that one caller giving up does not fail the others.
const fetchTimeout = 30 * time.Second

// remoteIssuer discovers an issuer once, retrying with backoff while it
// fails, and then hands out a verifier bound to its rate-limited key set.
type remoteIssuer struct {
	url  string
	opts *CacheOptions

	mu       sync.Mutex
	v        *oidc.IDTokenVerifier // nil until discovered
	inflight chan struct{}         // closed when the running attempt ends
	failures int
	retryAt  time.Time
	lastErr  error
}

// verifier returns the issuer's verifier, discovering it first if needed.
// Until discovery succeeds it fails, without waiting for the next attempt.
func (r *remoteIssuer) verifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	r.mu.Lock()
	if r.v != nil {
		defer r.mu.Unlock()
		return r.v, nil
	}
	done := r.inflight
	if done == nil {
		if time.Now().Before(r.retryAt) {
			defer r.mu.Unlock()
			return nil, r.lastErr
		}
		done = make(chan struct{})
		r.inflight = done
		go r.discover(done)
	}
	r.mu.Unlock()

	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-done:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v != nil {
		return r.v, nil
	}
	return nil, r.lastErr
}

func (r *remoteIssuer) discover(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	var v *oidc.IDTokenVerifier
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, r.opts.HTTPClient), r.url)
	if err == nil {
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err = p.Claims(&meta); err == nil && meta.JWKSURI == "" {
			err = errors.New("discovery document has no jwks_uri")
		}
		if err == nil {
			ks := &keySet{url: meta.JWKSURI, opts: r.opts, limiter: rate.NewLimiter(rate.Every(r.opts.KeyRefetchInterval), 1)}
			v = oidc.NewVerifier(r.url, ks, &oidc.Config{
				SupportedSigningAlgs: supportedAlgs,
				SkipClientIDCheck:    true, // audiences are checked by oidcIssuer: any of several
				SkipExpiryCheck:      true, // exp and nbf are checked by oidcIssuer, with leeway
			})
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failures++
		backoff := r.opts.DiscoveryRetryMin << min(r.failures-1, 16)
		backoff = min(backoff, r.opts.DiscoveryRetryMax)
		backoff += rand.N(backoff/10 + 1)
		r.retryAt = time.Now().Add(backoff)
		r.lastErr = fmt.Errorf("discovering %s: %w", r.url, err)
	} else {
		r.v, r.failures, r.lastErr = v, 0, nil
	}
	r.inflight = nil
	close(done)
}

// keySet is an oidc.KeySet over an issuer's JWKS. Unlike go-oidc's
// RemoteKeySet, which refetches on every token with an unknown kid (or a bad
// signature), it refetches at most once per KeyRefetchInterval, so a flood
// of forged tokens cannot turn the sidecar against the issuer.
type keySet struct {
	url     string
	opts    *CacheOptions
	limiter *rate.Limiter

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time
	inflight  chan struct{}
	lastErr   error
}

var (
	joseAlgs        = joseAlgorithms()
	errRefetchLimit = errors.New("key set refetch rate-limited")
)

func joseAlgorithms() []jose.SignatureAlgorithm {
	algs := make([]jose.SignatureAlgorithm, len(supportedAlgs))
	for i, a := range supportedAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	return algs
}

// VerifySignature implements oidc.KeySet. The verifier has already checked
// the algorithm; the reason for a failure goes to failSignature.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, joseAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, failSignature(ctx, ReasonMalformed, err)
	}
	hdr := jws.Signatures[0].Header

	keys, fresh := k.cached()
	if !fresh || !hasKey(keys, hdr.KeyID) {
		fetched, err := k.refetch(ctx)
		switch {
		case err == nil:
			keys = fetched
		case len(keys) == 0:
			return nil, failSignature(ctx, ReasonIssuerUnavailable, err)
		}
		// Otherwise (rate-limited or failed) go on with the cached keys.
	}

	matched := false
	for i := range keys {
		key := &keys[i]
		if hdr.KeyID != "" && key.KeyID != hdr.KeyID {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
			continue
		}
		matched = true
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	if !matched {
		return nil, failSignature(ctx, ReasonUnknownKey, errors.New("no published key matches the token's key id"))
	}
	return nil, failSignature(ctx, ReasonBadSignature, errors.New("signature does not verify"))
}

// hasKey: a token without a kid is tried against every key.
func hasKey(keys []jose.JSONWebKey, kid string) bool {
	if kid == "" {
		return len(keys) > 0
	}
	return slices.ContainsFunc(keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid })
}

func (k *keySet) cached() ([]jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, !k.fetchedAt.IsZero() && time.Since(k.fetchedAt) < k.opts.KeyMaxAge
}

// refetch fetches the key set, or joins the fetch under way. It refuses with
// errRefetchLimit when the last fetch started less than an interval ago.
func (k *keySet) refetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	done := k.inflight
	if done == nil {
		if !k.limiter.Allow() {
			k.mu.Unlock()
			return nil, errRefetchLimit
		}
		done = make(chan struct{})
		k.inflight = done
		go k.fetch(done)
	}
	k.mu.Unlock()

	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-done:
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.lastErr
}

func (k *keySet) fetch(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	keys, err := fetchKeys(ctx, k.opts.HTTPClient, k.url)

	k.mu.Lock()
	defer k.mu.Unlock()
	if err == nil {
		k.keys, k.fetchedAt = keys, time.Now()
	}
	k.lastErr = err
	k.inflight = nil
	close(done)
}

// maxKeySetBytes bounds a JWKS response.
const maxKeySetBytes = 1 << 20

func fetchKeys(ctx context.Context, client *http.Client, url string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching keys from %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching keys: %w", err)
	}
	if len(body) > maxKeySetBytes {
		return nil, fmt.Errorf("key set from %s is larger than %d bytes", url, maxKeySetBytes)
	}
	keys, err := parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("key set from %s: %w", url, err)
	}
	return keys, nil
}

// parseKeySet keeps the public signature keys this package can use and skips
// the rest (RFC 7517 §5: ignore keys that are not understood).
func parseKeySet(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var meta struct {
			Use string `json:"use"`
			Alg string `json:"alg"`
		}
		if json.Unmarshal(raw, &meta) != nil ||
			(meta.Use != "" && meta.Use != "sig") ||
			(meta.Alg != "" && !slices.Contains(supportedAlgs, meta.Alg)) {
			continue
		}
		var key jose.JSONWebKey
		if key.UnmarshalJSON(raw) != nil {
			continue
		}
		switch pub := key.Key.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() < 2048 {
				continue
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default: // symmetric or private keys have no place in a JWKS
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable signature keys")
	}
	return keys, nil
}
