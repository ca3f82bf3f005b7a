package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

const (
	allow    = v1alpha1.ActionAllow
	deny     = v1alpha1.ActionDeny
	approval = v1alpha1.ActionRequireApproval
)

// alice is a human in group ml-eng, signed in through Okta.
var alice = &authn.Identity{
	Issuer:  "okta",
	Subject: "alice",
	Groups:  []string{"ml-eng", "everyone"},
	Scopes:  []string{"mcp.read"},
	Claims: map[string]any{
		"sub":           "alice",
		"email":         "alice@example.com",
		"groups":        []any{"ml-eng", "everyone"},
		"scp":           []any{"mcp.read"},
		"level":         float64(3),
		"mfa":           true,
		"department_id": json.Number("42"),
	},
}

// ciBot has the shape of an Okta client-credentials token: sub is the
// client id, cid repeats it, scp is an array, and there are no groups.
var ciBot = &authn.Identity{
	Issuer:  "okta",
	Subject: "0oa1ci2bot",
	Scopes:  []string{"mcp.read", "mcp.deploy"},
	Claims: map[string]any{
		"iss": "https://example.okta.com/oauth2/default",
		"aud": "api://default",
		"sub": "0oa1ci2bot",
		"cid": "0oa1ci2bot",
		"scp": []any{"mcp.read", "mcp.deploy"},
		"ver": float64(1),
	},
}

func policy(name string, subjects []v1alpha1.Subject, rules ...v1alpha1.Rule) v1alpha1.AccessPolicy {
	return v1alpha1.AccessPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: name},
		Spec: v1alpha1.AccessPolicySpec{
			TargetRefs: []v1alpha1.LocalObjectReference{{Name: "models"}},
			Subjects:   subjects,
			Rules:      rules,
		},
	}
}

func group(g string) []v1alpha1.Subject { return []v1alpha1.Subject{{Groups: []string{g}}} }

func rule(name string, action v1alpha1.Action, tools ...string) v1alpha1.Rule {
	r := v1alpha1.Rule{Name: name, Action: action, Tools: tools}
	if action == approval {
		r.Approval = &v1alpha1.ApprovalRule{ApproverGroups: []string{"ml-leads"}}
	}
	return r
}

func when(r v1alpha1.Rule, expr string) v1alpha1.Rule { r.When = expr; return r }

func mustCompile(t testing.TB, policies ...v1alpha1.AccessPolicy) *Set {
	t.Helper()
	s, err := Compile(server, policies)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

var server = &v1alpha1.MCPServer{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "models", Labels: map[string]string{"team": "ml"}}}

func call(tool string) Request { return Request{Method: "tools/call", Name: tool} }

func callWith(tool, args string) Request {
	return Request{Method: "tools/call", Name: tool, Arguments: json.RawMessage(args)}
}

type decideCase struct {
	name       string
	id         *authn.Identity
	req        Request
	action     v1alpha1.Action
	policy     string // "" to skip the check
	rule       string
	reasonPart string
}

func runDecide(t *testing.T, s *Set, cases []decideCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := s.Decide(c.id, c.req)
			if d.Action != c.action || (c.rule != "" && d.Rule != c.rule) || (c.policy != "" && d.Policy != c.policy) {
				t.Errorf("Decide = %s by %q/%q (%s), want %s by %q/%q", d.Action, d.Policy, d.Rule, d.Reason, c.action, c.policy, c.rule)
			}
			if !strings.Contains(d.Reason, c.reasonPart) {
				t.Errorf("Reason = %q, want it to contain %q", d.Reason, c.reasonPart)
			}
		})
	}
}

func TestDecidePrecedence(t *testing.T) {
	policies := []v1alpha1.AccessPolicy{
		policy("a-allow", group("ml-eng"), rule("everything", allow, "*")),
		policy("b-hold", group("everyone"), rule("deploys", approval, "deploy*")),
		policy("c-block", group("ml-eng"), rule("no-delete", deny, "*delete*")),
	}
	cases := []decideCase{
		{"allow wins when alone", alice, call("get_model"), allow, "ml/a-allow", "everything", "allowed by rule everything in policy ml/a-allow"},
		{"approval beats allow", alice, call("deploy_model"), approval, "ml/b-hold", "deploys", "requires approval"},
		{"deny beats approval and allow", alice, call("deploy_delete"), deny, "ml/c-block", "no-delete", "tools/call of deploy_delete is denied by rule no-delete in policy ml/c-block"},
		{"deny beats allow", alice, call("delete_model"), deny, "ml/c-block", "no-delete", "denied"},
	}
	t.Run("given in order", func(t *testing.T) { runDecide(t, mustCompile(t, policies...), cases) })
	slices.Reverse(policies)
	t.Run("given in reverse", func(t *testing.T) { runDecide(t, mustCompile(t, policies...), cases) })

	d := mustCompile(t, policies...).Decide(alice, call("deploy_model"))
	if d.Approval == nil || !slices.Equal(d.Approval.ApproverGroups, []string{"ml-leads"}) {
		t.Errorf("Approval = %+v, want the rule's approval", d.Approval)
	}
}

