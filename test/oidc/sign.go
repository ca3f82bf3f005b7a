package oidctest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is one RSA key of the provider.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the published half of a signingKey.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

func (p *IdP) currentKey() *signingKey {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	return p.storage.keys[0]
}

// KeyID is the kid of the current signing key.
func (p *IdP) KeyID() string { return p.currentKey().id }

// PublicKeyPEM is the current public key as PKIX PEM: the bytes an attacker
// would use as the HMAC secret in an algorithm-confusion attack.
func (p *IdP) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&p.currentKey().key.PublicKey)
	if err != nil {
		p.t.Fatalf("oidctest: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Claims returns the claims the token endpoint would put into an access token
// for clientID (without the client's extra claims), valid from now on. Tests
// change them and Sign the result.
func (p *IdP) Claims(clientID string, scopes ...string) map[string]any {
	now := time.Now()
	return map[string]any{
		"ver":       1,
		"iss":       p.issuer,
		"sub":       clientID,
		"cid":       clientID,
		"client_id": clientID,
		"aud":       []string{p.opts.Audience},
		"scp":       append([]string{}, scopes...),
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(p.opts.TokenLifetime).Unix(),
		"jti":       randomID("AT."),
	}
}

// SignOption changes how Sign builds the token.
type SignOption func(*signConfig)

type signConfig struct {
	alg    string
	kid    string
	key    *rsa.PrivateKey
	secret []byte
}

// WithKeyID sets the kid header, e.g. to one the provider never published.
func WithKeyID(kid string) SignOption { return func(c *signConfig) { c.kid = kid } }

// WithKey signs with another RSA key (RS256); the kid stays the provider's
// unless WithKeyID changes it.
func WithKey(key *rsa.PrivateKey) SignOption { return func(c *signConfig) { c.key = key } }

// WithAlgNone produces an unsigned token: alg "none" and an empty signature.
func WithAlgNone() SignOption { return func(c *signConfig) { c.alg = "none" } }

// WithHS256 signs with HMAC-SHA256 using secret, e.g. PublicKeyPEM().
func WithHS256(secret []byte) SignOption {
	return func(c *signConfig) { c.alg, c.secret = "HS256", secret }
}

// Sign serialises claims as a compact JWT signed with the provider's current
// key and kid (RS256), unless options say otherwise.
func (p *IdP) Sign(claims map[string]any, opts ...SignOption) string {
	p.t.Helper()
	cur := p.currentKey()
	c := signConfig{alg: "RS256", kid: cur.id, key: cur.key}
	for _, o := range opts {
		o(&c)
	}
	header := map[string]any{"alg": c.alg, "typ": "JWT"}
	if c.kid != "" {
		header["kid"] = c.kid
	}
	signingInput := encodeSegment(p.t, header) + "." + encodeSegment(p.t, claims)

	var sig []byte
	switch c.alg {
	case "none":
	case "HS256":
		mac := hmac.New(sha256.New, c.secret)
		mac.Write([]byte(signingInput))
		sig = mac.Sum(nil)
	case "RS256":
		digest := sha256.Sum256([]byte(signingInput))
		var err error
		sig, err = rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, digest[:])
		if err != nil {
			p.t.Fatalf("oidctest: signing: %v", err)
		}
	default:
		p.t.Fatalf("oidctest: unsupported alg %q", c.alg)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Tamper changes the payload of a signed token and keeps its signature, which
// therefore no longer matches.
func (p *IdP) Tamper(token string, mutate func(claims map[string]any)) string {
	p.t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		p.t.Fatalf("oidctest: not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		p.t.Fatalf("oidctest: decoding payload: %v", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		p.t.Fatalf("oidctest: decoding payload: %v", err)
	}
	mutate(claims)
	return parts[0] + "." + encodeSegment(p.t, claims) + "." + parts[2]
}

func encodeSegment(t TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("oidctest: encoding JWT segment: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
