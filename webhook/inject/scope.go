package inject

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

// namespaceNameLabel is set by the API server on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// Scope splits the generated webhook entry into the two entries that select
// the pods to inject, since one entry cannot say "namespace label OR pod
// label":
//
//   - <name> prefixed "namespace.": pods in namespaces labelled
//     mcp.airlock.dev/injection=enabled;
//   - <name> prefixed "pod.": pods labelled mcp.airlock.dev/inject=true in
//     any other namespace (so that no pod is seen twice).
//
// Both leave out the namespaces in exclude (kube-system and the operator's
// own). The chart and config/webhook write the same entries in YAML; tests
// compare them with this function.
func Scope(base admissionregistrationv1.MutatingWebhook, exclude ...string) []admissionregistrationv1.MutatingWebhook {
	notExcluded := metav1.LabelSelectorRequirement{Key: namespaceNameLabel, Operator: metav1.LabelSelectorOpNotIn, Values: exclude}

	byNamespace := *base.DeepCopy()
	byNamespace.Name = "namespace." + base.Name
	byNamespace.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: v1alpha1.InjectionNamespaceLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{"enabled"}},
		notExcluded,
	}}

	byPod := *base.DeepCopy()
	byPod.Name = "pod." + base.Name
	byPod.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: v1alpha1.InjectionNamespaceLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"enabled"}},
		*notExcluded.DeepCopy(),
	}}
	byPod.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{v1alpha1.InjectPodLabel: "true"}}

	if len(exclude) == 0 {
		byNamespace.NamespaceSelector.MatchExpressions = byNamespace.NamespaceSelector.MatchExpressions[:1]
		byPod.NamespaceSelector.MatchExpressions = byPod.NamespaceSelector.MatchExpressions[:1]
	}
	return []admissionregistrationv1.MutatingWebhook{byNamespace, byPod}
}