func TestDecideTieBreaksByPolicyNameThenRuleOrder(t *testing.T) {
	for range 3 {
		s := mustCompile(t,
			policy("zeta", group("ml-eng"), rule("z1", deny, "rm_*")),
			policy("alpha", group("ml-eng"), rule("a1", allow, "x"), rule("a2", deny, "rm_*"), rule("a3", deny, "rm_*")),
		)
		d := s.Decide(alice, call("rm_rf"))
		if d.Policy != "ml/alpha" || d.Rule != "a2" {
			t.Fatalf("Decide = %q/%q, want ml/alpha/a2", d.Policy, d.Rule)
		}
	}
}

func TestDecideDefaultDeny(t *testing.T) {
	s := mustCompile(t, policy("read", group("ml-eng"), rule("get", allow, "get_*")))
	cases := []decideCase{
		{"tool no rule names", alice, call("drop_database"), deny, "", "", "no policy allows tools/call of drop_database for alice (issuer okta)"},
		{"caller no policy covers", ciBot, call("get_model"), deny, "", "", "no policy allows tools/call of get_model for 0oa1ci2bot"},
		{"method no rule governs", alice, Request{Method: "prompts/get", Name: "get_model"}, deny, "", "", "no policy allows prompts/get of get_model"},
		{"unknown method", alice, Request{Method: "sampling/createMessage", Name: "x"}, deny, "", "", "no policy allows sampling/createMessage"},
		{"no identity", nil, call("get_model"), deny, "", "", "for an unauthenticated caller"},
	}
	runDecide(t, s, cases)
	if d := s.Decide(alice, call("drop_database")); d.Rule != "" || d.Policy != "" {
		t.Errorf("default deny names %q/%q, want no rule", d.Policy, d.Rule)
	}
	var none *Set
	if d := none.Decide(alice, call("get_model")); d.Action != deny {
		t.Errorf("nil Set decided %s, want Deny", d.Action)
	}
	empty := mustCompile(t)
	if d := empty.Decide(alice, call("get_model")); d.Action != deny {
		t.Errorf("empty Set decided %s, want Deny", d.Action)
	}
}

