package policy

import (
	"errors"
	"strings"

	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// CompileIdentityMatcher compiles a CEL expression over `identity` (as in a
// subject's expression) into a predicate, for choices made per caller outside
// AccessPolicies, such as an MCPServer credential's `when`. An expression that
// fails to evaluate does not match.
func CompileIdentityMatcher(expr string) (func(*authn.Identity) bool, error) {
	p, problems := compileExpr(expr, false)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return func(id *authn.Identity) bool {
		if id == nil {
			return false
		}
		v := newVars(id, &Request{})
		defer v.cancel()
		out, err := p.eval(v, false)
		return err == nil && out == outTrue
	}, nil
}
