package controllers

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

func testServer(mutate ...func(*v1alpha1.MCPServer)) *v1alpha1.MCPServer {
	s := &v1alpha1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "tools", UID: types.UID("uid-1")},
		Spec: v1alpha1.MCPServerSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "tools"}},
			Listen:   v1alpha1.Listen{Port: 9443},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func secretRules(role *rbacv1.Role) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") {
			out = append(out, r)
		}
	}
	return out
}

func TestDesiredRoleLimitsSecretsToTheNamesTheSidecarReads(t *testing.T) {
	s := testServer(func(s *v1alpha1.MCPServer) {
		s.Spec.Upstream.Credentials = []v1alpha1.UpstreamCredential{
			{Name: "b", SecretRef: v1alpha1.SecretKeyRef{Name: "upstream", Key: "token"}},
			{Name: "a", SecretRef: v1alpha1.SecretKeyRef{Name: "upstream", Key: "admin-token"}},
		}
		s.Spec.Listen.TLSSecretRef = &v1alpha1.LocalObjectReference{Name: "tls"}
	})
	policies := []v1alpha1.AccessPolicy{
		{Spec: v1alpha1.AccessPolicySpec{Masking: &v1alpha1.Masking{HashKeySecretRef: &v1alpha1.SecretKeyRef{Name: "hash", Key: "k"}}}},
		{Spec: v1alpha1.AccessPolicySpec{Masking: &v1alpha1.Masking{HashKeySecretRef: &v1alpha1.SecretKeyRef{Name: "hash", Key: "k2"}}}},
		{Spec: v1alpha1.AccessPolicySpec{}},
	}
	role := desiredRole(s, policies)

	got := secretRules(role)
	want := []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"},
		ResourceNames: []string{"hash", "tls", "upstream"},
	}}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("secret rules = %+v, want %+v", got, want)
	}
	if role.Name != "airlock-sidecar-tools" || role.Namespace != "ml" {
		t.Errorf("role = %s/%s", role.Namespace, role.Name)
	}
	assertControlledByServer(t, role.OwnerReferences, s)
}

func TestDesiredRoleOmitsTheSecretRuleWhenNoSecretIsReferenced(t *testing.T) {
	// A rule without resourceNames would grant every Secret in the namespace.
	role := desiredRole(testServer(), nil)
	if got := secretRules(role); len(got) != 0 {
		t.Errorf("secret rules = %+v, want none", got)
	}
}

func TestDesiredRoleGrantsNoWildcardAndOnlyItsOwnServer(t *testing.T) {
	role := desiredRole(testServer(), nil)
	for _, r := range role.Rules {
		for _, field := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
			if slices.Contains(field, "*") {
				t.Errorf("rule %+v has a wildcard", r)
			}
		}
		if slices.Contains(r.Resources, "mcpservers") && !slices.Equal(r.ResourceNames, []string{"tools"}) {
			t.Errorf("mcpservers rule = %+v, want resourceNames [tools]", r)
		}
		if slices.ContainsFunc(r.Verbs, func(v string) bool { return v == "delete" || v == "deletecollection" || v == "escalate" || v == "bind" }) {
			t.Errorf("rule %+v grants a verb the sidecar never needs", r)
		}
	}
	wantResources := []string{"accesspolicies", "approvalrequests", "approvalrequests/status", "mcpservers"}
	var got []string
	for _, r := range role.Rules {
		got = append(got, r.Resources...)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantResources) {
		t.Errorf("resources = %v, want %v", got, wantResources)
	}
}

func TestDesiredRoleBindingBindsTheSidecarServiceAccounts(t *testing.T) {
	s := testServer()
	for _, tc := range []struct {
		name string
		sas  []string
		want []rbacv1.Subject
	}{
		{"none yet", nil, nil},
		{"two", []string{"a", "b"}, []rbacv1.Subject{
			{Kind: "ServiceAccount", Namespace: "ml", Name: "a"},
			{Kind: "ServiceAccount", Namespace: "ml", Name: "b"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb := desiredRoleBinding(s, tc.sas)
			if !equality.Semantic.DeepEqual(rb.Subjects, tc.want) {
				t.Errorf("subjects = %+v, want %+v", rb.Subjects, tc.want)
			}
			if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "airlock-sidecar-tools"}) {
				t.Errorf("roleRef = %+v", rb.RoleRef)
			}
			assertControlledByServer(t, rb.OwnerReferences, s)
		})
	}
}

