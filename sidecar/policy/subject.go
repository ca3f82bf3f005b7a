package policy

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// subject is a compiled v1alpha1.Subject: every field set must match.
type subject struct {
	issuer   string
	groups   map[string]struct{} // nil: not set
	subjects map[string]struct{} // nil: not set
	claims   []claimMatch
	expr     *program
}

// claimMatch requires a claim to equal value, or, for a list claim, to
// contain it. Numbers compare by value ("1" matches 1 and 1.0), booleans by
// their string form.
type claimMatch struct {
	key, value string
	num        float64
	isNum      bool
}

// newSubject compiles everything but the expression; ok is false when no
// field is set (such a subject would match every caller).
func newSubject(s *v1alpha1.Subject) (subject, bool) {
	c := subject{issuer: s.Issuer, groups: stringSet(s.Groups), subjects: stringSet(s.Subjects)}
	keys := make([]string, 0, len(s.Claims))
	for k := range s.Claims {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order
	for _, k := range keys {
		m := claimMatch{key: k, value: s.Claims[k]}
		if f, err := strconv.ParseFloat(m.value, 64); err == nil {
			m.num, m.isNum = f, true
		}
		c.claims = append(c.claims, m)
	}
	ok := s.Issuer != "" || c.groups != nil || c.subjects != nil || len(c.claims) > 0 || s.Expression != ""
	return c, ok
}

func stringSet(list []string) map[string]struct{} {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(list))
	for _, s := range list {
		m[s] = struct{}{}
	}
	return m
}

// matchStatic checks all fields but the expression.
func (s *subject) matchStatic(id *authn.Identity) bool {
	if s.issuer != "" && s.issuer != id.Issuer {
		return false
	}
	if s.subjects != nil {
		if _, ok := s.subjects[id.Subject]; !ok {
			return false
		}
	}
	if s.groups != nil && !anyIn(id.Groups, s.groups) {
		return false
	}
	for i := range s.claims {
		v, ok := id.Claims[s.claims[i].key]
		if !ok || !s.claims[i].match(v) {
			return false
		}
	}
	return true
}

func anyIn(list []string, set map[string]struct{}) bool {
	for _, s := range list {
		if _, ok := set[s]; ok {
			return true
		}
	}
	return false
}

func (c *claimMatch) match(v any) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if c.matchScalar(e) {
				return true
			}
		}
		return false
	case []string:
		return slices.Contains(v, c.value)
	}
	return c.matchScalar(v)
}

func (c *claimMatch) matchScalar(v any) bool {
	switch v := v.(type) {
	case string:
		return v == c.value
	case bool:
		return c.value == strconv.FormatBool(v)
	case float64:
		return c.isNum && v == c.num
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return c.isNum && err == nil && f == c.num
	case int:
		return c.isNum && float64(v) == c.num
	case int64:
		return c.isNum && float64(v) == c.num
	}
	return false
}
