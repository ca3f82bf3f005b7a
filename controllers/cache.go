package controllers

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions keep the manager's informers small in a large cluster: of the
// RBAC objects and NetworkPolicies it caches only those it made, and of pods
// only the few fields the MCPServer reconciler reads. Give them to
// ctrl.Options.Cache of every manager that runs these reconcilers.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{ManagedByLabel: managedBy})
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&rbacv1.Role{}:                {Label: managed},
		&rbacv1.RoleBinding{}:         {Label: managed},
		&rbacv1.ClusterRoleBinding{}:  {Label: managed},
		&networkingv1.NetworkPolicy{}: {Label: managed},
		&corev1.Pod{}:                 {Transform: trimPod},
	}}
}

// trimPod keeps what the MCPServer reconciler reads of a pod: its identity,
// labels and annotations, service account and phase.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Generation: p.Generation, CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
			Labels: p.Labels, Annotations: p.Annotations, OwnerReferences: p.OwnerReferences,
		},
		Spec:   corev1.PodSpec{ServiceAccountName: p.Spec.ServiceAccountName, HostNetwork: p.Spec.HostNetwork},
		Status: corev1.PodStatus{Phase: p.Status.Phase},
	}, nil
}