func TestDecideGlobsAndMethods(t *testing.T) {
	s := mustCompile(t, policy("p", group("ml-eng"),
		rule("prefix", allow, "get_*"),
		rule("one-char", allow, "v?_list"),
		rule("exact", allow, "train"),
		rule("middle", allow, "a*b*c"),
		v1alpha1.Rule{Name: "docs", Action: allow, Methods: []v1alpha1.Method{"resources/read"}, Resources: []string{"file:///docs/*"}},
		v1alpha1.Rule{Name: "prompts", Action: allow, Methods: []v1alpha1.Method{"prompts/get"}, Prompts: []string{"summar?ze"}},
	), policy("q", []v1alpha1.Subject{{Issuer: "okta", Subjects: []string{"0oa1ci2bot"}}},
		v1alpha1.Rule{Name: "all-prompts-too", Action: allow, Methods: []v1alpha1.Method{"tools/call", "prompts/get"}, Tools: []string{"ping"}},
	))
	cases := []decideCase{
		{"prefix glob", alice, call("get_model"), allow, "", "prefix", ""},
		{"prefix glob needs the prefix", alice, call("forget_model"), deny, "", "", ""},
		{"? matches one character", alice, call("v2_list"), allow, "", "one-char", ""},
		{"? does not match two", alice, call("v10_list"), deny, "", "", ""},
		{"? does not match none", alice, call("v_list"), deny, "", "", ""},
		{"exact", alice, call("train"), allow, "", "exact", ""},
		{"exact is not a prefix", alice, call("train_all"), deny, "", "", ""},
		{"several stars backtrack", alice, call("abxbyc"), allow, "", "middle", ""},
		{"several stars need the end", alice, call("abxbycd"), deny, "", "", ""},
		{"methods default to tools/call", alice, Request{Method: "prompts/get", Name: "train"}, deny, "", "", ""},
		{"resource glob spans slashes", alice, Request{Method: "resources/read", Name: "file:///docs/a/b.md"}, allow, "", "docs", ""},
		{"resource glob other tree", alice, Request{Method: "resources/read", Name: "file:///etc/passwd"}, deny, "", "", ""},
		{"prompt glob", alice, Request{Method: "prompts/get", Name: "summarize"}, allow, "", "prompts", ""},
		{"empty prompts list covers every prompt of a governed method", ciBot, Request{Method: "prompts/get", Name: "anything"}, allow, "", "all-prompts-too", ""},
		{"tools list applies to tools/call", ciBot, call("ping"), allow, "", "all-prompts-too", ""},
		{"tools list does not cover other tools", ciBot, call("pong"), deny, "", "", ""},
	}
	runDecide(t, s, cases)
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"get_*", "get_", true},
		{"*_model", "get_model", true},
		{"*_model", "get_models", false},
		{"?", "é", true},
		{"?", "ab", false},
		{"a?c", "aéc", true},
		{"*é", "café", true},
		{"a*?", "a", false},
		{"a*?", "ab", true},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"db.*.read", "db.users.read", true},
		{"db.*.read", "db.users.write", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, c := range cases {
		g := compileGlob(c.pattern)
		if got := g.match(c.name); got != c.want {
			t.Errorf("glob %q on %q = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func TestDecideSubjectFields(t *testing.T) {
	cases := []struct {
		name    string
		subject v1alpha1.Subject
		id      *authn.Identity
		want    v1alpha1.Action
	}{
		{"issuer matches", v1alpha1.Subject{Issuer: "okta"}, alice, allow},
		{"issuer differs", v1alpha1.Subject{Issuer: "github"}, alice, deny},
		{"one of the groups", v1alpha1.Subject{Groups: []string{"admins", "ml-eng"}}, alice, allow},
		{"none of the groups", v1alpha1.Subject{Groups: []string{"admins"}}, alice, deny},
		{"groups do not match a caller without groups", v1alpha1.Subject{Groups: []string{"admins"}}, ciBot, deny},
		{"subject listed", v1alpha1.Subject{Subjects: []string{"bob", "alice"}}, alice, allow},
		{"subject not listed", v1alpha1.Subject{Subjects: []string{"bob"}}, alice, deny},
		{"string claim", v1alpha1.Subject{Claims: map[string]string{"email": "alice@example.com"}}, alice, allow},
		{"string claim differs", v1alpha1.Subject{Claims: map[string]string{"email": "bob@example.com"}}, alice, deny},
		{"missing claim", v1alpha1.Subject{Claims: map[string]string{"cid": "x"}}, alice, deny},
		{"list claim contains", v1alpha1.Subject{Claims: map[string]string{"scp": "mcp.read"}}, alice, allow},
		{"list claim lacks", v1alpha1.Subject{Claims: map[string]string{"scp": "mcp.write"}}, alice, deny},
		{"number claim", v1alpha1.Subject{Claims: map[string]string{"level": "3"}}, alice, allow},
		{"number claim by value", v1alpha1.Subject{Claims: map[string]string{"level": "3.0"}}, alice, allow},
		{"number claim differs", v1alpha1.Subject{Claims: map[string]string{"level": "4"}}, alice, deny},
		{"json.Number claim", v1alpha1.Subject{Claims: map[string]string{"department_id": "42"}}, alice, allow},
		{"bool claim", v1alpha1.Subject{Claims: map[string]string{"mfa": "true"}}, alice, allow},
		{"bool claim differs", v1alpha1.Subject{Claims: map[string]string{"mfa": "false"}}, alice, deny},
		{"all claims must match", v1alpha1.Subject{Claims: map[string]string{"mfa": "true", "level": "4"}}, alice, deny},
		{"expression true", v1alpha1.Subject{Expression: "identity.subject.startsWith('ali')"}, alice, allow},
		{"expression false", v1alpha1.Subject{Expression: "identity.subject.startsWith('bob')"}, alice, deny},
		{"expression with string extension", v1alpha1.Subject{Expression: "identity.claims.email.split('@')[1] == 'example.com'"}, alice, allow},
		{"all fields must match", v1alpha1.Subject{Issuer: "okta", Groups: []string{"ml-eng"}, Subjects: []string{"alice"}, Claims: map[string]string{"mfa": "true"}, Expression: "identity.claims.level > 2"}, alice, allow},
		{"one field off fails the subject", v1alpha1.Subject{Issuer: "okta", Groups: []string{"ml-eng"}, Subjects: []string{"alice"}, Expression: "identity.claims.level > 5"}, alice, deny},
		{"okta client credentials by cid", v1alpha1.Subject{Claims: map[string]string{"cid": "0oa1ci2bot"}}, ciBot, allow},
		{"okta client credentials by sub", v1alpha1.Subject{Issuer: "okta", Subjects: []string{"0oa1ci2bot"}}, ciBot, allow},
		{"okta client credentials by scope expression", v1alpha1.Subject{Expression: "'mcp.read' in identity.scopes"}, ciBot, allow},
		{"okta client credentials by scp claim", v1alpha1.Subject{Claims: map[string]string{"scp": "mcp.deploy"}}, ciBot, allow},
		{"scope expression rejects a caller without it", v1alpha1.Subject{Expression: "'mcp.deploy' in identity.scopes"}, alice, deny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustCompile(t, policy("p", []v1alpha1.Subject{c.subject}, rule("all", allow)))
			if d := s.Decide(c.id, call("get_model")); d.Action != c.want {
				t.Errorf("Decide = %s (%s), want %s", d.Action, d.Reason, c.want)
			}
		})
	}
	t.Run("any subject covers", func(t *testing.T) {
		s := mustCompile(t, policy("p", []v1alpha1.Subject{{Issuer: "github"}, {Claims: map[string]string{"cid": "0oa1ci2bot"}}}, rule("all", allow)))
		if d := s.Decide(ciBot, call("x")); d.Action != allow {
			t.Errorf("Decide = %s, want Allow", d.Action)
		}
	})
}

func TestDecideWhen(t *testing.T) {
	s := mustCompile(t,
		policy("release", group("ml-eng"),
			when(rule("no-prod", deny, "deploy"), "request.arguments.stage == 'production'"),
			when(rule("deploy-nonprod", allow, "deploy"), "request.arguments.stage != 'production'"),
			when(rule("scale-small", allow, "scale"), "request.arguments.replicas <= 5"),
			when(rule("guard-destructive", deny, "*"), "has(tool.destructiveHint) && tool.destructiveHint"),
			when(rule("read-only", allow, "*"), "has(tool.readOnlyHint) && tool.readOnlyHint"),
			when(rule("named", allow, "inspect_*"), "request.name.endsWith('_model') && request.method == 'tools/call'"),
			when(rule("optional", allow, "tag"), "request.arguments.?tag.orValue('') != 'latest'"),
		),
	)
	yes, no := true, false
	withTool := func(r Request, ti *ToolInfo) Request { r.Tool = ti; return r }
	cases := []decideCase{
		{"argument allows", alice, callWith("deploy", `{"stage":"staging"}`), allow, "", "deploy-nonprod", ""},
		{"argument denies", alice, callWith("deploy", `{"stage":"production"}`), deny, "", "no-prod", "denied by rule no-prod"},
		{"missing argument: deny rule fails closed", alice, callWith("deploy", `{}`), deny, "", "no-prod", "no such key"},
		{"nil arguments: deny rule fails closed", alice, call("deploy"), deny, "", "no-prod", "failed to evaluate"},
		{"JSON number against CEL int", alice, callWith("scale", `{"replicas":3}`), allow, "", "scale-small", ""},
		{"JSON number over the bound", alice, callWith("scale", `{"replicas":30}`), deny, "", "", "no policy allows"},
		{"wrong argument type: allow rule fails closed", alice, callWith("scale", `{"replicas":"3"}`), deny, "", "", "no policy allows"},
		{"undecodable arguments fail closed", alice, callWith("scale", `{"replicas":`), deny, "", "", ""},
		{"destructive tool denied", alice, withTool(call("wipe"), &ToolInfo{Destructive: &yes, ReadOnly: &no}), deny, "", "guard-destructive", ""},
		{"read-only tool allowed", alice, withTool(call("list"), &ToolInfo{ReadOnly: &yes, Destructive: &no}), allow, "", "read-only", ""},
		{"undeclared hints match neither", alice, withTool(call("list"), &ToolInfo{Title: "List"}), deny, "", "", "no policy allows"},
		{"unknown tool matches neither", alice, call("list"), deny, "", "", "no policy allows"},
		{"request name and method", alice, call("inspect_model"), allow, "", "named", ""},
		{"optional field absent", alice, call("tag"), allow, "", "optional", ""},
		{"optional field present", alice, callWith("tag", `{"tag":"latest"}`), deny, "", "", ""},
	}
	runDecide(t, s, cases)
}

func TestDecideWhenErrorOnApprovalOnlyRestricts(t *testing.T) {
	held := when(rule("hold-prod", approval, "deploy"), "request.arguments.stage == 'production'")
	t.Run("holds a call another rule allows", func(t *testing.T) {
		s := mustCompile(t, policy("p", group("ml-eng"), held, rule("all", allow)))
		d := s.Decide(alice, callWith("deploy", `{}`))
		if d.Action != approval || d.Rule != "hold-prod" || !strings.Contains(d.Reason, "held rather than allowed") {
			t.Errorf("Decide = %s %q (%s), want RequireApproval by hold-prod", d.Action, d.Rule, d.Reason)
		}
	})
	t.Run("does not open a call nothing allows", func(t *testing.T) {
		s := mustCompile(t, policy("p", group("ml-eng"), held))
		if d := s.Decide(alice, callWith("deploy", `{}`)); d.Action != deny || d.Rule != "" {
			t.Errorf("Decide = %s %q, want default Deny", d.Action, d.Rule)
		}
	})
}

func TestDecideSubjectExpressionErrorFailsClosed(t *testing.T) {
	// alice has no `team` claim: the expression errors.
	erring := []v1alpha1.Subject{{Expression: "identity.claims.team == 'ml'"}}
	cases := []struct {
		name     string
		policies []v1alpha1.AccessPolicy
		want     v1alpha1.Action
	}{
		{"does not grant through Allow", []v1alpha1.AccessPolicy{policy("p", erring, rule("all", allow))}, deny},
		{"still denies", []v1alpha1.AccessPolicy{
			policy("a", group("ml-eng"), rule("all", allow)),
			policy("b", erring, rule("no-rm", deny, "rm")),
		}, deny},
		{"still holds", []v1alpha1.AccessPolicy{
			policy("a", group("ml-eng"), rule("all", allow)),
			policy("b", erring, rule("hold-rm", approval, "rm")),
		}, approval},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustCompile(t, c.policies...).Decide(alice, call("rm"))
			if d.Action != c.want {
				t.Errorf("Decide = %s (%s), want %s", d.Action, d.Reason, c.want)
			}
		})
	}
}

