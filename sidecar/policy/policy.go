package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// Request is one MCP call to decide on.
type Request struct {
	Method    string          // tools/call, resources/read or prompts/get
	Name      string          // tool name, prompt name or resource URI
	Arguments json.RawMessage // the call's arguments (a JSON object), or nil
	Tool      *ToolInfo       // the tool's annotations from tools/list; nil if not known
}

// ToolInfo is what the MCP server declared about a tool in tools/list. A
// nil hint was not declared.
type ToolInfo struct {
	Title                                        string
	ReadOnly, Destructive, Idempotent, OpenWorld *bool
}

// Decision is the outcome for one call. Approval and MissingScopes point
// into the Set and must not be modified.
type Decision struct {
	Action v1alpha1.Action
	// Policy ("namespace/name") and Rule name what decided; both are empty
	// when no rule matched (default deny).
	Policy string
	Rule   string
	// Reason is a sentence for the caller and the audit log.
	Reason string
	// Approval configures the hold when Action is RequireApproval.
	Approval *v1alpha1.ApprovalRule
	// MissingScopes, when set, are the scopes the deciding rule requires and
	// the token lacks: Action is Deny and the proxy answers 403
	// insufficient_scope.
	MissingScopes []string
}

// Set is the compiled, immutable decision set for one MCPServer. It is safe
// for concurrent use; a nil *Set denies everything.
type Set struct {
	server   string
	policies []*compiledPolicy // sorted by key
	// rules[method] lists the rules governing that method: Deny rules, then
	// RequireApproval, then Allow, each in policy key and rule order.
	rules [len(governed)][]*compiledRule
}

// governed are the methods rules apply to; a Set indexes its rules by
// position in this list.
var governed = [...]v1alpha1.Method{v1alpha1.MethodToolsCall, v1alpha1.MethodResourcesRead, v1alpha1.MethodPromptsGet}

func methodIndex(m string) int {
	switch v1alpha1.Method(m) {
	case v1alpha1.MethodToolsCall:
		return 0
	case v1alpha1.MethodResourcesRead:
		return 1
	case v1alpha1.MethodPromptsGet:
		return 2
	}
	return -1
}

type compiledPolicy struct {
	index    int    // position in Set.policies
	key      string // namespace/name
	subjects []subject
	masking  *v1alpha1.Masking
}

type compiledRule struct {
	policy   *compiledPolicy
	method   int
	name     string
	action   v1alpha1.Action
	globs    []glob // empty: every name
	when     *program
	scopes   []string
	approval *v1alpha1.ApprovalRule
	reason   string // for Allow and RequireApproval, built once
}

func (r *compiledRule) matchName(name string) bool {
	if len(r.globs) == 0 {
		return true
	}
	for i := range r.globs {
		if r.globs[i].match(name) {
			return true
		}
	}
	return false
}

// Binds reports whether policy p applies to server: same namespace, and p
// names the server in targetRefs or, without targetRefs, its serverSelector
// matches the server's labels.
func Binds(p *v1alpha1.AccessPolicy, server *v1alpha1.MCPServer) bool {
	if p == nil || server == nil || p.Namespace != server.Namespace {
		return false
	}
	if len(p.Spec.TargetRefs) > 0 {
		for _, ref := range p.Spec.TargetRefs {
			if ref.Name == server.Name {
				return true
			}
		}
		return false
	}
	if p.Spec.ServerSelector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.ServerSelector)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(server.Labels))
}

