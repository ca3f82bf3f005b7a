package authn

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
)

// Identity is who is calling, after verification. Policies match on it.
type Identity struct {
	Issuer  string // name of the configured issuer that verified the token
	Subject string
	Groups  []string
	Scopes  []string
	Claims  map[string]any // all verified claims (never the raw token)
}

// Config is spec.authentication of an MCPServer.
type Config struct {
	// Resource is the canonical URL callers must hold a token for (RFC 8707).
	// Issuers without audiences accept tokens whose aud contains it.
	Resource string
	Issuers  []IssuerConfig
}

// IssuerConfig is one trusted issuer: exactly one of OIDC and Kubernetes.
type IssuerConfig struct {
	Name       string
	OIDC       *OIDCConfig
	Kubernetes *KubernetesConfig
}

// OIDCConfig trusts JWT access tokens from an OpenID provider.
type OIDCConfig struct {
	IssuerURL string
	// Audiences accepted in aud; any one suffices. Default: Config.Resource.
	Audiences     []string
	ClaimMappings ClaimMappings
}

// ClaimMappings name the claims an Identity is built from.
type ClaimMappings struct {
	Subject string // default "sub"
	Groups  string // default "groups"; a string array or a single string
	// Scopes defaults to "scp"; a string array or a space-separated string.
	// When the claim is absent, "scope" (RFC 9068) is read instead.
	Scopes string
}

// KubernetesConfig trusts service-account tokens, checked with TokenReview.
type KubernetesConfig struct {
	// Audiences the token must be bound to; default Config.Resource. Never
	// empty: a token for the API server itself must not be accepted here.
	Audiences []string
}

const (
	// leeway for clock skew on exp and nbf.
	leeway = 30 * time.Second
	// maxTokenBytes bounds what is parsed; real access tokens are a few KiB.
	maxTokenBytes = 16 << 10
)

// supportedAlgs are the only signature algorithms accepted: asymmetric ones,
// so never "none" and never HMAC keyed with a public key.
var supportedAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// Option configures New.
type Option func(*options)

type options struct {
	cache        *Cache
	tokenReviews authenticationv1client.TokenReviewsGetter
}

// WithCache shares discovery documents and key sets with earlier and later
// Authenticators. A proxy that rebuilds its Authenticator on every
// configuration change should pass the same Cache each time.
func WithCache(c *Cache) Option { return func(o *options) { o.cache = c } }

// WithTokenReviews is the client for Kubernetes issuers, e.g.
// clientset.AuthenticationV1(). Required when one is configured.
func WithTokenReviews(c authenticationv1client.TokenReviewsGetter) Option {
	return func(o *options) { o.tokenReviews = c }
}

// Authenticator verifies requests against one Config. It is immutable and
// safe for concurrent use; build a new one when the configuration changes.
type Authenticator struct {
	oidc map[string]*oidcIssuer // by issuer URL
	kube *kubeIssuer
	now  func() time.Time
	// seen holds tokens already verified; Identities from it are shared and
	// must not be modified.
	seen verified
}

// New validates cfg and builds an Authenticator. It does no network I/O:
// issuers are discovered on first use (and in the background from now on),
// so the sidecar starts while an issuer is down and refuses its tokens until
// it is back. ctx bounds only that background warm-up.
func New(ctx context.Context, cfg Config, opts ...Option) (*Authenticator, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.cache == nil {
		o.cache = NewCache(CacheOptions{})
	}
	if len(cfg.Issuers) == 0 {
		return nil, errors.New("authn: no issuers configured")
	}
	a := &Authenticator{oidc: map[string]*oidcIssuer{}, now: time.Now}
	names := map[string]bool{}
	for i, ic := range cfg.Issuers {
		if ic.Name == "" {
			return nil, fmt.Errorf("authn: issuers[%d]: name is required", i)
		}
		if names[ic.Name] {
			return nil, fmt.Errorf("authn: issuer %q is configured twice", ic.Name)
		}
		names[ic.Name] = true
		switch {
		case (ic.OIDC == nil) == (ic.Kubernetes == nil):
			return nil, fmt.Errorf("authn: issuer %q: set exactly one of oidc and kubernetes", ic.Name)
		case ic.OIDC != nil:
			iss, err := newOIDCIssuer(ic.Name, *ic.OIDC, cfg.Resource, o.cache)
			if err != nil {
				return nil, err
			}
			if _, dup := a.oidc[iss.url]; dup {
				return nil, fmt.Errorf("authn: issuer %q: issuer URL %s is configured twice", ic.Name, iss.url)
			}
			a.oidc[iss.url] = iss
		default:
			if a.kube != nil {
				return nil, fmt.Errorf("authn: issuer %q: only one kubernetes issuer may be configured", ic.Name)
			}
			if o.tokenReviews == nil {
				return nil, fmt.Errorf("authn: issuer %q: kubernetes issuers need a TokenReview client (WithTokenReviews)", ic.Name)
			}
			aud := orResource(ic.Kubernetes.Audiences, cfg.Resource)
			if len(aud) == 0 {
				return nil, fmt.Errorf("authn: issuer %q: no audiences and no resource", ic.Name)
			}
			a.kube = &kubeIssuer{name: ic.Name, audiences: aud, reviews: o.tokenReviews.TokenReviews()}
		}
	}
	for _, iss := range a.oidc {
		go func() { _, _ = iss.remote.verifier(ctx) }()
	}
	return a, nil
}

