package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

func newServer(ns, name string, mutate ...func(*v1alpha1.MCPServer)) *v1alpha1.MCPServer {
	s := &v1alpha1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.MCPServerSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Upstream: v1alpha1.Upstream{Port: 3001},
			Authentication: v1alpha1.Authentication{Issuers: []v1alpha1.Issuer{{
				Name: "okta",
				OIDC: &v1alpha1.OIDCIssuer{IssuerURL: "https://example.okta.com/oauth2/default", Audiences: []string{"api://default"}},
			}}},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	Expect(k8s.Create(ctx, s)).To(Succeed())
	return s
}

func withCredential(name, secret, key string) func(*v1alpha1.MCPServer) {
	return func(s *v1alpha1.MCPServer) {
		s.Spec.Upstream.Credentials = append(s.Spec.Upstream.Credentials, v1alpha1.UpstreamCredential{
			Name: name, SecretRef: v1alpha1.SecretKeyRef{Name: secret, Key: key},
		})
	}
}

func serverCondition(s *v1alpha1.MCPServer, typ string) func(Gomega) metav1.Condition {
	return conditionOf(s, func() []metav1.Condition { return s.Status.Conditions }, typ)
}

func newPod(ns, name string, labels, annotations map[string]string, serviceAccount string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			ServiceAccountName: serviceAccount,
			Containers:         []corev1.Container{{Name: "mcp", Image: "example.com/mcp:1"}},
		},
	}
	Expect(k8s.Create(ctx, p)).To(Succeed())
	return p
}