// Compile builds the decision set for server from the policies bound to it
// (see Binds). It fails, naming every problem, if any policy is invalid:
// skipping one could drop a Deny, so the caller should keep its previous
// Set (or deny everything if it has none). Compile copies what it keeps.
func Compile(server *v1alpha1.MCPServer, policies []v1alpha1.AccessPolicy) (*Set, error) {
	s := &Set{}
	if server != nil {
		s.server = objectKey(server.Namespace, server.Name)
	}
	order := make([]*v1alpha1.AccessPolicy, len(policies))
	for i := range policies {
		order[i] = &policies[i]
	}
	slices.SortStableFunc(order, func(a, b *v1alpha1.AccessPolicy) int {
		return strings.Compare(objectKey(a.Namespace, a.Name), objectKey(b.Namespace, b.Name))
	})
	var errs []error
	for _, p := range order {
		cp, rules, perrs := compilePolicy(p)
		if len(perrs) > 0 {
			errs = append(errs, fmt.Errorf("policy %s: %w", cp.key, perrs))
			continue
		}
		cp.index = len(s.policies)
		s.policies = append(s.policies, cp)
		for _, r := range rules {
			s.rules[r.method] = append(s.rules[r.method], r)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for m := range s.rules {
		slices.SortStableFunc(s.rules[m], func(a, b *compiledRule) int {
			return cmp.Compare(actionRank(a.action), actionRank(b.action))
		})
	}
	return s, nil
}

func actionRank(a v1alpha1.Action) int {
	switch a {
	case v1alpha1.ActionDeny:
		return 0
	case v1alpha1.ActionRequireApproval:
		return 1
	}
	return 2
}

func objectKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// String names the server the Set was compiled for.
func (s *Set) String() string {
	if s == nil {
		return "<nil policy set>"
	}
	return fmt.Sprintf("policy set for %s (%d policies)", s.server, len(s.policies))
}

// Decide decides one call by the caller id. See the package documentation
// for precedence and how evaluation errors count.
func (s *Set) Decide(id *authn.Identity, req Request) Decision {
	v := s.decide(id, &req, false)
	return v.decision(id, &req)
}

// Visible reports whether the caller could make the call method (tools/call,
// resources/read or prompts/get) on name, for filtering tools/list,
// resources/list and prompts/list. The arguments are not known, so a `when`
// whose result depends on request.arguments is taken as true for Allow and
// RequireApproval rules and as false for Deny rules: an item is listed when
// some arguments could be allowed, and the call itself is still decided on
// its real arguments. A rule whose required scopes the token lacks does not
// make an item visible.
func (s *Set) Visible(id *authn.Identity, method, name string, tool *ToolInfo) bool {
	req := Request{Method: method, Name: name, Tool: tool}
	v := s.decide(id, &req, true)
	return v.rule != nil && v.action != v1alpha1.ActionDeny && !v.lacksScopes
}

// verdict is what decide found; decision turns it into a Decision, so that
// Visible never builds a Reason.
type verdict struct {
	rule        *compiledRule // nil: no rule matched
	action      v1alpha1.Action
	lacksScopes bool  // the rule's requiredScopes are not all held: Deny
	err         error // the evaluation error that made the rule apply
}

func (s *Set) decide(id *authn.Identity, req *Request, lenient bool) verdict {
	if s == nil || id == nil {
		return verdict{}
	}
	mi := methodIndex(req.Method)
	if mi < 0 {
		return verdict{}
	}
	ev := evaluator{id: id, req: *req, lenient: lenient}
	ev.init(len(s.policies))
	defer ev.release()

	var (
		approvalUnsat *compiledRule // first matching RequireApproval lacking scopes
		restrict      *compiledRule // first RequireApproval that applies only through an error
		restrictErr   error
		allowUnsat    *compiledRule // first matching Allow lacking scopes
	)
	for _, r := range s.rules[mi] {
		if r.action == v1alpha1.ActionAllow && approvalUnsat != nil {
			break // RequireApproval outranks every Allow, scopes or not
		}
		if !r.matchName(req.Name) {
			continue
		}
		cov, covErr := ev.covers(r.policy)
		if cov == covNo {
			continue
		}
		w, err := ev.when(r)
		if err == nil {
			err = covErr
		}
		switch r.action {
		case v1alpha1.ActionDeny:
			if w == outTrue || w == outError {
				return verdict{rule: r, action: v1alpha1.ActionDeny, err: err}
			}
		case v1alpha1.ActionRequireApproval:
			switch {
			case cov == covYes && (w == outTrue || w == outUnknown):
				if hasScopes(id.Scopes, r.scopes) {
					return verdict{rule: r, action: v1alpha1.ActionRequireApproval}
				}
				if approvalUnsat == nil {
					approvalUnsat = r
				}
			case w != outFalse && restrict == nil:
				restrict, restrictErr = r, err
			}
		default:
			if cov != covYes || (w != outTrue && w != outUnknown) {
				continue
			}
			if !hasScopes(id.Scopes, r.scopes) {
				if allowUnsat == nil {
					allowUnsat = r
				}
				continue
			}
			if restrict != nil {
				return verdict{rule: restrict, action: v1alpha1.ActionRequireApproval,
					lacksScopes: !hasScopes(id.Scopes, restrict.scopes), err: restrictErr}
			}
			return verdict{rule: r, action: v1alpha1.ActionAllow}
		}
	}
	switch {
	case approvalUnsat != nil:
		return verdict{rule: approvalUnsat, action: v1alpha1.ActionRequireApproval, lacksScopes: true}
	case allowUnsat != nil:
		return verdict{rule: allowUnsat, action: v1alpha1.ActionAllow, lacksScopes: true}
	}
	return verdict{}
}

func hasScopes(held, required []string) bool {
	for _, r := range required {
		if !slices.Contains(held, r) {
			return false
		}
	}
	return true
}

func (v verdict) decision(id *authn.Identity, req *Request) Decision {
	r := v.rule
	if r == nil {
		who := "an unauthenticated caller"
		if id != nil {
			who = id.Subject
			if id.Issuer != "" {
				who += " (issuer " + id.Issuer + ")"
			}
		}
		return Decision{
			Action: v1alpha1.ActionDeny,
			Reason: fmt.Sprintf("no policy allows %s of %s for %s", req.Method, req.Name, who),
		}
	}
	d := Decision{Action: v.action, Policy: r.policy.key, Rule: r.name, Reason: r.reason}
	switch {
	case v.lacksScopes:
		d.Action = v1alpha1.ActionDeny
		for _, s := range r.scopes {
			if !slices.Contains(id.Scopes, s) {
				d.MissingScopes = append(d.MissingScopes, s)
			}
		}
		d.Reason = fmt.Sprintf("%s of %s requires scope %s, which the token lacks (rule %s in policy %s)",
			req.Method, req.Name, strings.Join(d.MissingScopes, " "), r.name, r.policy.key)
	case v.action == v1alpha1.ActionDeny:
		d.Reason = fmt.Sprintf("%s of %s is denied by rule %s in policy %s", req.Method, req.Name, r.name, r.policy.key)
		if v.err != nil {
			d.Reason += fmt.Sprintf(" (a condition failed to evaluate, which counts as a match: %v)", v.err)
		}
	case v.action == v1alpha1.ActionRequireApproval:
		d.Approval = r.approval
		if v.err != nil {
			d.Reason += fmt.Sprintf(" (a condition failed to evaluate, so the call is held rather than allowed: %v)", v.err)
		}
	}
	return d
}

// coverage caches, per decision, whether a policy's subjects match the caller.
type coverage uint8

const (
	covUnset coverage = iota
	covNo
	covYes
	covUnknown // no subject matched but an expression failed: restrict, never grant
)

// evaluator holds the per-decision state. It lives on the stack (the
// coverage cache is an array, not a slice, and the request a copy, so that
// nothing the escape analysis cannot follow points into the frame); only the
// CEL activation, created on first use, is allocated.
type evaluator struct {
	id      *authn.Identity
	req     Request
	lenient bool

	policies int
	cov      [64]coverage
	covMore  []coverage // instead of cov, for Sets of more than 64 policies
	covErrs  []error    // lazily, only when a subject expression fails
	vars     *vars
}

func (ev *evaluator) init(policies int) {
	ev.policies = policies
	if policies > len(ev.cov) {
		ev.covMore = make([]coverage, policies)
	}
}

func (ev *evaluator) coverage(i int) *coverage {
	if ev.covMore != nil {
		return &ev.covMore[i]
	}
	return &ev.cov[i]
}

func (ev *evaluator) activation() *vars {
	if ev.vars == nil {
		ev.vars = newVars(ev.id, &ev.req)
	}
	return ev.vars
}

// release stops the evaluation deadline's timer, if CEL ran.
func (ev *evaluator) release() {
	if ev.vars != nil {
		ev.vars.cancel()
	}
}

func (ev *evaluator) covers(p *compiledPolicy) (coverage, error) {
	cached := ev.coverage(p.index)
	if c := *cached; c != covUnset {
		if c == covUnknown {
			return c, ev.covErrs[p.index]
		}
		return c, nil
	}
	c := covNo
	for i := range p.subjects {
		o, err := ev.matchSubject(&p.subjects[i])
		if o == outTrue {
			c = covYes
			break
		}
		if o == outError && c == covNo {
			c = covUnknown
			if ev.covErrs == nil {
				ev.covErrs = make([]error, ev.policies)
			}
			ev.covErrs[p.index] = err
		}
	}
	*cached = c
	if c == covUnknown {
		return c, ev.covErrs[p.index]
	}
	return c, nil
}

func (ev *evaluator) matchSubject(s *subject) (outcome, error) {
	if !s.matchStatic(ev.id) {
		return outFalse, nil
	}
	if s.expr == nil {
		return outTrue, nil
	}
	return s.expr.eval(ev.activation(), false)
}

func (ev *evaluator) when(r *compiledRule) (outcome, error) {
	if r.when == nil {
		return outTrue, nil
	}
	return r.when.eval(ev.activation(), ev.lenient)
}
