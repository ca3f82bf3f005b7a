package proxy

import (
	"net/http"
	"strings"
)

// wellKnownPrefix is where RFC 9728 protected-resource metadata is served,
// at the root and in the path form (/.well-known/oauth-protected-resource/mcp).
const wellKnownPrefix = "/.well-known/oauth-protected-resource"

func (p *Proxy) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap := p.snap.Load()
	if snap == nil || snap.Err != nil || snap.Metadata == nil {
		http.Error(w, "not configured", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(snap.Metadata)
}

// metadataURL is the metadata document for the resource the caller asked for.
func metadataURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "" {
		return scheme + "://" + r.Host + wellKnownPrefix
	}
	return scheme + "://" + r.Host + wellKnownPrefix + path
}
