package authn_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

func TestAuthn(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "authn")
}

// Two Okta-shaped providers for the whole suite: idp is trusted, other is not.
// Specs that count requests or take a provider down start their own.
var idp, other *oidctest.IdP

var _ = BeforeSuite(func() {
	idp = oidctest.Start(GinkgoT(), oidctest.Options{})
	other = oidctest.Start(GinkgoT(), oidctest.Options{})
	idp.AddClient("ci-deployer", "deployer-secret", []string{"mcp:tools", "mcp:read"}, map[string]any{"groups": []string{"ml-ops", "ci"}})
	idp.AddClient("agent", "agent-secret", []string{"mcp:read"}, nil)
	idp.AddClient("other-api", "other-secret", []string{"mcp:read"}, nil, oidctest.WithAudience("api://billing"))
	other.AddClient("ci-deployer", "deployer-secret", []string{"mcp:tools"}, nil)
})

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func reasonOf(err error) authn.Reason {
	var e *authn.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// oktaConfig trusts idp under the name "okta" for the default audience.
func oktaConfig(p *oidctest.IdP) authn.Config {
	return authn.Config{
		Resource: "https://mcp.example.com/mcp",
		Issuers: []authn.IssuerConfig{{
			Name: "okta",
			OIDC: &authn.OIDCConfig{IssuerURL: p.Issuer(), Audiences: []string{p.Audience()}},
		}},
	}
}
