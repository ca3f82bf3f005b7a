package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// Options configure a Proxy. Zero values are replaced by defaults that suit a
// pod.
type Options struct {
	// Upstream is the MCP endpoint on localhost, e.g. http://127.0.0.1:3001/mcp.
	Upstream *url.URL
	// Transport reaches the upstream.
	Transport http.RoundTripper
	Log       logr.Logger
	Metrics   *Metrics
	// MaxBodyBytes bounds a caller's request body (default 4 MiB).
	MaxBodyBytes int64
	// MaxEventBytes bounds one SSE event or JSON reply from the upstream
	// (default 16 MiB).
	MaxEventBytes int
}

// Proxy is the sidecar's http.Handler.
type Proxy struct {
	opts     Options
	snap     atomic.Pointer[Snapshot]
	sessions sessions
	legacy   legacySessions
	tools    toolCache
}

// New returns a Proxy that refuses every call until Update gives it a
// Snapshot.
func New(opts Options) *Proxy {
	if opts.Transport == nil {
		opts.Transport = defaultTransport()
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	if opts.MaxEventBytes == 0 {
		opts.MaxEventBytes = 16 << 20
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	return &Proxy{opts: opts}
}

// Update swaps in a new configuration; calls in flight finish with the old.
func (p *Proxy) Update(s *Snapshot) { p.snap.Store(s) }

// Snapshot returns the configuration in force, or nil.
func (p *Proxy) Snapshot() *Snapshot { return p.snap.Load() }

// exchange is the state of one HTTP request on its way through the proxy.
type exchange struct {
	ref      string
	start    time.Time
	snap     *Snapshot
	identity *authn.Identity
	// msgs are the decoded messages of a POST; verdicts are theirs.
	msgs     []mcp.Message
	verdicts []verdict
	// legacy is the HTTP+SSE session a POST is for.
	legacy *legacySession
	// outcome labels the metrics: allowed, denied, approval, unauthenticated, error.
	outcome string
}

// verdict is what happened to one message of a POST.
type verdict struct {
	decision policy.Decision
	// answer is the proxy's own response when the message is not forwarded.
	answer []byte
	// forward is false when the upstream must not see the message.
	forward bool
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, wellKnownPrefix) {
		p.serveMetadata(w, r)
		return
	}
	ex := &exchange{ref: newReference(), start: time.Now(), outcome: outcomeAllowed}
	defer p.opts.Metrics.observe(ex)

	// 1. Configuration: without an enforceable one, nothing passes.
	snap := p.snap.Load()
	if snap == nil || snap.Err != nil {
		ex.outcome = outcomeError
		writeError(w, http.StatusServiceUnavailable, mcp.CodeInternal, "the Airlock sidecar has no valid configuration for this server yet", ex.ref)
		return
	}
	ex.snap = snap

	// 2. Authenticate.
	id, err := snap.Authn.Authenticate(r.Context(), r)
	if err != nil {
		p.unauthorized(w, r, ex, err)
		return
	}
	ex.identity = id

	// 3. A session belongs to the identity that opened it.
	if !p.bindSession(w, r, ex) {
		return
	}

	switch r.Method {
	case http.MethodPost:
		p.post(w, r, ex)
	case http.MethodGet, http.MethodDelete:
		if p.checkProtocol(w, r, ex, nil, false) {
			p.forward(w, r, ex, nil)
		}
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		ex.outcome = outcomeError
		writeError(w, http.StatusMethodNotAllowed, mcp.CodeInvalidRequest, "method "+r.Method+" is not allowed", ex.ref)
	}
}

// post polices the JSON-RPC messages of a POST and forwards what is allowed.
func (p *Proxy) post(w http.ResponseWriter, r *http.Request, ex *exchange) {
	body, err := mcp.ReadBody(r.Body, p.opts.MaxBodyBytes)
	if err != nil {
		ex.outcome = outcomeError
		if errors.Is(err, mcp.ErrTooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, mcp.CodeInvalidRequest, "request body is larger than the sidecar accepts", ex.ref)
			return
		}
		writeError(w, http.StatusBadRequest, mcp.CodeParseError, "request body could not be read", ex.ref)
		return
	}
	msgs, batch, err := mcp.Decode(body)
	if err != nil {
		ex.outcome = outcomeError
		var de *mcp.DecodeError
		if errors.As(err, &de) {
			writeJSON(w, http.StatusBadRequest, de.Response())
			return
		}
		writeError(w, http.StatusBadRequest, mcp.CodeParseError, "request body is not JSON-RPC", ex.ref)
		return
	}
	// The protocol era decides what a body may hold and which headers must
	// say what it says.
	if !p.checkProtocol(w, r, ex, msgs, batch) {
		return
	}
	ex.msgs = msgs

	// Decide every message; answer the ones that may not pass.
	forwarded := p.decide(ex)
	switch {
	case ex.legacy != nil:
		p.postLegacy(w, r, ex, body, batch, forwarded)
	case !batch && forwarded == 0:
		p.refuse(w, r, ex)
	case batch && forwarded < len(msgs):
		p.forwardPartialBatch(w, r, ex, forwarded)
	default:
		p.forward(w, r, ex, body)
	}
}

