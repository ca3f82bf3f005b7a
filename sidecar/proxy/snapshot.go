package proxy

import (
	"crypto/tls"
	"net/url"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	"github.com/mcp-airlock/airlock/sidecar/credentials"
	"github.com/mcp-airlock/airlock/sidecar/mask"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// Snapshot is the compiled configuration of one MCPServer. It is immutable;
// the Watcher builds a new one on every change and the Proxy swaps it in
// atomically, so the hot path never locks or compiles.
type Snapshot struct {
	// Server is "namespace/name", for logs and errors.
	Server string
	// Generation of the MCPServer the snapshot was built from.
	Generation int64

	Authn       *authn.Authenticator
	Policy      *policy.Set
	Credentials *credentials.Set
	// Masker redacts every response; nil when no bound policy masks.
	Masker *mask.Masker

	// Upstream is the MCP endpoint on localhost the MCPServer names; the
	// proxy's Options.Upstream, when set, takes precedence.
	Upstream *url.URL
	// Transport is how the upstream speaks: Streamable HTTP, or the legacy
	// HTTP+SSE transport, whose message endpoints the sidecar learns from
	// the event stream (legacy.go).
	Transport v1alpha1.Transport

	// ServeTLS says the MCPServer wants callers served over TLS; TLS is the
	// certificate from its listen.tlsSecretRef, held in memory only.
	ServeTLS bool
	TLS      *tls.Certificate

	// Metadata is the RFC 9728 protected-resource document.
	Metadata []byte

	// Err, when set, is why the configuration cannot be enforced; every
	// call is then refused with 503 (fail closed) until a good one arrives.
	Err error
}
