package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTrimPodKeepsWhatTheReconcilerReads(t *testing.T) {
	in := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ml", Labels: map[string]string{"app": "x"},
			Annotations:   map[string]string{"mcp.airlock.dev/injected": "{}"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: corev1.PodSpec{ServiceAccountName: "runner", Containers: []corev1.Container{{Name: "mcp", Image: "x",
			Env: []corev1.EnvVar{{Name: "K", Value: "a value the cache must not hold"}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	out, err := trimPod(in)
	if err != nil {
		t.Fatal(err)
	}
	p := out.(*corev1.Pod)
	if p.Name != "p" || p.Namespace != "ml" || p.Labels["app"] != "x" || p.Annotations["mcp.airlock.dev/injected"] != "{}" ||
		p.Spec.ServiceAccountName != "runner" || p.Status.Phase != corev1.PodRunning {
		t.Fatalf("trimPod dropped something the reconciler reads: %+v", p)
	}
	if len(p.Spec.Containers) != 0 || len(p.ManagedFields) != 0 {
		t.Fatalf("trimPod kept what it should drop: %+v", p)
	}
}