// refuse answers a single message that may not pass.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, ex *exchange) {
	v := ex.verdicts[0]
	if scopes := v.decision.MissingScopes; len(scopes) > 0 {
		p.unauthorized(w, r, ex, authn.InsufficientScope(scopes...))
		return
	}
	if v.answer == nil { // a refused notification
		w.WriteHeader(http.StatusAccepted)
		return
	}
	writeJSON(w, http.StatusOK, v.answer)
}

// bindSession refuses a request for a session that the caller did not open:
// a Streamable HTTP session named by Mcp-Session-Id, or a legacy HTTP+SSE
// session named by the message endpoint a POST goes to.
func (p *Proxy) bindSession(w http.ResponseWriter, r *http.Request, ex *exchange) bool {
	if sid := r.Header.Get(mcp.HeaderSessionID); sid != "" && !p.sessions.owns(sid, ex.identity) {
		ex.outcome = outcomeDenied
		writeError(w, http.StatusNotFound, mcp.CodeInvalidRequest, "unknown session: initialize a new one", ex.ref)
		return false
	}
	if r.Method != http.MethodPost {
		return true
	}
	// Whatever the transport says now: a session opened before a
	// configuration change is still someone's.
	s := p.legacy.lookup(r.URL)
	switch {
	case s != nil && s.owner == ownerKey(ex.identity):
		ex.legacy = s
	case s != nil || ex.snap.Transport == v1alpha1.TransportSSE:
		ex.outcome = outcomeDenied
		writeError(w, http.StatusNotFound, mcp.CodeInvalidRequest, "unknown session: open the event stream (GET) first", ex.ref)
		return false
	}
	return true
}

// decide fills ex.verdicts and returns how many messages may be forwarded.
func (p *Proxy) decide(ex *exchange) int {
	ex.verdicts = make([]verdict, len(ex.msgs))
	forwarded := 0
	for i := range ex.msgs {
		m := &ex.msgs[i]
		v := &ex.verdicts[i]
		v.forward = true
		method := policedMethod(m)
		if method == "" {
			forwarded++
			continue
		}
		v.decision = ex.snap.Policy.Decide(ex.identity, policy.Request{
			Method:    method,
			Name:      m.Target(),
			Arguments: m.Arguments,
			Tool:      p.tools.get(method, m.Target()),
		})
		p.logDecision(ex, m, v.decision)
		switch {
		case v.decision.Action == allow && len(v.decision.MissingScopes) == 0:
			forwarded++
			continue
		case v.decision.Action == requireApproval && len(v.decision.MissingScopes) == 0:
			ex.outcome = outcomeApproval
			v.forward = false
			if m.Kind == mcp.KindRequest {
				v.answer = approvalRequiredResponse(m.ID, m, v.decision, ex.ref)
			}
		default:
			ex.outcome = outcomeDenied
			v.forward = false
			if m.Kind == mcp.KindRequest {
				v.answer = deniedResponse(m.ID, m, v.decision, ex.ref)
			}
		}
	}
	return forwarded
}

// policedMethod is the AccessPolicy method that governs m, or "" when m is
// not policed (initialize, ping, lists — filtered on the way back —,
// notifications, and the caller's responses to server requests).
func policedMethod(m *mcp.Message) string {
	if m.Kind != mcp.KindRequest && m.Kind != mcp.KindNotification {
		return ""
	}
	switch m.Method {
	case mcp.MethodToolsCall, mcp.MethodPromptsGet, mcp.MethodResourcesRead:
		return m.Method
	case mcp.MethodResourcesSubscribe:
		// Subscribing names a resource like reading it, and is policed as a
		// read of it.
		return mcp.MethodResourcesRead
	}
	return ""
}

func (p *Proxy) logDecision(ex *exchange, m *mcp.Message, d policy.Decision) {
	kv := []any{"server", ex.snap.Server, "reference", ex.ref, "issuer", ex.identity.Issuer, "subject", ex.identity.Subject,
		"method", m.Method, "target", m.Target(), "action", string(d.Action), "policy", d.Policy, "rule", d.Rule}
	if d.Action == allow && len(d.MissingScopes) == 0 {
		p.opts.Log.V(1).Info("call allowed", kv...)
		return
	}
	p.opts.Log.Info("call refused", kv...)
}

// unauthorized answers 401 (or 403 for missing scopes) with the header that
// tells the caller where to get a token.
func (p *Proxy) unauthorized(w http.ResponseWriter, r *http.Request, ex *exchange, err error) {
	ex.outcome = outcomeUnauthenticated
	var ae *authn.Error
	status, reason := http.StatusUnauthorized, "invalid_token"
	if errors.As(err, &ae) {
		status, reason = ae.HTTPStatus(), string(ae.Reason)
	}
	p.opts.Metrics.authFailures.WithLabelValues(reason).Inc()
	p.opts.Log.V(1).Info("caller not authenticated", "server", ex.snap.Server, "reference", ex.ref, "reason", reason)
	w.Header().Set("WWW-Authenticate", authn.WWWAuthenticate(metadataURL(r), err))
	msg := "authentication required"
	if ae != nil {
		msg = ae.Error()
	}
	writeError(w, status, mcp.CodeInvalidRequest, msg, ex.ref)
}

// newReference returns a short random id that ties a caller's error to the
// sidecar's log line.
func newReference() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

const (
	allow           = v1alpha1.ActionAllow
	requireApproval = v1alpha1.ActionRequireApproval
)