func newOIDCIssuer(name string, c OIDCConfig, resource string, cache *Cache) (*oidcIssuer, error) {
	u, err := url.Parse(c.IssuerURL)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("authn: issuer %q: issuer URL %q is not an absolute URL", name, c.IssuerURL)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, fmt.Errorf("authn: issuer %q: issuer URL must use https", name)
	}
	aud := orResource(c.Audiences, resource)
	if len(aud) == 0 {
		return nil, fmt.Errorf("authn: issuer %q: no audiences and no resource", name)
	}
	m := c.ClaimMappings
	m.Subject = cmp.Or(m.Subject, "sub")
	m.Groups = cmp.Or(m.Groups, "groups")
	m.Scopes = cmp.Or(m.Scopes, "scp")
	return &oidcIssuer{name: name, url: c.IssuerURL, audiences: aud, mappings: m, remote: cache.issuer(c.IssuerURL)}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orResource(aud []string, resource string) []string {
	if len(aud) > 0 {
		return slices.Clone(aud)
	}
	if resource != "" {
		return []string{resource}
	}
	return nil
}

// Authenticate verifies the bearer token of r. The error is an *Error.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	raw, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	now := a.now()
	key := tokenKey(raw)
	if id, ok := a.seen.get(key, now); ok {
		return id, nil
	}
	p, err := peek(raw)
	if err != nil {
		return nil, err
	}
	// p is unverified: it only picks the issuer that verifies the token.
	if iss, ok := a.oidc[p.Issuer]; ok {
		id, err := iss.verify(ctx, raw, now)
		if err == nil {
			a.seen.put(key, id, now, oidcVerifiedFor)
		}
		return id, err
	}
	if a.kube != nil && p.isKubernetes() {
		id, err := a.kube.review(ctx, raw)
		if err == nil {
			a.seen.put(key, id, now, kubeVerifiedFor)
		}
		return id, err
	}
	return nil, newError(ReasonUnknownIssuer, nil)
}

// bearerToken reads the token from the Authorization header, the only place
// it is accepted (never the query string).
func bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", newError(ReasonMissingToken, nil)
	case 1:
	default:
		return "", newError(ReasonInvalidRequest, nil)
	}
	scheme, tok, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", newError(ReasonUnsupportedScheme, nil)
	}
	tok = strings.TrimSpace(tok)
	switch {
	case tok == "":
		return "", newError(ReasonMissingToken, nil)
	case len(tok) > maxTokenBytes:
		return "", newError(ReasonMalformed, errors.New("token too large"))
	}
	return tok, nil
}

// peeked is what routing needs from a token before it is verified.
type peeked struct {
	Issuer     string          `json:"iss"`
	Kubernetes json.RawMessage `json:"kubernetes.io"`
}

// isKubernetes says whether an unverified token looks like a service-account
// token: bound tokens carry a kubernetes.io claim, legacy ones a fixed issuer.
func (p *peeked) isKubernetes() bool {
	return len(p.Kubernetes) > 0 || p.Issuer == "kubernetes/serviceaccount"
}

// peek decodes, without verifying, the header and payload of a compact JWS,
// and refuses algorithms outside supportedAlgs before any key is looked at.
func peek(raw string) (*peeked, error) {
	h, rest, ok := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return nil, newError(ReasonMalformed, errors.New("not a compact JWS"))
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(h, &header); err != nil {
		return nil, newError(ReasonMalformed, fmt.Errorf("header: %w", err))
	}
	if !slices.Contains(supportedAlgs, header.Alg) {
		return nil, newError(ReasonUnsupportedAlgorithm, nil)
	}
	p := &peeked{}
	if err := decodeSegment(payload, p); err != nil {
		return nil, newError(ReasonMalformed, fmt.Errorf("payload: %w", err))
	}
	return p, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("invalid base64url")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("invalid JSON")
	}
	return nil
}
