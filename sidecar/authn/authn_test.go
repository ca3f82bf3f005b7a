package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

var _ = Describe("Authenticator with an Okta-shaped issuer", func() {
	var (
		ctx   context.Context
		cache *authn.Cache
		a     *authn.Authenticator
	)

	BeforeEach(func() {
		ctx = context.Background()
		cache = authn.NewCache(authn.CacheOptions{})
		var err error
		a, err = authn.New(ctx, oktaConfig(idp), authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())
	})

	It("accepts a client-credentials token from the token endpoint and maps it to an Identity", func() {
		tok := idp.ClientCredentialsToken(ctx, "ci-deployer", "deployer-secret", "mcp:tools", "mcp:read")

		id, err := a.Authenticate(ctx, bearer(tok))
		Expect(err).NotTo(HaveOccurred())
		Expect(id.Issuer).To(Equal("okta"))
		Expect(id.Subject).To(Equal("ci-deployer"))
		Expect(id.Scopes).To(Equal([]string{"mcp:tools", "mcp:read"}))
		Expect(id.Groups).To(Equal([]string{"ml-ops", "ci"}))
		Expect(id.Claims).To(HaveKeyWithValue("cid", "ci-deployer"))
		Expect(id.Claims).To(HaveKeyWithValue("iss", idp.Issuer()))
		Expect(id.Claims).To(HaveKey("jti"))
		for k, v := range id.Claims {
			Expect(v).NotTo(Equal(tok), "claim %s holds the raw token", k)
		}
	})

	It("gives a caller without a groups claim no groups", func() {
		id, err := a.Authenticate(ctx, bearer(idp.ClientCredentialsToken(ctx, "agent", "agent-secret")))
		Expect(err).NotTo(HaveOccurred())
		Expect(id.Subject).To(Equal("agent"))
		Expect(id.Groups).To(BeEmpty())
		Expect(id.Scopes).To(Equal([]string{"mcp:read"}))
	})

	It("accepts any one of several configured audiences, and defaults them to the resource", func() {
		cfg := oktaConfig(idp)
		cfg.Issuers[0].OIDC.Audiences = []string{"api://billing", "api://elsewhere"}
		billing, err := authn.New(ctx, cfg, authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())
		_, err = billing.Authenticate(ctx, bearer(idp.ClientCredentialsToken(ctx, "other-api", "other-secret")))
		Expect(err).NotTo(HaveOccurred())

		cfg = oktaConfig(idp)
		cfg.Resource = "api://default"
		cfg.Issuers[0].OIDC.Audiences = nil
		byResource, err := authn.New(ctx, cfg, authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())
		_, err = byResource.Authenticate(ctx, bearer(idp.ClientCredentialsToken(ctx, "agent", "agent-secret")))
		Expect(err).NotTo(HaveOccurred())
	})

	It("reads configured claim names, and a space-separated scope claim when scp is absent", func() {
		cfg := oktaConfig(idp)
		cfg.Issuers[0].OIDC.ClaimMappings = authn.ClaimMappings{Subject: "cid", Groups: "roles"}
		mapped, err := authn.New(ctx, cfg, authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())

		claims := idp.Claims("svc-1")
		claims["sub"] = "ignored"
		claims["roles"] = "auditor"
		delete(claims, "scp")
		claims["scope"] = "mcp:read mcp:tools"
		id, err := mapped.Authenticate(ctx, bearer(idp.Sign(claims)))
		Expect(err).NotTo(HaveOccurred())
		Expect(id.Subject).To(Equal("svc-1"))
		Expect(id.Groups).To(Equal([]string{"auditor"}))
		Expect(id.Scopes).To(Equal([]string{"mcp:read", "mcp:tools"}))
	})

	It("tolerates small clock skew on exp and nbf", func() {
		claims := idp.Claims("agent", "mcp:read")
		claims["exp"] = time.Now().Add(-10 * time.Second).Unix()
		_, err := a.Authenticate(ctx, bearer(idp.Sign(claims)))
		Expect(err).NotTo(HaveOccurred())

		claims = idp.Claims("agent", "mcp:read")
		claims["nbf"] = time.Now().Add(10 * time.Second).Unix()
		_, err = a.Authenticate(ctx, bearer(idp.Sign(claims)))
		Expect(err).NotTo(HaveOccurred())
	})

	It("accepts the scheme name in any case", func() {
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		r.Header.Set("Authorization", "bearer "+idp.ClientCredentialsToken(ctx, "agent", "agent-secret"))
		_, err := a.Authenticate(ctx, r)
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("refuses",
		func(req func() *http.Request, want authn.Reason) {
			r := req()
			id, err := a.Authenticate(ctx, r)
			Expect(id).To(BeNil())
			Expect(reasonOf(err)).To(Equal(want), "error: %v", err)

			// Neither the error nor the header the proxy builds from it may quote the token.
			_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			hdr := authn.WWWAuthenticate("https://mcp.example.com/.well-known/oauth-protected-resource/mcp", err)
			Expect(hdr).To(HavePrefix(`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`))
			if len(tok) > 8 {
				Expect(err.Error()).NotTo(ContainSubstring(tok))
				Expect(hdr).NotTo(ContainSubstring(tok))
				for _, part := range strings.Split(tok, ".") {
					if len(part) > 8 {
						Expect(err.Error()).NotTo(ContainSubstring(part))
					}
				}
			}
		},
		Entry("a request without an Authorization header", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/mcp", nil)
		}, authn.ReasonMissingToken),
		Entry("a token in the query string only", func() *http.Request {
			tok := idp.ClientCredentialsToken(context.Background(), "agent", "agent-secret")
			return httptest.NewRequest(http.MethodPost, "/mcp?access_token="+tok, nil)
		}, authn.ReasonMissingToken),
		Entry("a Basic Authorization header", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
			r.SetBasicAuth("ci-deployer", "deployer-secret")
			return r
		}, authn.ReasonUnsupportedScheme),
		Entry("two Authorization headers", func() *http.Request {
			r := bearer(idp.ClientCredentialsToken(context.Background(), "agent", "agent-secret"))
			r.Header.Add("Authorization", "Bearer second")
			return r
		}, authn.ReasonInvalidRequest),
		Entry("garbage", func() *http.Request { return bearer("not-a-jwt-at-all") }, authn.ReasonMalformed),
		Entry("a JWE-shaped token with five parts", func() *http.Request {
			return bearer("eyJhbGciOiJSUzI1NiJ9.e30.e30.e30.e30")
		}, authn.ReasonMalformed),
		Entry("an oversized token", func() *http.Request {
			return bearer("eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("A", 20000) + ".c2ln")
		}, authn.ReasonMalformed),
		Entry("an expired token", func() *http.Request {
			c := idp.Claims("agent", "mcp:read")
			c["iat"] = time.Now().Add(-10 * time.Minute).Unix()
			c["nbf"] = c["iat"]
			c["exp"] = time.Now().Add(-2 * time.Minute).Unix()
			return bearer(idp.Sign(c))
		}, authn.ReasonExpired),
		Entry("a token without exp", func() *http.Request {
			c := idp.Claims("agent", "mcp:read")
			delete(c, "exp")
			return bearer(idp.Sign(c))
		}, authn.ReasonInvalidClaim),
		Entry("a token whose nbf is in the future", func() *http.Request {
			c := idp.Claims("agent", "mcp:read")
			c["nbf"] = time.Now().Add(5 * time.Minute).Unix()
			return bearer(idp.Sign(c))
		}, authn.ReasonNotYetValid),
		Entry("a token for the wrong audience", func() *http.Request {
			c := idp.Claims("agent", "mcp:read")
			c["aud"] = "api://someone-else"
			return bearer(idp.Sign(c))
		}, authn.ReasonWrongAudience),
		Entry("a token minted by the token endpoint for another resource", func() *http.Request {
			return bearer(idp.ClientCredentialsToken(context.Background(), "other-api", "other-secret"))
		}, authn.ReasonWrongAudience),
		Entry("a token naming a trusted issuer but signed by another provider's key under the trusted kid", func() *http.Request {
			c := other.Claims("ci-deployer", "mcp:tools")
			c["iss"] = idp.Issuer()
			return bearer(other.Sign(c, oidctest.WithKeyID(idp.KeyID())))
		}, authn.ReasonBadSignature),
		Entry("a token from an issuer that is not trusted", func() *http.Request {
			return bearer(other.ClientCredentialsToken(context.Background(), "ci-deployer", "deployer-secret"))
		}, authn.ReasonUnknownIssuer),
		Entry("a Kubernetes-looking token when no Kubernetes issuer is configured", func() *http.Request {
			c := idp.Claims("system:serviceaccount:ci:deployer")
			c["iss"] = "https://kubernetes.default.svc.cluster.local"
			c["kubernetes.io"] = map[string]any{"namespace": "ci"}
			return bearer(idp.Sign(c))
		}, authn.ReasonUnknownIssuer),
		Entry(`a token with alg "none"`, func() *http.Request {
			return bearer(idp.Sign(idp.Claims("agent", "mcp:read"), oidctest.WithAlgNone()))
		}, authn.ReasonUnsupportedAlgorithm),
		Entry("a token signed with HS256 using the public key as the secret", func() *http.Request {
			return bearer(idp.Sign(idp.Claims("agent", "mcp:read"), oidctest.WithHS256(idp.PublicKeyPEM())))
		}, authn.ReasonUnsupportedAlgorithm),
		Entry("a token signed with a key id the issuer never published", func() *http.Request {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			Expect(err).NotTo(HaveOccurred())
			return bearer(idp.Sign(idp.Claims("agent", "mcp:read"), oidctest.WithKey(key), oidctest.WithKeyID("forged-kid")))
		}, authn.ReasonUnknownKey),
		Entry("a token whose payload was changed after signing", func() *http.Request {
			tok := idp.ClientCredentialsToken(context.Background(), "agent", "agent-secret")
			return bearer(idp.Tamper(tok, func(c map[string]any) { c["sub"], c["scp"] = "admin", []string{"mcp:admin"} }))
		}, authn.ReasonBadSignature),
		Entry("a token without a subject", func() *http.Request {
			c := idp.Claims("agent", "mcp:read")
			delete(c, "sub")
			return bearer(idp.Sign(c))
		}, authn.ReasonInvalidClaim),
		Entry("a token whose scp is not a list of strings", func() *http.Request {
			c := idp.Claims("agent")
			c["scp"] = []any{"mcp:read", 7}
			return bearer(idp.Sign(c))
		}, authn.ReasonInvalidClaim),
	)

	It("does not refetch discovery or keys when rebuilt with the same cache", func() {
		tok := idp.ClientCredentialsToken(ctx, "agent", "agent-secret")
		_, err := a.Authenticate(ctx, bearer(tok))
		Expect(err).NotTo(HaveOccurred())
		discovery, keys := idp.DiscoveryFetches(), idp.KeysFetches()

		cfg := oktaConfig(idp)
		cfg.Issuers[0].Name = "okta-renamed"
		cfg.Issuers[0].OIDC.Audiences = append(cfg.Issuers[0].OIDC.Audiences, "api://also")
		rebuilt, err := authn.New(ctx, cfg, authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())
		id, err := rebuilt.Authenticate(ctx, bearer(tok))
		Expect(err).NotTo(HaveOccurred())
		Expect(id.Issuer).To(Equal("okta-renamed"))
		Expect(idp.DiscoveryFetches()).To(Equal(discovery))
		Expect(idp.KeysFetches()).To(Equal(keys))
	})
})

var _ = Describe("Key set refetching", func() {
	var (
		ctx context.Context
		p   *oidctest.IdP
	)

	BeforeEach(func() {
		ctx = context.Background()
		p = oidctest.Start(GinkgoT(), oidctest.Options{})
		p.AddClient("agent", "agent-secret", []string{"mcp:read"}, nil)
	})

	It("fetches the keys at most once per interval however many tokens carry unknown key ids", func() {
		cache := authn.NewCache(authn.CacheOptions{KeyRefetchInterval: time.Hour})
		a, err := authn.New(ctx, oktaConfig(p), authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())
		forger, err := rsa.GenerateKey(rand.Reader, 2048)
		Expect(err).NotTo(HaveOccurred())
		valid := p.ClientCredentialsToken(ctx, "agent", "agent-secret")
		tampered := p.Tamper(valid, func(c map[string]any) { c["sub"] = "admin" })

		// A flood of forged tokens, each with a new kid, before any valid token.
		var wg sync.WaitGroup
		reasons := make(chan authn.Reason, 200)
		for i := range 200 {
			wg.Go(func() {
				tok := p.Sign(p.Claims("agent"), oidctest.WithKey(forger), oidctest.WithKeyID(fmt.Sprintf("bogus-%d", i)))
				if i%4 == 0 {
					tok = tampered
				}
				_, err := a.Authenticate(ctx, bearer(tok))
				reasons <- reasonOf(err)
			})
		}
		wg.Wait()
		close(reasons)
		for r := range reasons {
			Expect(r).To(BeElementOf(authn.ReasonUnknownKey, authn.ReasonBadSignature))
		}
		Expect(p.KeysFetches()).To(BeEquivalentTo(1))

		// The keys fetched by the first of them serve valid tokens; no new fetch.
		_, err = a.Authenticate(ctx, bearer(valid))
		Expect(err).NotTo(HaveOccurred())
		Expect(p.KeysFetches()).To(BeEquivalentTo(1))
	})

	It("picks up a rotated key once the interval allows a refetch", func() {
		cache := authn.NewCache(authn.CacheOptions{KeyRefetchInterval: 50 * time.Millisecond})
		a, err := authn.New(ctx, oktaConfig(p), authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred())
		_, err = a.Authenticate(ctx, bearer(p.ClientCredentialsToken(ctx, "agent", "agent-secret")))
		Expect(err).NotTo(HaveOccurred())

		p.RotateKey()
		rotated := p.ClientCredentialsToken(ctx, "agent", "agent-secret")
		Eventually(func() error {
			_, err := a.Authenticate(ctx, bearer(rotated))
			return err
		}).WithTimeout(5 * time.Second).Should(Succeed())
	})
})

var _ = Describe("An issuer that is down when the sidecar starts", func() {
	It("refuses tokens while it is down and accepts them once it is back", func() {
		ctx := context.Background()
		p := oidctest.Start(GinkgoT(), oidctest.Options{})
		p.AddClient("agent", "agent-secret", []string{"mcp:read"}, nil)
		tok := p.ClientCredentialsToken(ctx, "agent", "agent-secret")
		p.SetDown(true)

		cache := authn.NewCache(authn.CacheOptions{DiscoveryRetryMin: 10 * time.Millisecond, DiscoveryRetryMax: 100 * time.Millisecond})
		a, err := authn.New(ctx, oktaConfig(p), authn.WithCache(cache))
		Expect(err).NotTo(HaveOccurred(), "the sidecar must start while its issuer is down")
		for range 3 {
			id, err := a.Authenticate(ctx, bearer(tok))
			Expect(id).To(BeNil())
			Expect(reasonOf(err)).To(Equal(authn.ReasonIssuerUnavailable))
			var e *authn.Error
			Expect(err).To(BeAssignableToTypeOf(e))
			Expect(err.(*authn.Error).HTTPStatus()).To(Equal(http.StatusServiceUnavailable))
		}

		p.SetDown(false)
		Eventually(func() error {
			_, err := a.Authenticate(ctx, bearer(tok))
			return err
		}).WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
	})
})