func TestDesiredClusterRoleBindingOnlyForKubernetesIssuers(t *testing.T) {
	oidc := v1alpha1.Issuer{Name: "okta", OIDC: &v1alpha1.OIDCIssuer{IssuerURL: "https://okta", Audiences: []string{"a"}}}
	kube := v1alpha1.Issuer{Name: "cluster", Kubernetes: &v1alpha1.KubernetesIssuer{Audiences: []string{"a"}}}

	if crb := desiredClusterRoleBinding(testServer(func(s *v1alpha1.MCPServer) {
		s.Spec.Authentication.Issuers = []v1alpha1.Issuer{oidc}
	}), []string{"a"}); crb != nil {
		t.Errorf("OIDC only: got %+v, want nil", crb)
	}

	s := testServer(func(s *v1alpha1.MCPServer) { s.Spec.Authentication.Issuers = []v1alpha1.Issuer{oidc, kube} })
	crb := desiredClusterRoleBinding(s, []string{"a"})
	if crb == nil {
		t.Fatal("Kubernetes issuer: got nil")
	}
	if crb.Name != "airlock-sidecar:ml:tools" || crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != SidecarAuthClusterRole {
		t.Errorf("crb = %s -> %+v", crb.Name, crb.RoleRef)
	}
	if len(crb.OwnerReferences) != 0 {
		t.Errorf("a cluster-scoped object cannot have a namespaced owner: %+v", crb.OwnerReferences)
	}
	if crb.Annotations[OwnerAnnotation] != "ml/tools" || crb.Labels[ManagedByLabel] != managedBy {
		t.Errorf("metadata = %+v %+v", crb.Labels, crb.Annotations)
	}
	if want := []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "ml", Name: "a"}}; !equality.Semantic.DeepEqual(crb.Subjects, want) {
		t.Errorf("subjects = %+v", crb.Subjects)
	}
}

func TestClusterRoleBindingNamesDoNotCollideAcrossNamespaces(t *testing.T) {
	a := testServer(func(s *v1alpha1.MCPServer) { s.Namespace, s.Name = "team-a", "x" })
	b := testServer(func(s *v1alpha1.MCPServer) { s.Namespace, s.Name = "team", "a-x" })
	if clusterRoleBindingName(a) == clusterRoleBindingName(b) {
		t.Errorf("both named %s", clusterRoleBindingName(a))
	}
}

func TestDesiredNetworkPolicy(t *testing.T) {
	tcp := corev1.ProtocolTCP
	for _, tc := range []struct {
		name      string
		mutate    func(*v1alpha1.MCPServer)
		wantNil   bool
		wantPorts []int
	}{
		{"enforce", func(*v1alpha1.MCPServer) {}, false, []int{9443, SidecarMetricsPort}},
		{"default mode enforces", func(s *v1alpha1.MCPServer) { s.Spec.NetworkPolicy = "" }, false, []int{9443, SidecarMetricsPort}},
		{"custom listen port", func(s *v1alpha1.MCPServer) { s.Spec.Listen.Port = 8443 }, false, []int{8443, SidecarMetricsPort}},
		{"unset listen port", func(s *v1alpha1.MCPServer) { s.Spec.Listen.Port = 0 }, false, []int{9443, SidecarMetricsPort}},
		{"none", func(s *v1alpha1.MCPServer) { s.Spec.NetworkPolicy = v1alpha1.NetworkPolicyNone }, true, nil},
		{"no selector", func(s *v1alpha1.MCPServer) { s.Spec.Selector = nil }, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(func(s *v1alpha1.MCPServer) { s.Spec.NetworkPolicy = v1alpha1.NetworkPolicyEnforce }, tc.mutate)
			np := desiredNetworkPolicy(s)
			if tc.wantNil {
				if np != nil {
					t.Fatalf("got %+v, want nil", np)
				}
				return
			}
			if np.Name != "airlock-tools" {
				t.Errorf("name = %s", np.Name)
			}
			if !equality.Semantic.DeepEqual(np.Spec.PodSelector, *s.Spec.Selector) {
				t.Errorf("podSelector = %+v", np.Spec.PodSelector)
			}
			if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
				t.Errorf("policyTypes = %v", np.Spec.PolicyTypes)
			}
			if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 0 {
				t.Fatalf("ingress = %+v", np.Spec.Ingress)
			}
			var ports []int
			for _, p := range np.Spec.Ingress[0].Ports {
				if p.Protocol == nil || *p.Protocol != tcp {
					t.Errorf("port %v: protocol must be set (the API server defaults it, and a diff would update forever)", p.Port)
				}
				ports = append(ports, p.Port.IntValue())
			}
			if !slices.Equal(ports, tc.wantPorts) {
				t.Errorf("ports = %v, want %v", ports, tc.wantPorts)
			}
			assertControlledByServer(t, np.OwnerReferences, s)
		})
	}
}

