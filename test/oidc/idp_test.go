package oidctest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDiscoveryIsOktaShaped(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Options{})
	if !strings.HasSuffix(idp.Issuer(), "/oauth2/default") || !strings.HasPrefix(idp.Issuer(), "http://127.0.0.1:") {
		t.Fatalf("issuer %q", idp.Issuer())
	}
	for _, path := range []string{
		idp.Issuer() + "/.well-known/openid-configuration",
		idp.Issuer() + "/.well-known/oauth-authorization-server",
		strings.Replace(idp.Issuer(), "/oauth2/default", "/.well-known/oauth-authorization-server/oauth2/default", 1),
	} {
		d := getJSON(t, path)
		if d["issuer"] != idp.Issuer() || d["jwks_uri"] != idp.Issuer()+"/v1/keys" || d["token_endpoint"] != idp.Issuer()+"/v1/token" {
			t.Errorf("%s: issuer %v, jwks_uri %v, token_endpoint %v", path, d["issuer"], d["jwks_uri"], d["token_endpoint"])
		}
		if !slices.Contains(d["grant_types_supported"].([]any), any("client_credentials")) {
			t.Errorf("%s: grant_types_supported %v", path, d["grant_types_supported"])
		}
	}
	keys := getJSON(t, idp.KeysURL())["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kid"] != idp.KeyID() || keys[0].(map[string]any)["d"] != nil {
		t.Fatalf("keys %v", keys)
	}
}

func TestClientCredentialsTokenHasOktaClaims(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Options{})
	idp.AddClient("ci-deployer", "s3cret", []string{"mcp:read", "mcp:write"}, map[string]any{"groups": []string{"ml-ops"}})
	ctx := context.Background()

	tok := idp.ClientCredentialsToken(ctx, "ci-deployer", "s3cret", "mcp:read")
	c := payload(t, tok)
	if c["iss"] != idp.Issuer() || c["sub"] != "ci-deployer" || c["cid"] != "ci-deployer" || c["jti"] == "" {
		t.Errorf("claims %v", c)
	}
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != oidctest.DefaultAudience {
		t.Errorf("aud %v", c["aud"])
	}
	if scp, _ := c["scp"].([]any); len(scp) != 1 || scp[0] != "mcp:read" {
		t.Errorf("scp %v", c["scp"])
	}
	if groups, _ := c["groups"].([]any); len(groups) != 1 || groups[0] != "ml-ops" {
		t.Errorf("groups %v", c["groups"])
	}
	if exp := time.Unix(int64(c["exp"].(float64)), 0); time.Until(exp) > 5*time.Minute+time.Second || time.Until(exp) < 4*time.Minute {
		t.Errorf("exp %v", exp)
	}
	if all := payload(t, idp.ClientCredentialsToken(ctx, "ci-deployer", "s3cret")); len(all["scp"].([]any)) != 2 {
		t.Errorf("without scope parameter: scp %v", all["scp"])
	}

	if _, err := idp.ClientCredentials(ctx, "ci-deployer", "wrong"); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := idp.ClientCredentials(ctx, "ci-deployer", "s3cret", "admin"); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("scope not granted: %v", err)
	}
}

func TestPerClientAudienceAndDown(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Options{})
	idp.AddClient("other", "x", []string{"a"}, nil, oidctest.WithAudience("api://other"))
	if aud := payload(t, idp.ClientCredentialsToken(context.Background(), "other", "x"))["aud"].([]any); aud[0] != "api://other" {
		t.Errorf("aud %v", aud)
	}
	idp.SetDown(true)
	if _, err := idp.ClientCredentials(context.Background(), "other", "x"); err == nil {
		t.Error("token issued while down")
	}
	idp.SetDown(false)
	n := idp.KeysFetches()
	getJSON(t, idp.KeysURL())
	if idp.KeysFetches() != n+1 {
		t.Errorf("keys fetches %d, want %d", idp.KeysFetches(), n+1)
	}
}

func TestRotateKeyKeepsOldKeyPublished(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Options{})
	old := idp.KeyID()
	cur := idp.RotateKey()
	if cur == old || idp.KeyID() != cur {
		t.Fatalf("kid %q after rotation from %q", idp.KeyID(), old)
	}
	if keys := getJSON(t, idp.KeysURL())["keys"].([]any); len(keys) != 2 {
		t.Fatalf("keys %v", keys)
	}
}
