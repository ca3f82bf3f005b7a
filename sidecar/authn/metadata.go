package authn

import "encoding/json"

// ProtectedResourceMetadata is the RFC 9728 document served at
// /.well-known/oauth-protected-resource[/path]: which authorization servers
// issue tokens for resource, and that tokens go in the Authorization header.
func ProtectedResourceMetadata(resource string, issuers []string, scopes ...string) []byte {
	if issuers == nil {
		issuers = []string{}
	}
	b, err := json.Marshal(struct {
		Resource               string   `json:"resource"`
		AuthorizationServers   []string `json:"authorization_servers"`
		BearerMethodsSupported []string `json:"bearer_methods_supported"`
		ScopesSupported        []string `json:"scopes_supported,omitempty"`
	}{resource, issuers, []string{"header"}, scopes})
	if err != nil {
		panic(err) // strings only: cannot happen
	}
	return b
}

// AuthorizationServers lists the OIDC issuer URLs of cfg, for
// ProtectedResourceMetadata. Kubernetes issuers are not OAuth authorization
// servers a caller could go to, so they are left out.
func (cfg Config) AuthorizationServers() []string {
	var urls []string
	for _, ic := range cfg.Issuers {
		if ic.OIDC != nil {
			urls = append(urls, ic.OIDC.IssuerURL)
		}
	}
	return urls
}