func TestClassifyPods(t *testing.T) {
	pod := func(name string, labels map[string]string, annotations map[string]string, mutate ...func(*corev1.Pod)) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: name, Labels: labels, Annotations: annotations}}
		for _, m := range mutate {
			m(&p)
		}
		return p
	}
	app := map[string]string{"app": "tools"}
	mine := map[string]string{v1alpha1.ServerAnnotation: "tools", v1alpha1.InjectedStatusAnnotation: "x"}
	theirs := map[string]string{v1alpha1.ServerAnnotation: "other", v1alpha1.InjectedStatusAnnotation: "x"}
	named := map[string]string{v1alpha1.ServerAnnotation: "tools"}
	pods := []corev1.Pod{
		pod("injected", app, mine),
		pod("bare", app, nil),
		pod("annotated-not-injected", app, named),
		pod("injected-for-another-server", app, theirs),
		pod("unselected", map[string]string{"app": "other"}, mine),
		pod("deleting", app, nil, func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }),
		pod("done", app, nil, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		pod("elsewhere", app, nil, func(p *corev1.Pod) { p.Namespace = "other" }),
	}
	names := func(ps []corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}

	injected, bypassing := classifyPods(testServer(), pods)
	if got, want := names(injected), []string{"injected"}; !slices.Equal(got, want) {
		t.Errorf("with selector: injected = %v, want %v", got, want)
	}
	if got, want := names(bypassing), []string{"annotated-not-injected", "bare", "injected-for-another-server"}; !slices.Equal(got, want) {
		t.Errorf("with selector: bypassing = %v, want %v", got, want)
	}

	injected, bypassing = classifyPods(testServer(func(s *v1alpha1.MCPServer) { s.Spec.Selector = nil }), pods)
	if got, want := names(injected), []string{"injected", "unselected"}; !slices.Equal(got, want) {
		t.Errorf("without selector: injected = %v, want %v", got, want)
	}
	if got, want := names(bypassing), []string{"annotated-not-injected"}; !slices.Equal(got, want) {
		t.Errorf("without selector: bypassing = %v, want %v", got, want)
	}
}

func TestServiceAccountsAreSortedDistinctAndDefaulted(t *testing.T) {
	sa := func(name string) corev1.Pod { return corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: name}} }
	got := serviceAccounts([]corev1.Pod{sa("b"), sa(""), sa("a"), sa("b")})
	if want := []string{"a", "b", "default"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSetReady(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason + " message"}
	}
	allTrue := []metav1.Condition{
		cond(v1alpha1.ConditionCredentialsResolved, metav1.ConditionTrue, ReasonResolved),
		cond(v1alpha1.ConditionPoliciesValid, metav1.ConditionTrue, ReasonNoPolicies),
		cond(v1alpha1.ConditionInjected, metav1.ConditionTrue, ReasonNoPods),
	}
	for _, tc := range []struct {
		name       string
		conds      []metav1.Condition
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{"all true, no pods yet", allTrue, metav1.ConditionTrue, ReasonReady},
		{"unchecked", allTrue[:1], metav1.ConditionUnknown, ReasonReconciling},
		{"first failure wins", []metav1.Condition{
			cond(v1alpha1.ConditionCredentialsResolved, metav1.ConditionFalse, ReasonKeyNotFound),
			cond(v1alpha1.ConditionPoliciesValid, metav1.ConditionFalse, ReasonInvalidPolicy),
			allTrue[2],
		}, metav1.ConditionFalse, ReasonKeyNotFound},
		{"pods bypassing", []metav1.Condition{
			allTrue[0], allTrue[1], cond(v1alpha1.ConditionInjected, metav1.ConditionFalse, ReasonPodsWithoutSidecar),
		}, metav1.ConditionFalse, ReasonPodsWithoutSidecar},
		{"policy pending", []metav1.Condition{
			allTrue[0], cond(v1alpha1.ConditionPoliciesValid, metav1.ConditionUnknown, ReasonPolicyPending), allTrue[2],
		}, metav1.ConditionUnknown, ReasonPolicyPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer()
			s.Status.Conditions = slices.Clone(tc.conds)
			setReady(s)
			var ready *metav1.Condition
			for i := range s.Status.Conditions {
				if s.Status.Conditions[i].Type == v1alpha1.ConditionReady {
					ready = &s.Status.Conditions[i]
				}
			}
			if ready == nil || ready.Status != tc.wantStatus || ready.Reason != tc.wantReason {
				t.Errorf("Ready = %+v, want %s/%s", ready, tc.wantStatus, tc.wantReason)
			}
		})
	}
}

func TestChildNameStaysAValidDistinctName(t *testing.T) {
	long := strings.Repeat("a", 253)
	a, b := childName("airlock-", long), childName("airlock-", long[:252]+"b")
	if len(a) > 253 || len(b) > 253 {
		t.Errorf("lengths %d, %d exceed 253", len(a), len(b))
	}
	if a == b {
		t.Errorf("both %s", a)
	}
	if got := childName("airlock-", "short"); got != "airlock-short" {
		t.Errorf("got %s", got)
	}
}

func assertControlledByServer(t *testing.T, refs []metav1.OwnerReference, s *v1alpha1.MCPServer) {
	t.Helper()
	if len(refs) != 1 {
		t.Fatalf("owner references = %+v, want one", refs)
	}
	r := refs[0]
	if r.APIVersion != v1alpha1.GroupVersion.String() || r.Kind != "MCPServer" || r.Name != s.Name || r.UID != s.UID ||
		r.Controller == nil || !*r.Controller {
		t.Errorf("owner reference = %+v", r)
	}
}
