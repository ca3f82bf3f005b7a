package credentials

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// Matcher reports whether a credential applies to a caller; nil matches all.
type Matcher func(*authn.Identity) bool

// SecretValue returns the bytes under key of the Secret name, or an error
// saying which is missing. Implementations read from an informer's memory.
type SecretValue func(name, key string) ([]byte, error)

// Credential is one upstream credential with its value in memory.
type Credential struct {
	Name   string
	header string
	env    string
	when   Matcher
	// value is the formatted header value (or the raw secret for env).
	value string
}

// String never shows the value, so a Credential can be logged by accident
// without harm.
func (c Credential) String() string { return "credential " + c.Name }

// Set is the credentials of one MCPServer, in spec order. It is immutable.
type Set struct {
	creds []Credential
}

// ErrMissing wraps errors for Secrets or keys that do not exist (yet).
var ErrMissing = errors.New("credential secret missing")

// Build resolves every credential of spec from secrets. compile turns a `when`
// expression into a Matcher; it is only called for non-empty expressions.
func Build(spec []v1alpha1.UpstreamCredential, secrets SecretValue, compile func(expr string) (Matcher, error)) (*Set, error) {
	s := &Set{creds: make([]Credential, 0, len(spec))}
	for _, c := range spec {
		raw, err := secrets(c.SecretRef.Name, c.SecretRef.Key)
		if err != nil {
			return nil, fmt.Errorf("credential %s: %w", c.Name, err)
		}
		var when Matcher
		if c.When != "" {
			if when, err = compile(c.When); err != nil {
				return nil, fmt.Errorf("credential %s: when: %w", c.Name, err)
			}
		}
		value := strings.TrimRight(string(raw), "\r\n")
		cred := Credential{Name: c.Name, env: c.Env, when: when, value: value}
		if c.Env == "" { // a header credential; an env one never goes into a header
			cred.header = c.Header
			if cred.header == "" {
				cred.header = "Authorization"
			}
			format := c.Format
			if format == "" {
				format = "Bearer {value}"
			}
			cred.value = strings.ReplaceAll(format, "{value}", value)
			if strings.ContainsAny(cred.value, "\r\n") {
				return nil, fmt.Errorf("credential %s: the secret value contains a line break, which no header may carry", c.Name)
			}
		}
		s.creds = append(s.creds, cred)
	}
	return s, nil
}

// For returns the first credential whose `when` matches the caller.
func (s *Set) For(id *authn.Identity) (*Credential, bool) {
	if s == nil {
		return nil, false
	}
	for i := range s.creds {
		c := &s.creds[i]
		if c.when == nil || c.when(id) {
			return c, true
		}
	}
	return nil, false
}

// Apply sets the caller's credential on an upstream request header. The
// caller's own Authorization has already been removed by the proxy; Apply
// also removes the header it sets so that nothing the caller sent survives.
// It returns the credential's name, or "" when none applies.
func (s *Set) Apply(h http.Header, id *authn.Identity) string {
	c, ok := s.For(id)
	if !ok || c.header == "" {
		return ""
	}
	h.Set(c.header, c.value)
	return c.Name
}

// Headers lists the header names credentials may be injected into; the proxy
// strips them from every caller request so a caller cannot smuggle its own.
func (s *Set) Headers() []string {
	if s == nil {
		return nil
	}
	var hs []string
	for _, c := range s.creds {
		if c.header != "" {
			hs = append(hs, http.CanonicalHeaderKey(c.header))
		}
	}
	return hs
}

// Env returns NAME=value pairs for every env credential, for a Stdio child
// that serves all callers.
func (s *Set) Env() []string {
	if s == nil {
		return nil
	}
	var env []string
	for _, c := range s.creds {
		if c.env != "" {
			env = append(env, c.env+"="+c.value)
		}
	}
	return env
}
