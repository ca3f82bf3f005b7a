package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// Condition reasons of an AccessPolicy.
const (
	ReasonCompiled     = "Compiled"
	ReasonCompileError = "CompileError"
)

// AccessPolicyReconciler compiles AccessPolicies and reports where they bind.
// It creates nothing, so it needs no finalizer.
type AccessPolicyReconciler struct {
	client.Client
	Recorder events.EventRecorder
}

// policyScope carries one AccessPolicy through the phases.
type policyScope struct {
	policy *v1alpha1.AccessPolicy
}

// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=accesspolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=accesspolicies/status,verbs=get;patch
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=mcpservers,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile compiles one AccessPolicy and records the servers it binds.
func (r *AccessPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	p := &v1alpha1.AccessPolicy{}
	if err := r.Get(ctx, req.NamespacedName, p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !p.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	before := p.DeepCopy()
	defer func() {
		p.Status.ObservedGeneration = p.Generation
		if err := patchStatus(ctx, r.Client, before, p); err != nil {
			reterr = errors.Join(reterr, fmt.Errorf("patching status: %w", err))
		}
	}()

	return runPhases(ctx, &policyScope{policy: p},
		r.reconcileValid,
		r.reconcileBoundServers,
	)
}

// reconcileValid compiles the policy; the compile errors become the message
// of the Valid condition.
func (r *AccessPolicyReconciler) reconcileValid(_ context.Context, s *policyScope) (ctrl.Result, error) {
	p := s.policy
	err := policy.Validate(p)
	if err != nil {
		msg := "The policy does not compile: " + err.Error()
		if setCondition(&p.Status.Conditions, p.Generation, v1alpha1.ConditionValid, metav1.ConditionFalse, ReasonCompileError, msg) {
			r.Recorder.Eventf(p, nil, corev1.EventTypeWarning, ReasonCompileError, "Compile", "%s", truncateNote(msg))
		}
		return ctrl.Result{}, nil
	}
	wasInvalid := meta.IsStatusConditionFalse(p.Status.Conditions, v1alpha1.ConditionValid)
	setCondition(&p.Status.Conditions, p.Generation, v1alpha1.ConditionValid, metav1.ConditionTrue, ReasonCompiled,
		fmt.Sprintf("All %d rules compiled.", len(p.Spec.Rules)))
	if wasInvalid {
		r.Recorder.Eventf(p, nil, corev1.EventTypeNormal, ReasonCompiled, "Compile", "The policy compiles again")
	}
	return ctrl.Result{}, nil
}

// reconcileBoundServers records the sorted names of the MCPServers the policy
// binds.
func (r *AccessPolicyReconciler) reconcileBoundServers(ctx context.Context, s *policyScope) (ctrl.Result, error) {
	p := s.policy
	var list v1alpha1.MCPServerList
	if err := r.List(ctx, &list, client.InNamespace(p.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing MCPServers: %w", err)
	}
	p.Status.BoundServers = boundServers(p, list.Items)
	return ctrl.Result{}, nil
}

// boundServers returns the sorted names of the live servers p binds.
func boundServers(p *v1alpha1.AccessPolicy, servers []v1alpha1.MCPServer) []string {
	var names []string
	for i := range servers {
		if servers[i].DeletionTimestamp.IsZero() && policy.Binds(p, &servers[i]) {
			names = append(names, servers[i].Name)
		}
	}
	slices.Sort(names)
	return names
}

// SetupWithManager registers the reconciler. A server's creation, deletion,
// spec or label change re-reconciles the policies of its namespace, since
// binding depends on the server's name and labels; status changes do not.
func (r *AccessPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.AccessPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.MCPServer{}, handler.EnqueueRequestsFromMapFunc(r.policiesInNamespace),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Complete(r)
}

func (r *AccessPolicyReconciler) policiesInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.AccessPolicyList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing AccessPolicies", "namespace", o.GetNamespace())
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
