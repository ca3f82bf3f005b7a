// Package authn verifies the bearer token on each request to the sidecar and
// turns it into an Identity that policies match on.
//
// OIDC access tokens (Okta client credentials, CI OIDC, …) are routed by
// their issuer to a configured issuer, whose discovery document and key set
// are fetched lazily, cached per issuer URL in a Cache that outlives
// Authenticator rebuilds, and refetched on an unknown key at most once per
// interval. Kubernetes service-account tokens are checked with TokenReview.
// Anything that cannot be verified is refused (fail closed) with an *Error
// whose reason the proxy turns into a 401 and a WWW-Authenticate header.
//
// authn never logs, stores or echoes raw tokens: a token lives only for the
// duration of Authenticate, errors describe why it was refused without
// quoting it, and Identity carries verified claims, never the token.
package authn
