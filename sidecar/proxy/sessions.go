package proxy

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	"github.com/mcp-airlock/airlock/sidecar/mcp"
)

// maxSessions bounds the session table so a caller cannot grow it without
// limit; past it, new sessions are not bound and so cannot be used.
const maxSessions = 100_000

// sessions binds each MCP session id to the identity that opened it, so a
// session id that leaks is useless to anyone else (the spec's advice against
// session hijacking). A session the sidecar did not see open — it restarted —
// is unknown, and the caller re-initializes.
type sessions struct {
	owners sync.Map // session id -> owner key
	count  atomic.Int64
}

func ownerKey(id *authn.Identity) string { return id.Issuer + "\x00" + id.Subject }

func (s *sessions) owns(sid string, id *authn.Identity) bool {
	owner, ok := s.owners.Load(sid)
	return ok && owner.(string) == ownerKey(id)
}

// learn binds a session the upstream just opened, and forgets one it closed.
func (s *sessions) learn(r *http.Request, resp *http.Response, ex *exchange) {
	if r.Method == http.MethodDelete || resp.StatusCode == http.StatusNotFound {
		if sid := r.Header.Get(mcp.HeaderSessionID); sid != "" {
			if _, loaded := s.owners.LoadAndDelete(sid); loaded {
				s.count.Add(-1)
			}
		}
		return
	}
	sid := resp.Header.Get(mcp.HeaderSessionID)
	if sid == "" || r.Header.Get(mcp.HeaderSessionID) != "" {
		return
	}
	if s.count.Load() >= maxSessions {
		return
	}
	if _, loaded := s.owners.LoadOrStore(sid, ownerKey(ex.identity)); !loaded {
		s.count.Add(1)
	}
}
