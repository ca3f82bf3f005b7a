package authn_test

import (
	"context"
	"testing"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

// BenchmarkAuthenticate verifies one valid RS256 client-credentials token per
// iteration, with discovery and keys already cached (nothing else is cached).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	p := oidctest.Start(b, oidctest.Options{})
	p.AddClient("ci-deployer", "s", []string{"mcp:tools", "mcp:read"}, map[string]any{"groups": []string{"ml-ops"}})
	a, err := authn.New(ctx, oktaConfig(p), authn.WithCache(authn.NewCache(authn.CacheOptions{})))
	if err != nil {
		b.Fatal(err)
	}
	r := bearer(p.ClientCredentialsToken(ctx, "ci-deployer", "s"))
	if _, err := a.Authenticate(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
