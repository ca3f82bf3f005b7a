package policy

import (
	"fmt"
	"strings"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

// FieldError is one problem in an AccessPolicy, at a field path such as
// spec.rules[2].when.
type FieldError struct {
	Field  string
	Detail string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// Errors are all the problems found in one AccessPolicy.
type Errors []*FieldError

func (errs Errors) Error() string {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Validate compiles p as Compile would and returns every problem as Errors
// (nil if there is none), for the AccessPolicy's Valid condition and for
// admission. Besides what the CRD schema checks, it refuses what would
// silently change what a rule covers: a tools, prompts or resources list
// for a method the rule does not govern (the rule would then cover every
// name of its methods), and requiredScopes on a Deny rule.
func Validate(p *v1alpha1.AccessPolicy) error {
	if _, _, errs := compilePolicy(p); len(errs) > 0 {
		return errs
	}
	return nil
}

func compilePolicy(p *v1alpha1.AccessPolicy) (*compiledPolicy, []*compiledRule, Errors) {
	cp := &compiledPolicy{key: objectKey(p.Namespace, p.Name)}
	var errs Errors
	fail := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	spec := &p.Spec
	if spec.Masking != nil {
		cp.masking = spec.Masking.DeepCopy()
	}

	if len(spec.Subjects) == 0 {
		fail("spec.subjects", "at least one subject is required")
	}
	for i := range spec.Subjects {
		path := fmt.Sprintf("spec.subjects[%d]", i)
		s, ok := newSubject(&spec.Subjects[i])
		if !ok {
			fail(path, "must set at least one of issuer, groups, subjects, claims or expression")
			continue
		}
		if e := spec.Subjects[i].Expression; e != "" {
			prg, msgs := compileExpr(e, false)
			for _, m := range msgs {
				fail(path+".expression", "%s", m)
			}
			s.expr = prg
		}
		cp.subjects = append(cp.subjects, s)
	}

	if len(spec.Rules) == 0 {
		fail("spec.rules", "at least one rule is required")
	}
	var rules []*compiledRule
	seen := map[string]bool{}
	for i := range spec.Rules {
		r := &spec.Rules[i]
		path := fmt.Sprintf("spec.rules[%d]", i)
		switch {
		case r.Name == "":
			fail(path+".name", "is required")
		case seen[r.Name]:
			fail(path+".name", "duplicate rule name %q", r.Name)
		}
		seen[r.Name] = true

		switch r.Action {
		case v1alpha1.ActionAllow, v1alpha1.ActionDeny, v1alpha1.ActionRequireApproval:
		default:
			fail(path+".action", "unsupported action %q: want Allow, Deny or RequireApproval", r.Action)
		}
		switch {
		case r.Action == v1alpha1.ActionRequireApproval && r.Approval == nil:
			fail(path+".approval", "is required when action is RequireApproval")
		case r.Action != v1alpha1.ActionRequireApproval && r.Approval != nil:
			fail(path+".approval", "is only allowed when action is RequireApproval")
		}
		if r.Action == v1alpha1.ActionDeny && len(r.RequiredScopes) > 0 {
			fail(path+".requiredScopes", "has no effect on a Deny rule")
		}

		methods := r.Methods
		if len(methods) == 0 {
			methods = []v1alpha1.Method{v1alpha1.MethodToolsCall}
		}
		var governs [len(governed)]bool
		for j, m := range methods {
			mi := methodIndex(string(m))
			if mi < 0 {
				fail(fmt.Sprintf("%s.methods[%d]", path, j), "unsupported method %q: want tools/call, resources/read or prompts/get", m)
				continue
			}
			governs[mi] = true
		}
		lists := [len(governed)]struct {
			field    string
			patterns []string
		}{{"tools", r.Tools}, {"resources", r.Resources}, {"prompts", r.Prompts}}
		var globs [len(governed)][]glob
		for mi, l := range lists {
			if len(l.patterns) > 0 && !governs[mi] {
				fail(path+"."+l.field, "is set but methods do not include %s, so the rule would cover every name of its methods", governed[mi])
			}
			for j, pat := range l.patterns {
				if err := checkGlob(pat, mi == 1); err != nil {
					fail(fmt.Sprintf("%s.%s[%d]", path, l.field, j), "%v", err)
					continue
				}
				globs[mi] = append(globs[mi], compileGlob(pat))
			}
		}

		var when *program
		if r.When != "" {
			var msgs []string
			when, msgs = compileExpr(r.When, true)
			for _, m := range msgs {
				fail(path+".when", "%s", m)
			}
		}

		var approval *v1alpha1.ApprovalRule
		if r.Approval != nil {
			approval = r.Approval.DeepCopy()
		}
		reason := fmt.Sprintf("allowed by rule %s in policy %s", r.Name, cp.key)
		if r.Action == v1alpha1.ActionRequireApproval {
			reason = fmt.Sprintf("rule %s in policy %s requires approval", r.Name, cp.key)
		}
		for mi := range governs {
			if !governs[mi] {
				continue
			}
			rules = append(rules, &compiledRule{
				policy:   cp,
				method:   mi,
				name:     r.Name,
				action:   r.Action,
				globs:    globs[mi],
				when:     when,
				scopes:   append([]string(nil), r.RequiredScopes...),
				approval: approval,
				reason:   reason,
			})
		}
	}
	return cp, rules, errs
}