func TestDecideRunawayExpressionFailsClosed(t *testing.T) {
	// Both expressions are cheap enough for the compile-time estimate, which
	// assumes a token of at most 16 KiB; these identities are far larger.
	huge := *alice
	huge.Claims = map[string]any{"blob": strings.Repeat("x", 6_000_000)}
	many := *alice
	many.Groups = make([]string, 1_000_000)
	for i := range many.Groups {
		many.Groups[i] = "g"
	}
	many.Groups[0] = "ml-eng"
	small := *alice
	small.Claims = map[string]any{"blob": "xxx"}

	cases := []struct {
		name, expr  string
		id, smallID *authn.Identity
		reason      string
	}{
		{"cost limit", "identity.claims.blob.contains('needle-needle')", &huge, &small, "actual cost limit exceeded"},
		{"deadline on a long loop", "identity.groups.exists(g, g == 'never')", &many, alice, "interrupted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustCompile(t,
				policy("a", group("ml-eng"), rule("all", allow)),
				policy("b", group("ml-eng"), when(rule("guard", deny, "rm"), c.expr)),
			)
			if d := s.Decide(c.id, call("rm")); d.Action != deny || d.Rule != "guard" || !strings.Contains(d.Reason, c.reason) {
				t.Errorf("Deny rule: Decide = %s %q (%s), want Deny by guard, %s", d.Action, d.Rule, d.Reason, c.reason)
			}
			s = mustCompile(t, policy("c", group("ml-eng"), when(rule("open", allow, "other"), "!"+c.expr)))
			if d := s.Decide(c.id, call("other")); d.Action != deny {
				t.Errorf("Allow rule: Decide = %s %q (%s), want Deny", d.Action, d.Rule, d.Reason)
			}
			if d := s.Decide(c.smallID, call("other")); d.Action != allow {
				t.Errorf("Allow rule within the limits: Decide = %s (%s), want Allow", d.Action, d.Reason)
			}
		})
	}
}

