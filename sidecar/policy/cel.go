package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"

	"github.com/mcp-airlock/airlock/sidecar/authn"
)

const (
	// CostLimit bounds the work of one evaluation of one expression; an
	// evaluation that exceeds it fails (closed).
	CostLimit = 1_000_000

	// EstimatedCostLimit bounds the worst-case cost that Compile estimates
	// from the size bounds below. CostLimit already stops, at run time, work
	// that grows linearly with the caller's arguments, even times something
	// the token bounds (`request.arguments.namespaces.all(n, n in
	// identity.groups)`: ~5e10). What the estimate refuses is work that grows
	// with the square of the arguments or worse: nested loops over them,
	// regular expressions built from them (≥4e11).
	EstimatedCostLimit = 100_000_000_000

	// Size bounds for the cost estimate: any string, list or map under
	// `identity` comes from the claims of a verified token (at most 16 KiB,
	// so about 12 KiB of JSON), under `request` from a message body (assumed
	// at most 4 MiB), under `tool` from one tools/list entry.
	maxIdentitySize = 12 << 10
	maxRequestSize  = 4 << 20
	maxToolSize     = 64 << 10

	// EvalTimeout bounds the CEL work of one decision. It backs up CostLimit:
	// cel-go v0.29.2 tracks cost with a stack that comprehensions grow and
	// scan on every step, so a loop over a large list (request arguments are
	// the caller's to choose) slows down quadratically long before it reaches
	// CostLimit (a loop of 170k steps took over a minute). Loops check the
	// deadline every interruptEvery iterations. An expression interrupted by
	// it fails (closed).
	EvalTimeout    = 25 * time.Millisecond
	interruptEvery = 64
)

// Variable names in CEL expressions.
const (
	varIdentity = "identity"
	varRequest  = "request"
	varTool     = "tool"
)

