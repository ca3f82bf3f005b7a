package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mcp-airlock/airlock/sidecar/authn"
)

const metadataURL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

// Requests to a refusing Authenticator; no issuer is contacted.
func refusal(t *testing.T, set func(*http.Request)) error {
	t.Helper()
	a, err := authn.New(context.Background(), authn.Config{
		Resource: "https://mcp.example.com/mcp",
		Issuers:  []authn.IssuerConfig{{Name: "okta", OIDC: &authn.OIDCConfig{IssuerURL: "https://127.0.0.1:1/oauth2/default"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodPost, "/mcp", nil)
	set(r)
	_, err = a.Authenticate(context.Background(), r)
	if err == nil {
		t.Fatal("authenticated")
	}
	return err
}

func TestWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   string
		status int
	}{
		{
			name:   "no credentials: no error code (RFC 6750 3.1)",
			err:    refusal(t, func(*http.Request) {}),
			want:   `Bearer resource_metadata="` + metadataURL + `"`,
			status: http.StatusUnauthorized,
		},
		{
			name:   "another scheme counts as no credentials",
			err:    refusal(t, func(r *http.Request) { r.Header.Set("Authorization", "Basic YTpi") }),
			want:   `Bearer resource_metadata="` + metadataURL + `"`,
			status: http.StatusUnauthorized,
		},
		{
			name:   "bad token",
			err:    refusal(t, func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc.def") }),
			want:   `Bearer resource_metadata="` + metadataURL + `", error="invalid_token", error_description="the access token is not a well-formed signed JWT"`,
			status: http.StatusUnauthorized,
		},
		{
			name: "two headers",
			err: refusal(t, func(r *http.Request) {
				r.Header.Add("Authorization", "Bearer a")
				r.Header.Add("Authorization", "Bearer b")
			}),
			want:   `Bearer resource_metadata="` + metadataURL + `", error="invalid_request", error_description="the request carries more than one Authorization header"`,
			status: http.StatusBadRequest,
		},
		{
			name:   "insufficient scope names the scopes",
			err:    authn.InsufficientScope("mcp:tools", "mcp:admin"),
			want:   `Bearer resource_metadata="` + metadataURL + `", error="insufficient_scope", error_description="the access token lacks a required scope", scope="mcp:tools mcp:admin"`,
			status: http.StatusForbidden,
		},
		{
			name: "an unknown error is a generic invalid_token",
			err:  errors.New(`boom "quoted" \ eyJhbGci`),
			want: `Bearer resource_metadata="` + metadataURL + `", error="invalid_token", error_description="the access token could not be verified"`,
		},
		{
			name: "quotes and backslashes cannot break out of a value",
			err:  &authn.Error{Reason: authn.ReasonMalformed, Description: "a \"b\" \\c\r\nd"},
			want: `Bearer resource_metadata="` + metadataURL + `", error="invalid_token", error_description="a b cd"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authn.WWWAuthenticate(metadataURL, tt.err); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			var e *authn.Error
			if tt.status != 0 && errors.As(tt.err, &e) && e.HTTPStatus() != tt.status {
				t.Errorf("status %d, want %d", e.HTTPStatus(), tt.status)
			}
		})
	}
}

func TestProtectedResourceMetadata(t *testing.T) {
	cfg := authn.Config{
		Resource: "https://mcp.example.com/mcp",
		Issuers: []authn.IssuerConfig{
			{Name: "okta", OIDC: &authn.OIDCConfig{IssuerURL: "https://example.okta.com/oauth2/default"}},
			{Name: "cluster", Kubernetes: &authn.KubernetesConfig{}},
		},
	}
	var got map[string]any
	if err := json.Unmarshal(authn.ProtectedResourceMetadata(cfg.Resource, cfg.AuthorizationServers(), "mcp:read"), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"resource":                 "https://mcp.example.com/mcp",
		"authorization_servers":    []any{"https://example.okta.com/oauth2/default"},
		"bearer_methods_supported": []any{"header"},
		"scopes_supported":         []any{"mcp:read"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if b := string(authn.ProtectedResourceMetadata("https://r", nil)); strings.Contains(b, "scopes_supported") || !strings.Contains(b, `"authorization_servers":[]`) {
		t.Errorf("without scopes or issuers: %s", b)
	}
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	okta := func(url string, aud ...string) authn.IssuerConfig {
		return authn.IssuerConfig{Name: "okta", OIDC: &authn.OIDCConfig{IssuerURL: url, Audiences: aud}}
	}
	tests := []struct {
		name string
		cfg  authn.Config
	}{
		{"no issuers", authn.Config{Resource: "https://r"}},
		{"no audiences and no resource", authn.Config{Issuers: []authn.IssuerConfig{okta("https://example.okta.com/oauth2/default")}}},
		{"plain http to a remote issuer", authn.Config{Resource: "https://r", Issuers: []authn.IssuerConfig{okta("http://example.okta.com/oauth2/default")}}},
		{"relative issuer URL", authn.Config{Resource: "https://r", Issuers: []authn.IssuerConfig{okta("/oauth2/default")}}},
		{"both kinds in one issuer", authn.Config{Resource: "https://r", Issuers: []authn.IssuerConfig{{Name: "x", OIDC: &authn.OIDCConfig{IssuerURL: "https://a"}, Kubernetes: &authn.KubernetesConfig{}}}}},
		{"neither kind", authn.Config{Resource: "https://r", Issuers: []authn.IssuerConfig{{Name: "x"}}}},
		{"duplicate names", authn.Config{Resource: "https://r", Issuers: []authn.IssuerConfig{okta("https://a"), okta("https://b")}}},
		{"unnamed issuer", authn.Config{Resource: "https://r", Issuers: []authn.IssuerConfig{{OIDC: &authn.OIDCConfig{IssuerURL: "https://a"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := authn.New(context.Background(), tt.cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}