func TestDecideRequiredScopes(t *testing.T) {
	deployRule := rule("deploy", allow, "deploy")
	deployRule.RequiredScopes = []string{"mcp.deploy", "mcp.write"}
	holdRule := rule("hold", approval, "release")
	holdRule.RequiredScopes = []string{"mcp.release"}
	s := mustCompile(t,
		policy("a", []v1alpha1.Subject{{Issuer: "okta"}}, deployRule, holdRule, rule("release-open", allow, "release")),
		policy("b", []v1alpha1.Subject{{Subjects: []string{"0oa1ci2bot"}}}, rule("bot-read", allow, "read")),
	)
	t.Run("missing scopes deny with the list", func(t *testing.T) {
		d := s.Decide(ciBot, call("deploy"))
		if d.Action != deny || d.Rule != "deploy" || !slices.Equal(d.MissingScopes, []string{"mcp.write"}) {
			t.Errorf("Decide = %s %q missing %v, want Deny by deploy missing [mcp.write]", d.Action, d.Rule, d.MissingScopes)
		}
		if !strings.Contains(d.Reason, "requires scope mcp.write") {
			t.Errorf("Reason = %q", d.Reason)
		}
	})
	t.Run("held scopes allow", func(t *testing.T) {
		bot := *ciBot
		bot.Scopes = append(slices.Clone(bot.Scopes), "mcp.write")
		if d := s.Decide(&bot, call("deploy")); d.Action != allow || d.MissingScopes != nil {
			t.Errorf("Decide = %s missing %v, want Allow", d.Action, d.MissingScopes)
		}
	})
	t.Run("approval lacking scopes is not bypassed by an allow", func(t *testing.T) {
		d := s.Decide(ciBot, call("release"))
		if d.Action != deny || d.Rule != "hold" || !slices.Equal(d.MissingScopes, []string{"mcp.release"}) {
			t.Errorf("Decide = %s %q missing %v, want Deny by hold missing [mcp.release]", d.Action, d.Rule, d.MissingScopes)
		}
	})
	t.Run("another allow without scopes grants", func(t *testing.T) {
		withOpen := mustCompile(t,
			policy("a", []v1alpha1.Subject{{Issuer: "okta"}}, deployRule),
			policy("b", []v1alpha1.Subject{{Subjects: []string{"0oa1ci2bot"}}}, rule("bot-deploy", allow, "deploy")),
		)
		if d := withOpen.Decide(ciBot, call("deploy")); d.Action != allow || d.Rule != "bot-deploy" {
			t.Errorf("Decide = %s %q, want Allow by bot-deploy", d.Action, d.Rule)
		}
	})
}

