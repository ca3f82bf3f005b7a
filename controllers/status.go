package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// maxConditionMessage is the API's limit on metav1.Condition.Message.
const maxConditionMessage = 32768

// phase is one step of a reconcile. Phases run in order and the first error
// stops the rest, so that no phase acts on what an earlier one failed to read.
type phase[S any] func(context.Context, S) (ctrl.Result, error)

func runPhases[S any](ctx context.Context, s S, phases ...phase[S]) (ctrl.Result, error) {
	var res ctrl.Result
	for _, p := range phases {
		r, err := p(ctx, s)
		if err != nil {
			return r, err
		}
		res = soonest(res, r)
	}
	return res, nil
}

// soonest keeps the earlier of two requeue requests.
func soonest(a, b ctrl.Result) ctrl.Result {
	switch {
	case a.RequeueAfter == 0:
		return b
	case b.RequeueAfter == 0:
		return a
	default:
		return ctrl.Result{RequeueAfter: min(a.RequeueAfter, b.RequeueAfter)}
	}
}

// setCondition sets a condition and reports whether its status, reason or
// message changed, so that callers emit an Event per change, not per reconcile.
func setCondition(conds *[]metav1.Condition, generation int64, typ string, status metav1.ConditionStatus, reason, message string) (changed bool) {
	if len(message) > maxConditionMessage {
		message = message[:maxConditionMessage-3] + "..."
	}
	old := meta.FindStatusCondition(*conds, typ)
	changed = old == nil || old.Status != status || old.Reason != reason || old.Message != message
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
	})
	return changed
}

// patchStatus writes the status changes made to obj since before. Nothing is
// sent when nothing changed, so a steady state causes no writes.
func patchStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	p := client.MergeFrom(before)
	data, err := p.Data(obj)
	if err != nil {
		return err
	}
	if string(data) == "{}" {
		return nil
	}
	return client.IgnoreNotFound(c.Status().Patch(ctx, obj, p))
}

// ensureFinalizer adds the finalizer and writes it at once, before anything
// exists that only the finalizer could clean up.
func ensureFinalizer(ctx context.Context, c client.Client, obj client.Object) (added bool, err error) {
	if controllerutil.ContainsFinalizer(obj, Finalizer) {
		return false, nil
	}
	before := obj.DeepCopyObject().(client.Object)
	controllerutil.AddFinalizer(obj, Finalizer)
	return true, c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

func removeFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	before := obj.DeepCopyObject().(client.Object)
	controllerutil.RemoveFinalizer(obj, Finalizer)
	return client.IgnoreNotFound(c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})))
}