// envs are built once: a subject `expression` sees only `identity`, a rule's
// `when` also sees `request` and `tool`.
var envs = sync.OnceValues(func() (*envPair, error) {
	common := []cel.EnvOption{
		cel.Variable(varIdentity, cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true), // JSON numbers are doubles: `request.arguments.count > 5`
	}
	subject, err := cel.NewEnv(common...)
	if err != nil {
		return nil, err
	}
	when, err := subject.Extend(
		cel.Variable(varRequest, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(varTool, cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, err
	}
	return &envPair{subject: subject, when: when}, nil
})

type envPair struct{ subject, when *cel.Env }

// program is one compiled CEL expression.
type program struct {
	full cel.Program
	// partial evaluates with request.arguments unknown (Visible); nil for
	// subject expressions, which do not see the request.
	partial cel.Program
}

// outcome is the result of evaluating a condition.
type outcome uint8

const (
	outFalse outcome = iota
	outTrue
	outError   // failed to evaluate: callers fail closed
	outUnknown // depends on request.arguments, which Visible does not know
)

// compileExpr type-checks src, requires a boolean result, checks the
// estimated cost and plans the programs. The problems it returns are
// single-line CEL messages ("ERROR: <input>:1:5: undeclared reference to
// 'foo'").
func compileExpr(src string, isWhen bool) (*program, []string) {
	pair, err := envs()
	if err != nil {
		return nil, []string{"internal error: CEL environment: " + err.Error()}
	}
	env := pair.subject
	if isWhen {
		env = pair.when
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		var msgs []string
		for _, line := range strings.Split(iss.Err().Error(), "\n") {
			if strings.HasPrefix(line, "ERROR: ") {
				msgs = append(msgs, line)
			}
		}
		if len(msgs) == 0 {
			msgs = []string{iss.Err().Error()}
		}
		return nil, msgs
	}
	// dyn is admitted (`request.arguments.dryRun`); a non-bool value at run
	// time is an evaluation error.
	if out := ast.OutputType(); !out.IsExactType(cel.BoolType) && !out.IsExactType(cel.DynType) {
		return nil, []string{fmt.Sprintf("must evaluate to bool, not %s", out)}
	}
	est, err := env.EstimateCost(ast, sizeEstimator{})
	if err != nil {
		return nil, []string{"estimating cost: " + err.Error()}
	}
	if est.Max > EstimatedCostLimit {
		return nil, []string{fmt.Sprintf("estimated worst-case cost %s exceeds the limit %d; "+
			"its work could grow with the square of its input (nested loops, regular expressions built from request arguments)", fmtCost(est.Max), EstimatedCostLimit)}
	}
	p := &program{}
	limits := []cel.ProgramOption{cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(interruptEvery)}
	if p.full, err = env.Program(ast, append(limits, cel.EvalOptions(cel.OptOptimize))...); err != nil {
		return nil, []string{"planning: " + err.Error()}
	}
	if isWhen {
		if p.partial, err = env.Program(ast, append(limits, cel.EvalOptions(cel.OptOptimize, cel.OptPartialEval))...); err != nil {
			return nil, []string{"planning: " + err.Error()}
		}
	}
	return p, nil
}

func fmtCost(c uint64) string {
	if c == ^uint64(0) {
		return "unbounded"
	}
	return fmt.Sprint(c)
}

// eval runs the expression. With lenient set (Visible) it runs the partial
// program, so that a result depending on request.arguments is outUnknown.
func (p *program) eval(v *vars, lenient bool) (outcome, error) {
	prg := p.full
	var in any = v
	if lenient && p.partial != nil {
		prg, in = p.partial, partialVars{v}
	}
	val, _, err := prg.ContextEval(v.ctx, in)
	if err != nil {
		return outError, err
	}
	switch b := val.(type) {
	case types.Bool:
		if b {
			return outTrue, nil
		}
		return outFalse, nil
	case *types.Unknown:
		return outUnknown, nil
	}
	return outError, fmt.Errorf("expression returned %s, not bool", val.Type().TypeName())
}

// vars is the activation for one decision. It implements
// interpreter.Activation and converts each variable on first use only, so
// a decision where no CEL runs builds nothing, and one that runs several
// expressions converts each variable once.
type vars struct {
	id     *authn.Identity
	req    Request         // a copy, so that Decide's argument stays on the stack
	ctx    context.Context // carries the decision's EvalTimeout
	cancel context.CancelFunc

	identity, request, tool ref.Val
	requestErr              bool
}

func (v *vars) ResolveName(name string) (any, bool) {
	switch name {
	case varIdentity:
		if v.identity == nil {
			v.identity = identityValue(v.id)
		}
		return v.identity, true
	case varRequest:
		if v.request == nil && !v.requestErr {
			v.request, v.requestErr = requestValue(&v.req)
		}
		return v.request, !v.requestErr
	case varTool:
		if v.tool == nil {
			v.tool = toolValue(v.req.Tool)
		}
		return v.tool, true
	}
	return nil, false
}

func (v *vars) Parent() interpreter.Activation { return nil }

func newVars(id *authn.Identity, req *Request) *vars {
	ctx, cancel := context.WithTimeout(context.Background(), EvalTimeout)
	return &vars{id: id, req: *req, ctx: ctx, cancel: cancel}
}

// partialVars marks request.arguments unknown.
type partialVars struct{ *vars }

var unknownArguments = []*interpreter.AttributePattern{
	interpreter.NewAttributePattern(varRequest).QualString("arguments"),
}

func (partialVars) UnknownAttributePatterns() []*interpreter.AttributePattern {
	return unknownArguments
}

// AsPartialActivation is how cel-go finds out that an activation is partial.
func (p partialVars) AsPartialActivation() (interpreter.PartialActivation, bool) { return p, true }

func identityValue(id *authn.Identity) ref.Val {
	m := map[string]any{
		"issuer":  id.Issuer,
		"subject": id.Subject,
		"groups":  nonNil(id.Groups),
		"scopes":  nonNil(id.Scopes),
		"claims":  id.Claims,
	}
	if id.Claims == nil {
		m["claims"] = map[string]any{}
	}
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// requestValue decodes the arguments; absent arguments are an empty map so
// that `has(request.arguments.x)` works. Undecodable arguments make
// `request` unresolvable, which fails the expression (closed).
func requestValue(r *Request) (ref.Val, bool) {
	var args any = map[string]any{}
	if len(r.Arguments) > 0 && string(r.Arguments) != "null" {
		if err := json.Unmarshal(r.Arguments, &args); err != nil {
			return nil, true
		}
	}
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, map[string]any{
		"method":    r.Method,
		"name":      r.Name,
		"arguments": args,
	}), false
}

// toolValue holds only the annotations the server declared, so that
// `has(tool.destructiveHint)` tells declared from defaulted.
func toolValue(t *ToolInfo) ref.Val {
	m := map[string]any{"title": ""}
	if t == nil {
		return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m)
	}
	m["title"] = t.Title
	hint := func(key string, b *bool) {
		if b != nil {
			m[key] = *b
		}
	}
	hint("readOnlyHint", t.ReadOnly)
	hint("destructiveHint", t.Destructive)
	hint("idempotentHint", t.Idempotent)
	hint("openWorldHint", t.OpenWorld)
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m)
}

// sizeEstimator bounds the size of every value reachable from a variable,
// for Compile's cost estimate.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	path := n.Path()
	if len(path) == 0 {
		return nil
	}
	var max uint64
	switch path[0] {
	case varIdentity:
		max = maxIdentitySize
	case varRequest:
		max = maxRequestSize
	case varTool:
		max = maxToolSize
	default:
		return nil
	}
	return &checker.SizeEstimate{Min: 0, Max: max}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}