func TestVisible(t *testing.T) {
	yes := true
	scoped := rule("admin", allow, "admin_*")
	scoped.RequiredScopes = []string{"mcp.admin"}
	s := mustCompile(t, policy("p", group("ml-eng"),
		rule("read", allow, "get_*"),
		rule("hold", approval, "deploy"),
		rule("block", deny, "get_secret"),
		when(rule("prod-block", deny, "scale"), "request.arguments.env == 'production'"),
		when(rule("scale-small", allow, "scale"), "request.arguments.replicas < 5"),
		when(rule("no-destroy", deny, "*"), "has(tool.destructiveHint) && tool.destructiveHint"),
		when(rule("mine", allow, "mine_*"), "identity.subject == 'alice' || request.arguments.owner == identity.subject"),
		when(rule("others", allow, "theirs_*"), "identity.subject == 'bob' && request.arguments.owner == identity.subject"),
		when(rule("broken", deny, "odd"), "identity.claims.nope == 1"),
		rule("odd-allow", allow, "odd"),
		scoped,
	))
	cases := []struct {
		name   string
		method string
		tool   string
		info   *ToolInfo
		want   bool
	}{
		{"allowed", "tools/call", "get_model", nil, true},
		{"held for approval", "tools/call", "deploy", nil, true},
		{"denied", "tools/call", "get_secret", nil, false},
		{"not allowed by any rule", "tools/call", "train", nil, false},
		{"other method", "prompts/get", "get_model", nil, false},
		{"argument-dependent allow and deny: listed", "tools/call", "scale", nil, true},
		{"annotation deny hides", "tools/call", "get_model", &ToolInfo{Destructive: &yes}, false},
		{"identity part decides without arguments", "tools/call", "mine_notes", nil, true},
		{"identity part rules out whatever the arguments", "tools/call", "theirs_notes", nil, false},
		{"erroring deny hides", "tools/call", "odd", nil, false},
		{"missing scopes hide", "tools/call", "admin_reset", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.Visible(alice, c.method, c.tool, c.info); got != c.want {
				t.Errorf("Visible(%s %s) = %v, want %v", c.method, c.tool, got, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := policy("ok", group("ml-eng"), rule("a", allow, "get_*"))
	if err := Validate(&valid); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	for _, expr := range []string{
		"request.arguments.namespaces.all(n, n in identity.groups)",
		"identity.groups.exists(g, g.matches('^team-[a-z]+$'))",
		`request.arguments.query.matches('(?i)drop\\s+table')`,
		"request.arguments.path.startsWith('/data/' + identity.subject + '/')",
		"request.arguments.dryRun", // dyn: must be a bool at run time
	} {
		p := valid.DeepCopy()
		p.Spec.Rules[0].When = expr
		if err := Validate(p); err != nil {
			t.Errorf("Validate(when: %s) = %v, want nil", expr, err)
		}
	}
	cases := []struct {
		name   string
		mutate func(p *v1alpha1.AccessPolicy)
		want   []string // each must appear in the error
	}{
		{"undeclared reference", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Rules = append(p.Spec.Rules, rule("b", allow), when(rule("c", allow), "foo == 1"))
		}, []string{"spec.rules[2].when: ERROR: <input>:1:1: undeclared reference to 'foo'"}},
		{"syntax error", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].When = "request.arguments.x ==" }, []string{"spec.rules[0].when: ERROR: <input>:1:"}},
		{"non-bool", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].When = "'yes'" }, []string{"spec.rules[0].when: must evaluate to bool, not string"}},
		{"non-bool number", func(p *v1alpha1.AccessPolicy) { p.Spec.Subjects[0].Expression = "size(identity.groups) + 1" }, []string{"spec.subjects[0].expression: must evaluate to bool, not int"}},
		{"subject expression cannot see the request", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Subjects = append(p.Spec.Subjects, v1alpha1.Subject{Expression: "request.name == 'x'"})
		}, []string{"spec.subjects[1].expression: ERROR: <input>:1:1: undeclared reference to 'request'"}},
		{"bad glob", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].Tools = []string{"get_*", "get_[a-z]"} }, []string{`spec.rules[0].tools[1]: invalid glob "get_[a-z]": '[' is not supported`}},
		{"glob with space", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Rules[0].Methods = []v1alpha1.Method{"resources/read"}
			p.Spec.Rules[0].Tools = nil
			p.Spec.Rules[0].Resources = []string{"file:///my docs/*"}
		}, []string{"spec.rules[0].resources[0]: invalid glob"}},
		{"empty glob", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].Tools = []string{""} }, []string{"spec.rules[0].tools[0]: empty glob"}},
		{"list for an ungoverned method", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].Prompts = []string{"summarize"} }, []string{"spec.rules[0].prompts: is set but methods do not include prompts/get"}},
		{"unknown method", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].Methods = []v1alpha1.Method{"tools/list"} }, []string{`spec.rules[0].methods[0]: unsupported method "tools/list"`}},
		{"empty subject", func(p *v1alpha1.AccessPolicy) { p.Spec.Subjects = []v1alpha1.Subject{{}} }, []string{"spec.subjects[0]: must set at least one of"}},
		{"approval missing", func(p *v1alpha1.AccessPolicy) { p.Spec.Rules[0].Action = approval }, []string{"spec.rules[0].approval: is required"}},
		{"scopes on deny", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Rules[0].Action = deny
			p.Spec.Rules[0].RequiredScopes = []string{"x"}
		}, []string{"spec.rules[0].requiredScopes: has no effect on a Deny rule"}},
		{"estimated cost of a nested loop", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Rules[0].When = "request.arguments.items.all(a, request.arguments.items.exists(b, a == b))"
		}, []string{"spec.rules[0].when: estimated worst-case cost"}},
		{"estimated cost of a regex from arguments", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Rules[0].When = "request.arguments.text.matches(request.arguments.pattern)"
		}, []string{"spec.rules[0].when: estimated worst-case cost"}},
		{"all errors at once", func(p *v1alpha1.AccessPolicy) {
			p.Spec.Rules[0].When = "nope"
			p.Spec.Rules[0].Tools = []string{"a b"}
			p.Spec.Subjects[0].Expression = "1"
		}, []string{"spec.subjects[0].expression:", "spec.rules[0].tools[0]:", "spec.rules[0].when:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := valid.DeepCopy()
			c.mutate(p)
			err := Validate(p)
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to contain %q", err, w)
				}
			}
			var errs Errors
			if !asErrors(err, &errs) || len(errs) < len(c.want) {
				t.Errorf("Validate returned %T with %d errors, want Errors with at least %d", err, len(errs), len(c.want))
			}
			if _, cerr := Compile(server, []v1alpha1.AccessPolicy{*p}); cerr == nil || !strings.Contains(cerr.Error(), "policy ml/ok: "+c.want[0]) {
				t.Errorf("Compile = %v, want the same error naming the policy", cerr)
			}
		})
	}
}

