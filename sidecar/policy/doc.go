// Package policy turns the AccessPolicies bound to one MCPServer into an
// immutable decision Set, and answers, for each MCP message, whether the
// caller may make it: Allow, Deny or RequireApproval, with the rule that
// decided and a sentence a human understands.
//
// Compile does all the expensive work once: it type-checks and plans every
// CEL expression (rejecting those that are not boolean or whose estimated
// cost exceeds the limit), precompiles the name globs and indexes the rules
// by method. The sidecar swaps the resulting Set in atomically when policies
// change. The hot path (Set.Decide, Set.Visible, Set.Masking) never compiles
// CEL and never takes a lock; it allocates only to run a CEL expression (the
// activation is built lazily, once per decision) and to word a denial.
// Runaway expressions are stopped by a cost limit and a per-decision
// deadline.
//
// Decisions fail closed. Deny beats RequireApproval beats Allow, a call no
// rule matches is denied, and a CEL expression that cannot be evaluated
// (missing key, wrong type, cost limit exceeded) never grants anything and
// never lifts a restriction:
//
//   - a Deny rule whose `when` errors counts as matched;
//   - an Allow rule whose `when` errors counts as not matched;
//   - a RequireApproval rule whose `when` errors holds a call that another
//     rule allows, but does not on its own open a call that would otherwise
//     be denied;
//   - a subject `expression` that errors makes its policy cover the caller
//     for its Deny and RequireApproval rules (as above), not for its Allow
//     rules, and turns its masking on.
//
// The package never logs, and never compiles CEL outside Compile and
// Validate.
package policy