var _ = Describe("MCPServer", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("reports a missing Secret and key, and resolves when the Secret appears", func() {
		s := newServer(ns, "creds", withCredential("registry", "upstream", "token"))

		Eventually(serverCondition(s, v1alpha1.ConditionCredentialsResolved)).Should(And(
			haveCondition(metav1.ConditionFalse, ReasonSecretNotFound),
			HaveField("Message", ContainSubstring(`Secret "upstream" (credential "registry") not found`)),
		))
		Eventually(serverCondition(s, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionFalse, ReasonSecretNotFound))

		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "upstream"},
			Data:       map[string][]byte{"other": []byte("x")},
		}
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		Eventually(serverCondition(s, v1alpha1.ConditionCredentialsResolved)).Should(And(
			haveCondition(metav1.ConditionFalse, ReasonKeyNotFound),
			HaveField("Message", ContainSubstring(`Secret "upstream" has no key "token"`)),
		))

		secret.Data["token"] = []byte("s3cr3t-value")
		Expect(k8s.Update(ctx, secret)).To(Succeed())
		Eventually(serverCondition(s, v1alpha1.ConditionCredentialsResolved)).Should(haveCondition(metav1.ConditionTrue, ReasonResolved))
		Eventually(serverCondition(s, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionTrue, ReasonReady))
		Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
		for _, c := range s.Status.Conditions {
			Expect(c.Message).NotTo(ContainSubstring("s3cr3t-value"))
		}

		Eventually(eventsFor(ns, s.Name)).Should(ContainElement(And(
			HaveField("Type", corev1.EventTypeWarning),
			HaveField("Reason", ReasonSecretNotFound),
		)))
	})

	It("keeps observedGeneration equal to generation after a spec change", func() {
		s := newServer(ns, "gen")
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
		}).Should(Succeed())
		first := s.Generation

		patch := client.MergeFrom(s.DeepCopy())
		s.Spec.Listen.Port = 8443
		Expect(k8s.Patch(ctx, s, patch)).To(Succeed())
		Expect(s.Generation).To(BeNumerically(">", first))
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
			for _, c := range s.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(s.Generation), c.Type)
			}
		}).Should(Succeed())
	})

	It("owns a Role, RoleBinding and NetworkPolicy, and removes its ClusterRoleBinding on deletion", func() {
		s := newServer(ns, "owned",
			withCredential("registry", "creds", "token"),
			func(s *v1alpha1.MCPServer) {
				s.Spec.Listen.TLSSecretRef = &v1alpha1.LocalObjectReference{Name: "serving-tls"}
				s.Spec.Authentication.Issuers = append(s.Spec.Authentication.Issuers, v1alpha1.Issuer{
					Name: "cluster", Kubernetes: &v1alpha1.KubernetesIssuer{Audiences: []string{"https://owned"}},
				})
			})
		Expect(k8s.Create(ctx, &v1alpha1.AccessPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "masking"},
			Spec: v1alpha1.AccessPolicySpec{
				TargetRefs: []v1alpha1.LocalObjectReference{{Name: s.Name}},
				Subjects:   []v1alpha1.Subject{{Groups: []string{"ml"}}},
				Rules:      []v1alpha1.Rule{{Name: "all", Action: v1alpha1.ActionAllow}},
				Masking:    &v1alpha1.Masking{HashKeySecretRef: &v1alpha1.SecretKeyRef{Name: "hash-key", Key: "key"}},
			},
		})).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			g.Expect(s.Finalizers).To(ContainElement(Finalizer))
		}).Should(Succeed())
		owner := HaveField("OwnerReferences", ConsistOf(And(
			HaveField("Kind", "MCPServer"),
			HaveField("Name", s.Name),
			HaveField("UID", s.UID),
			HaveField("Controller", HaveValue(BeTrue())),
		)))

		role := &rbacv1.Role{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "airlock-sidecar-owned"}, role)).To(Succeed())
			g.Expect(role.Rules).To(ContainElement(rbacv1.PolicyRule{
				APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"},
				ResourceNames: []string{"creds", "hash-key", "serving-tls"},
			}))
		}).Should(Succeed())
		Expect(role.ObjectMeta).To(owner)
		Expect(role.Rules).To(ContainElement(rbacv1.PolicyRule{
			APIGroups: []string{"mcp.airlock.dev"}, Resources: []string{"mcpservers"}, Verbs: []string{"get", "list", "watch"},
			ResourceNames: []string{"owned"},
		}))

		binding := &rbacv1.RoleBinding{}
		Eventually(func() error {
			return k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "airlock-sidecar-owned"}, binding)
		}).Should(Succeed())
		Expect(binding.ObjectMeta).To(owner)
		Expect(binding.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "airlock-sidecar-owned"}))
		Expect(binding.Subjects).To(BeEmpty(), "no pod runs the sidecar yet")

		injected := map[string]string{v1alpha1.ServerAnnotation: "owned", v1alpha1.InjectedStatusAnnotation: "sidecar"}
		newPod(ns, "owned-b", map[string]string{"app": "owned"}, injected, "mcp-b")
		newPod(ns, "owned-a", map[string]string{"app": "owned"}, injected, "mcp-a")
		newPod(ns, "owned-a2", map[string]string{"app": "owned"}, injected, "mcp-a")
		want := []rbacv1.Subject{
			{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "mcp-a"},
			{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "mcp-b"},
		}
		Eventually(func(g Gomega) []rbacv1.Subject {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(binding), binding)).To(Succeed())
			return binding.Subjects
		}).Should(Equal(want))

		crb := &rbacv1.ClusterRoleBinding{}
		crbKey := types.NamespacedName{Name: "airlock-sidecar:" + ns + ":owned"}
		Eventually(func(g Gomega) []rbacv1.Subject {
			g.Expect(k8s.Get(ctx, crbKey, crb)).To(Succeed())
			return crb.Subjects
		}).Should(Equal(want))
		Expect(crb.RoleRef.Name).To(Equal(SidecarAuthClusterRole))
		Expect(crb.OwnerReferences).To(BeEmpty())

		np := &networkingv1.NetworkPolicy{}
		npKey := types.NamespacedName{Namespace: ns, Name: "airlock-owned"}
		Eventually(func() error { return k8s.Get(ctx, npKey, np) }).Should(Succeed())
		Expect(np.ObjectMeta).To(owner)
		Expect(np.Spec.PodSelector).To(Equal(*s.Spec.Selector))
		Expect(np.Spec.Ingress).To(HaveLen(1))
		Expect(np.Spec.Ingress[0].From).To(BeEmpty())
		Expect(np.Spec.Ingress[0].Ports).To(HaveLen(2))
		Expect(np.Spec.Ingress[0].Ports[0].Port.IntValue()).To(Equal(9443))
		Expect(np.Spec.Ingress[0].Ports[1].Port.IntValue()).To(Equal(SidecarMetricsPort))

		By("switching networkPolicy to None")
		patch := client.MergeFrom(s.DeepCopy())
		s.Spec.NetworkPolicy = v1alpha1.NetworkPolicyNone
		Expect(k8s.Patch(ctx, s, patch)).To(Succeed())
		Eventually(func() error { return k8s.Get(ctx, npKey, np) }).Should(Satisfy(apierrors.IsNotFound))

		By("deleting the server")
		Expect(k8s.Delete(ctx, s)).To(Succeed())
		Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(s), s) }).Should(Satisfy(apierrors.IsNotFound))
		Expect(k8s.Get(ctx, crbKey, crb)).To(Satisfy(apierrors.IsNotFound))
	})

	It("creates no ClusterRoleBinding without a Kubernetes issuer", func() {
		s := newServer(ns, "oidc-only")
		Eventually(serverCondition(s, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionTrue, ReasonReady))
		Expect(k8s.Get(ctx, types.NamespacedName{Name: "airlock-sidecar:" + ns + ":oidc-only"}, &rbacv1.ClusterRoleBinding{})).
			To(Satisfy(apierrors.IsNotFound))
	})

	It("warns about pods running without the sidecar and counts injected pods", func() {
		s := newServer(ns, "pods")
		Eventually(serverCondition(s, v1alpha1.ConditionInjected)).Should(haveCondition(metav1.ConditionTrue, ReasonNoPods))

		bare := newPod(ns, "bare", map[string]string{"app": "pods"}, nil, "")
		Eventually(serverCondition(s, v1alpha1.ConditionInjected)).Should(And(
			haveCondition(metav1.ConditionFalse, ReasonPodsWithoutSidecar),
			HaveField("Message", ContainSubstring("bare")),
		))
		Eventually(serverCondition(s, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionFalse, ReasonPodsWithoutSidecar))
		Eventually(eventsFor(ns, s.Name)).Should(ContainElement(And(
			HaveField("Type", corev1.EventTypeWarning),
			HaveField("Reason", ReasonPodsWithoutSidecar),
			HaveField("Note", ContainSubstring("bare")),
		)))

		newPod(ns, "injected", map[string]string{"app": "pods"},
			map[string]string{v1alpha1.ServerAnnotation: "pods", v1alpha1.InjectedStatusAnnotation: "sidecar"}, "")
		newPod(ns, "other-app", map[string]string{"app": "other"},
			map[string]string{v1alpha1.ServerAnnotation: "other", v1alpha1.InjectedStatusAnnotation: "sidecar"}, "")
		Eventually(func(g Gomega) int32 {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
			return s.Status.InjectedPods
		}).Should(BeEquivalentTo(1))

		Expect(k8s.Delete(ctx, bare)).To(Succeed())
		Eventually(serverCondition(s, v1alpha1.ConditionInjected)).Should(haveCondition(metav1.ConditionTrue, ReasonAllPodsInjected))
		Eventually(serverCondition(s, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionTrue, ReasonReady))
	})
})