func asErrors(err error, out *Errors) bool {
	e, ok := err.(Errors)
	*out = e
	return ok
}

func TestMasking(t *testing.T) {
	withMask := func(p v1alpha1.AccessPolicy, m *v1alpha1.Masking) v1alpha1.AccessPolicy {
		p.Spec.Masking = m
		return p
	}
	s := mustCompile(t,
		withMask(policy("a", group("ml-eng"), rule("r", allow)), &v1alpha1.Masking{
			Detectors: []v1alpha1.Detector{"email", "secrets"}, Fields: []string{"password"},
			Patterns: []v1alpha1.MaskPattern{{Name: "ticket", Regex: `T-\d+`}},
		}),
		withMask(policy("b", group("everyone"), rule("r", allow)), &v1alpha1.Masking{
			Detectors: []v1alpha1.Detector{"secrets", "iban"}, Fields: []string{"password", "user.ssn"},
			Patterns:    []v1alpha1.MaskPattern{{Name: "ticket", Regex: `T-\d+`}, {Name: "card", Regex: `C-\d+`}},
			Replacement: "***",
		}),
		withMask(policy("c", group("admins"), rule("r", allow)), &v1alpha1.Masking{Detectors: []v1alpha1.Detector{"phone"}}),
		withMask(policy("d", []v1alpha1.Subject{{Expression: "identity.claims.missing == 'x'"}}, rule("r", allow)), &v1alpha1.Masking{Detectors: []v1alpha1.Detector{"ssn"}}),
	)
	m := s.Masking(alice)
	want := &v1alpha1.Masking{
		Detectors:   []v1alpha1.Detector{"email", "secrets", "iban", "ssn"},
		Fields:      []string{"password", "user.ssn"},
		Patterns:    []v1alpha1.MaskPattern{{Name: "ticket", Regex: `T-\d+`}, {Name: "card", Regex: `C-\d+`}},
		Replacement: "***",
	}
	if m == nil || !slices.Equal(m.Detectors, want.Detectors) || !slices.Equal(m.Fields, want.Fields) ||
		!slices.Equal(m.Patterns, want.Patterns) || m.Replacement != want.Replacement {
		t.Errorf("Masking(alice) = %+v, want %+v", m, want)
	}
	if m := s.Masking(ciBot); m == nil || !slices.Equal(m.Detectors, []v1alpha1.Detector{"ssn"}) {
		t.Errorf("Masking(ciBot) = %+v, want only the failing-expression policy's ssn (fail closed)", m)
	}
	if m := mustCompile(t, policy("a", group("ml-eng"), rule("r", allow))).Masking(alice); m != nil {
		t.Errorf("Masking without masking policies = %+v, want nil", m)
	}
}

