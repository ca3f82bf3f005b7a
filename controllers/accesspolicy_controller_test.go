package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

var _ = Describe("AccessPolicy", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("reports a CEL compile error, recovers when fixed, and the bound servers follow", func() {
		gold := newServer(ns, "gold", func(s *v1alpha1.MCPServer) { s.Labels = map[string]string{"tier": "gold"} })
		plain := newServer(ns, "plain")
		p := &v1alpha1.AccessPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gold-tools"},
			Spec: v1alpha1.AccessPolicySpec{
				ServerSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}},
				Subjects:       []v1alpha1.Subject{{Groups: []string{"ml"}}},
				Rules: []v1alpha1.Rule{{
					Name: "reads", Tools: []string{"get_*"}, Action: v1alpha1.ActionAllow,
					When: "'ml' in identity.groups &&",
				}},
			},
		}
		Expect(k8s.Create(ctx, p)).To(Succeed())
		valid := conditionOf(p, func() []metav1.Condition { return p.Status.Conditions }, v1alpha1.ConditionValid)

		Eventually(valid).Should(And(
			haveCondition(metav1.ConditionFalse, ReasonCompileError),
			HaveField("Message", ContainSubstring("spec.rules[0].when")),
		))
		Expect(p.Status.BoundServers).To(Equal([]string{"gold"}))
		Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
		Eventually(serverCondition(gold, v1alpha1.ConditionPoliciesValid)).Should(And(
			haveCondition(metav1.ConditionFalse, ReasonInvalidPolicy),
			HaveField("Message", ContainSubstring("gold-tools")),
		))
		Expect(gold.Status.BoundPolicies).To(BeEquivalentTo(1))
		Eventually(serverCondition(gold, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionFalse, ReasonInvalidPolicy))
		Eventually(serverCondition(plain, v1alpha1.ConditionPoliciesValid)).Should(haveCondition(metav1.ConditionTrue, ReasonNoPolicies))
		Eventually(eventsFor(ns, p.Name)).Should(ContainElement(HaveField("Reason", ReasonCompileError)))

		By("fixing the expression")
		patch := client.MergeFrom(p.DeepCopy())
		p.Spec.Rules[0].When = "'ml' in identity.groups"
		Expect(k8s.Patch(ctx, p, patch)).To(Succeed())
		Eventually(valid).Should(haveCondition(metav1.ConditionTrue, ReasonCompiled))
		Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
		Eventually(serverCondition(gold, v1alpha1.ConditionPoliciesValid)).Should(haveCondition(metav1.ConditionTrue, ReasonPoliciesValid))
		Eventually(serverCondition(gold, v1alpha1.ConditionReady)).Should(haveCondition(metav1.ConditionTrue, ReasonReady))

		By("labelling a second server into the selector")
		serverPatch := client.MergeFrom(plain.DeepCopy())
		plain.Labels = map[string]string{"tier": "gold"}
		Expect(k8s.Patch(ctx, plain, serverPatch)).To(Succeed())
		Eventually(func(g Gomega) []string {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
			return p.Status.BoundServers
		}).Should(Equal([]string{"gold", "plain"}))
		Eventually(func(g Gomega) int32 {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(plain), plain)).To(Succeed())
			return plain.Status.BoundPolicies
		}).Should(BeEquivalentTo(1))

		By("deleting the policy")
		Expect(k8s.Delete(ctx, p)).To(Succeed())
		Eventually(serverCondition(gold, v1alpha1.ConditionPoliciesValid)).Should(haveCondition(metav1.ConditionTrue, ReasonNoPolicies))
		Expect(gold.Status.BoundPolicies).To(BeZero())
	})
})
