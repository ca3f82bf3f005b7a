// Package oidctest runs a real OpenID Connect provider for tests, shaped like
// an Okta custom authorization server: issuer <base>/oauth2/default, discovery
// under the issuer, keys at <issuer>/v1/keys, tokens at <issuer>/v1/token, the
// client-credentials grant, and RS256 JWT access tokens carrying cid, scp and
// aud "api://default".
//
// Tokens from ClientCredentialsToken come from the OP's own token endpoint
// (github.com/zitadel/oidc/v3/pkg/op) over HTTP. Sign and Tamper craft the bad
// tokens that negative tests need, with the provider's real key or another.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// DefaultAudience is the audience of Okta's default authorization server.
const DefaultAudience = "api://default"

// TB is the part of testing.TB that Start needs; ginkgo's GinkgoT() satisfies it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Options shape the provider.
type Options struct {
	// Audience of access tokens unless a client overrides it. Default "api://default".
	Audience string
	// AuthorizationServer is the last path element of the issuer. Default "default".
	AuthorizationServer string
	// TokenLifetime of access tokens. Default 5 minutes.
	TokenLifetime time.Duration
}

// IdP is a running provider. It is safe for concurrent use.
type IdP struct {
	t       TB
	srv     *httptest.Server
	issuer  string
	opts    Options
	storage *storage

	down           atomic.Bool
	keysFetches    atomic.Int64
	discoveryFetch atomic.Int64
	closeOnce      sync.Once
}

// Start runs a provider on 127.0.0.1 and closes it when the test ends.
func Start(t TB, opts Options) *IdP {
	t.Helper()
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.AuthorizationServer == "" {
		opts.AuthorizationServer = "default"
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = 5 * time.Minute
	}

	srv := httptest.NewUnstartedServer(nil)
	issuerPath := "/oauth2/" + opts.AuthorizationServer
	issuer := "http://" + srv.Listener.Addr().String() + issuerPath

	key, err := newSigningKey()
	if err != nil {
		srv.Close()
		t.Fatalf("oidctest: %v", err)
	}
	st := &storage{
		audience: opts.Audience,
		lifetime: opts.TokenLifetime,
		clients:  map[string]*client{},
		keys:     []*signingKey{key},
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:       [32]byte(randomBytes(32)),
		SupportedScopes: []string{},
	}, st, op.StaticIssuer(issuer),
		op.WithAllowInsecure(),
		op.WithCustomTokenEndpoint(op.NewEndpoint("v1/token")),
		op.WithCustomKeysEndpoint(op.NewEndpoint("v1/keys")),
		op.WithCustomAuthEndpoint(op.NewEndpoint("v1/authorize")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("v1/introspect")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint("v1/userinfo")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint("v1/revoke")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint("v1/logout")),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint("v1/device/authorize")),
	)
	if err != nil {
		srv.Close()
		t.Fatalf("oidctest: creating provider: %v", err)
	}

	p := &IdP{t: t, srv: srv, issuer: issuer, opts: opts, storage: st}

	const oidcDiscovery = "/.well-known/openid-configuration"
	mux := http.NewServeMux()
	mux.Handle(issuerPath+"/", http.StripPrefix(issuerPath, provider))
	// Okta serves the RFC 8414 document under the issuer as well as at the
	// RFC 8414 location; both carry the same metadata here.
	asMetadata := func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = oidcDiscovery
		provider.ServeHTTP(w, r2)
	}
	mux.HandleFunc(issuerPath+"/.well-known/oauth-authorization-server", asMetadata)
	mux.HandleFunc("/.well-known/oauth-authorization-server"+issuerPath, asMetadata)

	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "identity provider is down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case issuerPath + "/v1/keys":
			p.keysFetches.Add(1)
		case issuerPath + oidcDiscovery:
			p.discoveryFetch.Add(1)
		}
		mux.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(p.Close)
	return p
}

// Issuer is the issuer URL, <base>/oauth2/default.
func (p *IdP) Issuer() string { return p.issuer }

// KeysURL is the JWKS endpoint, <issuer>/v1/keys.
func (p *IdP) KeysURL() string { return p.issuer + "/v1/keys" }

// TokenURL is the token endpoint, <issuer>/v1/token.
func (p *IdP) TokenURL() string { return p.issuer + "/v1/token" }

// Audience is the default audience of access tokens.
func (p *IdP) Audience() string { return p.opts.Audience }

// Close stops the server. It is called automatically at the end of the test.
func (p *IdP) Close() { p.closeOnce.Do(p.srv.Close) }

// SetDown makes every endpoint answer 503 while down is true, to test how
// callers behave while the provider is unavailable.
func (p *IdP) SetDown(down bool) { p.down.Store(down) }

// KeysFetches counts requests to the keys endpoint that were served.
func (p *IdP) KeysFetches() int64 { return p.keysFetches.Load() }

// DiscoveryFetches counts requests to <issuer>/.well-known/openid-configuration that were served.
func (p *IdP) DiscoveryFetches() int64 { return p.discoveryFetch.Load() }

// ClientOption adjusts one client.
type ClientOption func(*client)

// WithAudience sets the audience of this client's tokens, like an access
// policy on another resource would.
func WithAudience(aud ...string) ClientOption {
	return func(c *client) { c.audience = aud }
}

// AddClient registers a client for the client-credentials grant. The client
// may request any of scopes; extraClaims (e.g. "groups") go into its access
// tokens. It replaces a client with the same id.
func (p *IdP) AddClient(id, secret string, scopes []string, extraClaims map[string]any, opts ...ClientOption) {
	c := &client{id: id, secret: secret, scopes: append([]string(nil), scopes...), extra: extraClaims}
	for _, o := range opts {
		o(c)
	}
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	p.storage.clients[id] = c
}

// ClientCredentialsToken fetches an access token from the token endpoint with
// the client-credentials grant, failing the test on any error. Without scopes,
// every scope of the client is granted.
func (p *IdP) ClientCredentialsToken(ctx context.Context, id, secret string, scopes ...string) string {
	p.t.Helper()
	tok, err := p.ClientCredentials(ctx, id, secret, scopes...)
	if err != nil {
		p.t.Fatalf("oidctest: %v", err)
	}
	return tok
}

// ClientCredentials is ClientCredentialsToken returning the error instead,
// for tests of the grant itself.
func (p *IdP) ClientCredentials(ctx context.Context, id, secret string, scopes ...string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("token response (%s): %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token request refused (%s): %s: %s", resp.Status, body.Error, body.Description)
	}
	if body.AccessToken == "" || !strings.EqualFold(body.TokenType, "Bearer") {
		return "", fmt.Errorf("token response without a bearer access token (type %q)", body.TokenType)
	}
	return body.AccessToken, nil
}

// RotateKey makes a new signing key current; the old one stays published in
// the key set, as during a real rotation. It returns the new key id.
func (p *IdP) RotateKey() string {
	p.t.Helper()
	key, err := newSigningKey()
	if err != nil {
		p.t.Fatalf("oidctest: %v", err)
	}
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	p.storage.keys = append([]*signingKey{key}, p.storage.keys...)
	return key.id
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

func randomID(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(15))
}

func newSigningKey() (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating RSA key: %w", err)
	}
	return &signingKey{id: randomID(""), key: k}, nil
}
