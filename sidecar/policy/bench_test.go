package policy

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// benchSet has 10 policies of 10 rules each: policy team-i covers group
// team-i, rule rj of it governs tools pi_tj_*, every fourth rule denies.
func benchSet(b *testing.B, when string) *Set {
	b.Helper()
	var policies []v1alpha1.AccessPolicy
	for i := range 10 {
		var rules []v1alpha1.Rule
		for j := range 10 {
			r := rule(fmt.Sprintf("r%d", j), allow, fmt.Sprintf("p%d_t%d_*", i, j))
			if j%4 == 3 {
				r.Action = deny
			}
			r.When = when
			rules = append(rules, r)
		}
		policies = append(policies, policy(fmt.Sprintf("team-%d", i), group(fmt.Sprintf("team-%d", i)), rules...))
	}
	return mustCompile(b, policies...)
}

var benchCaller = &authn.Identity{
	Issuer:  "okta",
	Subject: "ci-bot",
	Groups:  []string{"team-3", "team-7", "team-9"},
	Scopes:  []string{"mcp.read"},
	Claims:  map[string]any{"sub": "ci-bot", "cid": "ci-bot"},
}

var sink Decision

func BenchmarkDecide(b *testing.B) {
	allowed := Request{Method: "tools/call", Name: "p9_t9_get", Arguments: json.RawMessage(`{"stage":"staging","replicas":3}`)}
	denied := Request{Method: "tools/call", Name: "p7_t3_drop"}
	unmatched := Request{Method: "tools/call", Name: "unknown_tool"}
	for _, c := range []struct {
		name string
		when string
		req  Request
	}{
		{"allow/no-when", "", allowed},
		{"allow/when", "request.arguments.stage != 'production'", allowed},
		{"deny-rule/no-when", "", denied},
		{"default-deny/no-when", "", unmatched},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := benchSet(b, c.when)
			if d := s.Decide(benchCaller, c.req); d.Action == "" {
				b.Fatal("no decision")
			}
			b.ReportAllocs()
			for b.Loop() {
				sink = s.Decide(benchCaller, c.req)
			}
		})
	}
}

func BenchmarkVisible(b *testing.B) {
	for _, c := range []struct{ name, when string }{
		{"no-when", ""},
		{"when-on-arguments", "request.arguments.stage != 'production'"},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := benchSet(b, c.when)
			if !s.Visible(benchCaller, "tools/call", "p9_t9_get", nil) {
				b.Fatal("not visible")
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Visible(benchCaller, "tools/call", "p9_t9_get", nil)
			}
		})
	}
}