func TestBinds(t *testing.T) {
	byRef := policy("p", group("g"), rule("r", allow))
	bySelector := byRef
	bySelector.Spec.TargetRefs = nil
	bySelector.Spec.ServerSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "ml"}}
	otherSelector := bySelector
	otherSelector.Spec.ServerSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "web"}}
	badSelector := bySelector
	badSelector.Spec.ServerSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Bogus"}}}
	otherRef := byRef
	otherRef.Spec.TargetRefs = []v1alpha1.LocalObjectReference{{Name: "other"}}
	otherNamespace := byRef
	otherNamespace.Namespace = "web"
	cases := []struct {
		name string
		p    v1alpha1.AccessPolicy
		want bool
	}{
		{"targetRef names the server", byRef, true},
		{"targetRef names another server", otherRef, false},
		{"selector matches labels", bySelector, true},
		{"selector does not match", otherSelector, false},
		{"invalid selector binds nothing", badSelector, false},
		{"other namespace", otherNamespace, false},
	}
	for _, c := range cases {
		if got := Binds(&c.p, server); got != c.want {
			t.Errorf("%s: Binds = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCompileCopiesItsInput(t *testing.T) {
	p := policy("p", group("ml-eng"), rule("hold", approval, "deploy"))
	s := mustCompile(t, p)
	p.Spec.Rules[0].Approval.ApproverGroups[0] = "mallory"
	p.Spec.Rules[0].Tools[0] = "*"
	d := s.Decide(alice, call("deploy"))
	if d.Approval.ApproverGroups[0] != "ml-leads" {
		t.Errorf("Approval changed with the input: %v", d.Approval.ApproverGroups)
	}
	if d := s.Decide(alice, call("other")); d.Action != deny {
		t.Errorf("rule globs changed with the input: %s", d.Action)
	}
}

func TestDecideManyPolicies(t *testing.T) {
	var policies []v1alpha1.AccessPolicy
	for i := range 70 {
		policies = append(policies, policy(fmt.Sprintf("p%02d", i), group(fmt.Sprintf("team-%d", i)), rule("r", allow, fmt.Sprintf("t%d", i))))
	}
	policies = append(policies, policy("z-erring", []v1alpha1.Subject{{Expression: "identity.claims.missing == 'x'"}}, rule("hold", approval, "t69")))
	s := mustCompile(t, policies...)
	caller := &authn.Identity{Issuer: "okta", Subject: "c", Groups: []string{"team-69"}}
	if d := s.Decide(caller, call("t69")); d.Action != approval || d.Policy != "ml/z-erring" {
		t.Errorf("Decide = %s by %s (%s), want RequireApproval by ml/z-erring", d.Action, d.Policy, d.Reason)
	}
	if d := s.Decide(caller, call("t68")); d.Action != deny {
		t.Errorf("Decide = %s (%s), want Deny", d.Action, d.Reason)
	}
}

func TestDecideConcurrently(t *testing.T) {
	s := mustCompile(t,
		policy("a", group("ml-eng"), when(rule("deploy", allow, "deploy"), "request.arguments.stage != 'production'")),
		policy("b", []v1alpha1.Subject{{Expression: "'mcp.read' in identity.scopes"}}, rule("read", allow, "get_*")),
	)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				stage := "staging"
				want := allow
				if (g+i)%2 == 0 {
					stage, want = "production", deny
				}
				if d := s.Decide(alice, callWith("deploy", `{"stage":"`+stage+`"}`)); d.Action != want {
					t.Errorf("Decide(%s) = %s, want %s", stage, d.Action, want)
					return
				}
				if !s.Visible(ciBot, "tools/call", "get_model", nil) {
					t.Error("Visible = false, want true")
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func TestCompileIdentityMatcher(t *testing.T) {
	m, err := CompileIdentityMatcher("'mcp.deploy' in identity.scopes")
	if err != nil {
		t.Fatal(err)
	}
	if !m(ciBot) || m(alice) || m(nil) {
		t.Errorf("matcher: ciBot %v, alice %v, nil %v; want true, false, false", m(ciBot), m(alice), m(nil))
	}
	erring, err := CompileIdentityMatcher("identity.claims.missing == 'x'")
	if err != nil {
		t.Fatal(err)
	}
	if erring(alice) {
		t.Error("an expression that fails to evaluate matched")
	}
	if _, err := CompileIdentityMatcher("request.name == 'x'"); err == nil || !strings.Contains(err.Error(), "undeclared reference to 'request'") {
		t.Errorf("CompileIdentityMatcher(request…) = %v, want an undeclared reference error", err)
	}
}
