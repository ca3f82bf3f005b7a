package controllers

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// Condition reasons of an MCPServer.
const (
	ReasonResolved           = "Resolved"
	ReasonNoCredentials      = "NoCredentials"
	ReasonSecretNotFound     = "SecretNotFound"
	ReasonKeyNotFound        = "KeyNotFound"
	ReasonPoliciesValid      = "PoliciesValid"
	ReasonNoPolicies         = "NoPolicies"
	ReasonInvalidPolicy      = "InvalidPolicy"
	ReasonPolicyPending      = "PolicyPending"
	ReasonAllPodsInjected    = "AllPodsInjected"
	ReasonNoPods             = "NoPods"
	ReasonPodsWithoutSidecar = "PodsWithoutSidecar"
	ReasonReady              = "Ready"
	ReasonReconciling        = "Reconciling"
)

// secretNameIndex indexes MCPServers by the Secrets they reference, so that a
// Secret event finds its servers without listing all of them.
const secretNameIndex = ".spec.secretNames"

// defaultListenPort is the CRD's default for spec.listen.port.
const defaultListenPort = 9443

// MCPServerReconciler reports whether an MCPServer can serve and owns what its
// sidecars need: RBAC limited to the server's own objects and a NetworkPolicy.
type MCPServerReconciler struct {
	client.Client
	// APIReader reads Secrets uncached, so the manager holds no Secret data.
	APIReader client.Reader
	Recorder  events.EventRecorder
}

// serverScope carries what earlier phases learned to later ones.
type serverScope struct {
	server *v1alpha1.MCPServer
	// policies bound to the server, by name.
	policies []v1alpha1.AccessPolicy
	// serviceAccounts of the pods running the server's sidecar, sorted.
	serviceAccounts []string
}

// The manager holds every permission it grants sidecars in desiredRole:
// Kubernetes refuses to create a Role granting more than its creator has.
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=mcpservers,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=mcpservers/status,verbs=get;patch
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=mcpservers/finalizers,verbs=update
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=accesspolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=approvalrequests,verbs=create;get;list;watch
// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=approvalrequests/status,verbs=update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterrolebindings,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=airlock-sidecar-auth
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one MCPServer's status and owned objects up to date.
func (r *MCPServerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	server := &v1alpha1.MCPServer{}
	if err := r.Get(ctx, req.NamespacedName, server); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !server.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, server)
	}
	if added, err := ensureFinalizer(ctx, r.Client, server); err != nil || added {
		return ctrl.Result{}, err // the update brings us back
	}

	before := server.DeepCopy()
	defer func() {
		setReady(server)
		server.Status.ObservedGeneration = server.Generation
		if err := patchStatus(ctx, r.Client, before, server); err != nil {
			reterr = errors.Join(reterr, fmt.Errorf("patching status: %w", err))
		}
	}()

	return runPhases(ctx, &serverScope{server: server},
		r.reconcileCredentials,
		r.reconcilePolicies,
		r.reconcilePods,
		r.reconcileRBAC,
		r.reconcileNetworkPolicy,
	)
}

// reconcileDelete removes the ClusterRoleBinding, which owner references
// cannot reach; the namespaced objects go with the server by garbage
// collection.
func (r *MCPServerReconciler) reconcileDelete(ctx context.Context, server *v1alpha1.MCPServer) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(server, Finalizer) {
		return ctrl.Result{}, nil
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: clusterRoleBindingName(server)}}
	if err := r.Delete(ctx, crb); err == nil {
		r.Recorder.Eventf(server, nil, corev1.EventTypeNormal, "ClusterRoleBindingDeleted", "Delete",
			"Deleted ClusterRoleBinding %s with the MCPServer", crb.Name)
	} else if !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("deleting ClusterRoleBinding %s: %w", crb.Name, err)
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, server)
}

// reconcileCredentials checks that every Secret key the sidecar will read
// exists. It looks at key names only, never at values.
func (r *MCPServerReconciler) reconcileCredentials(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	type want struct{ secret, key, usedBy string }
	var wants []want
	for _, c := range server.Spec.Upstream.Credentials {
		wants = append(wants, want{c.SecretRef.Name, c.SecretRef.Key, fmt.Sprintf("credential %q", c.Name)})
	}
	if tls := server.Spec.Listen.TLSSecretRef; tls != nil {
		wants = append(wants,
			want{tls.Name, corev1.TLSCertKey, "listen TLS"},
			want{tls.Name, corev1.TLSPrivateKeyKey, "listen TLS"})
	}

	var reason string
	var problems []string
	keysOf := map[string]sets.Set[string]{} // nil: the Secret does not exist
	for _, w := range wants {
		keys, seen := keysOf[w.secret]
		if !seen {
			var err error
			if keys, err = r.secretKeys(ctx, server.Namespace, w.secret); err != nil {
				return ctrl.Result{}, err
			}
			keysOf[w.secret] = keys
		}
		var problem, why string
		switch {
		case keys == nil:
			why, problem = ReasonSecretNotFound, fmt.Sprintf("Secret %q (%s) not found", w.secret, w.usedBy)
		case !keys.Has(w.key):
			why, problem = ReasonKeyNotFound, fmt.Sprintf("Secret %q has no key %q (%s)", w.secret, w.key, w.usedBy)
		default:
			continue
		}
		if reason == "" {
			reason = why
		}
		if !slices.Contains(problems, problem) {
			problems = append(problems, problem)
		}
	}

	gen := server.Generation
	switch {
	case len(problems) > 0:
		msg := strings.Join(problems, "; ") + ". The sidecar needs them to serve."
		if setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionCredentialsResolved, metav1.ConditionFalse, reason, msg) {
			r.Recorder.Eventf(server, nil, corev1.EventTypeWarning, reason, "ResolveCredentials", "%s", truncateNote(msg))
		}
	case len(wants) == 0:
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionCredentialsResolved, metav1.ConditionTrue, ReasonNoCredentials,
			"The server references no Secrets.")
	default:
		wasFalse := meta.IsStatusConditionFalse(server.Status.Conditions, v1alpha1.ConditionCredentialsResolved)
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionCredentialsResolved, metav1.ConditionTrue, ReasonResolved,
			fmt.Sprintf("All %d referenced Secret keys exist.", len(wants)))
		if wasFalse {
			r.Recorder.Eventf(server, nil, corev1.EventTypeNormal, "CredentialsResolved", "ResolveCredentials",
				"All referenced Secret keys exist now")
		}
	}
	return ctrl.Result{}, nil
}

// secretKeys returns the key names of a Secret, or nil when it does not
// exist. It reads through the API reader so that no Secret enters the cache,
// and lets go of the values at once.
func (r *MCPServerReconciler) secretKeys(ctx context.Context, namespace, name string) (sets.Set[string], error) {
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s: %w", name, err)
	}
	return sets.KeySet(secret.Data), nil
}

// reconcilePolicies finds the AccessPolicies that bind the server and reports
// whether they all compiled.
func (r *MCPServerReconciler) reconcilePolicies(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	var list v1alpha1.AccessPolicyList
	if err := r.List(ctx, &list, client.InNamespace(server.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing AccessPolicies: %w", err)
	}
	s.policies = boundPolicies(server, list.Items)
	server.Status.BoundPolicies = int32(len(s.policies))

	var invalid, pending []string
	for i := range s.policies {
		p := &s.policies[i]
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionValid)
		switch {
		case c == nil || c.ObservedGeneration != p.Generation:
			pending = append(pending, p.Name)
		case c.Status == metav1.ConditionFalse:
			invalid = append(invalid, p.Name)
		}
	}

	gen := server.Generation
	switch {
	case len(invalid) > 0:
		msg := fmt.Sprintf("Bound AccessPolicy %s %s invalid; see kubectl describe accesspolicy %s.",
			strings.Join(invalid, ", "), plural(len(invalid), "is", "are"), invalid[0])
		if setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionPoliciesValid, metav1.ConditionFalse, ReasonInvalidPolicy, msg) {
			r.Recorder.Eventf(server, nil, corev1.EventTypeWarning, ReasonInvalidPolicy, "BindPolicies", "%s", truncateNote(msg))
		}
	case len(pending) > 0:
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionPoliciesValid, metav1.ConditionUnknown, ReasonPolicyPending,
			fmt.Sprintf("Waiting for AccessPolicy %s to be compiled.", strings.Join(pending, ", ")))
	case len(s.policies) == 0:
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionPoliciesValid, metav1.ConditionTrue, ReasonNoPolicies,
			"No AccessPolicy binds this server; the sidecar denies every call.")
	default:
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionPoliciesValid, metav1.ConditionTrue, ReasonPoliciesValid,
			fmt.Sprintf("%d bound AccessPolicies compiled.", len(s.policies)))
	}
	return ctrl.Result{}, nil
}

// reconcilePods counts the pods running the sidecar and warns about pods the
// server covers that run without it: they can be called around the proxy.
func (r *MCPServerReconciler) reconcilePods(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	opts := []client.ListOption{client.InNamespace(server.Namespace)}
	if server.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(server.Spec.Selector)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("spec.selector: %w", err)
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	}
	var list corev1.PodList
	if err := r.List(ctx, &list, opts...); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing pods: %w", err)
	}
	injected, bypassing := classifyPods(server, list.Items)
	s.serviceAccounts = serviceAccounts(injected)
	server.Status.InjectedPods = int32(len(injected))

	gen := server.Generation
	switch {
	case len(bypassing) > 0:
		names := make([]string, 0, 3)
		for _, p := range bypassing[:min(3, len(bypassing))] {
			names = append(names, p.Name)
		}
		more := ""
		if len(bypassing) > 3 {
			more = fmt.Sprintf(" and %d more", len(bypassing)-3)
		}
		msg := fmt.Sprintf("%d pod(s) match spec.selector but run without the Airlock sidecar and can be called around the proxy: %s%s. "+
			"Label the namespace %s=enabled (or the pods %s=true), annotate them %s=%s and recreate them.",
			len(bypassing), strings.Join(names, ", "), more,
			v1alpha1.InjectionNamespaceLabel, v1alpha1.InjectPodLabel, v1alpha1.ServerAnnotation, server.Name)
		if setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionInjected, metav1.ConditionFalse, ReasonPodsWithoutSidecar, msg) {
			r.Recorder.Eventf(server, &bypassing[0], corev1.EventTypeWarning, ReasonPodsWithoutSidecar, "InspectPods", "%s", truncateNote(msg))
		}
	case len(injected) == 0:
		// Nothing bypasses the proxy yet; Ready does not wait for pods.
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionInjected, metav1.ConditionTrue, ReasonNoPods,
			"No pods match spec.selector yet.")
	default:
		setCondition(&server.Status.Conditions, gen, v1alpha1.ConditionInjected, metav1.ConditionTrue, ReasonAllPodsInjected,
			fmt.Sprintf("All %d pod(s) run the Airlock sidecar.", len(injected)))
	}
	return ctrl.Result{}, nil
}

// reconcileRBAC grants the service accounts of the server's sidecars what the
// sidecar reads and writes, and TokenReview when an issuer needs it.
func (r *MCPServerReconciler) reconcileRBAC(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server

	role := desiredRole(server, s.policies)
	live := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: role.Namespace, Name: role.Name}}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, live, func() error {
		adopt(live, role)
		live.Rules = role.Rules
		return nil
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("applying Role %s: %w", role.Name, err)
	}
	r.recordApplied(server, "Role", role.Name, op, "")

	binding := desiredRoleBinding(server, s.serviceAccounts)
	liveBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: binding.Namespace, Name: binding.Name}}
	op, err = controllerutil.CreateOrUpdate(ctx, r.Client, liveBinding, func() error {
		adopt(liveBinding, binding)
		liveBinding.RoleRef = binding.RoleRef
		liveBinding.Subjects = binding.Subjects
		return nil
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("applying RoleBinding %s: %w", binding.Name, err)
	}
	r.recordApplied(server, "RoleBinding", binding.Name, op, subjectsNote(s.serviceAccounts))

	crb := desiredClusterRoleBinding(server, s.serviceAccounts)
	if crb == nil {
		name := clusterRoleBindingName(server)
		err := r.Delete(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}})
		if err == nil {
			r.recordApplied(server, "ClusterRoleBinding", name, "deleted", "")
		} else if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("deleting ClusterRoleBinding %s: %w", name, err)
		}
		return ctrl.Result{}, nil
	}
	liveCRB := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: crb.Name}}
	op, err = controllerutil.CreateOrUpdate(ctx, r.Client, liveCRB, func() error {
		adopt(liveCRB, crb)
		liveCRB.RoleRef = crb.RoleRef
		liveCRB.Subjects = crb.Subjects
		return nil
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("applying ClusterRoleBinding %s: %w", crb.Name, err)
	}
	r.recordApplied(server, "ClusterRoleBinding", crb.Name, op, subjectsNote(s.serviceAccounts))
	return ctrl.Result{}, nil
}

// reconcileNetworkPolicy fences the server's pods so only the sidecar's
// ports are reachable, or removes the fence when networkPolicy is None.
func (r *MCPServerReconciler) reconcileNetworkPolicy(ctx context.Context, s *serverScope) (ctrl.Result, error) {
	server := s.server
	np := desiredNetworkPolicy(server)
	if np == nil {
		if enforce(server) {
			r.Recorder.Eventf(server, nil, corev1.EventTypeWarning, "NetworkPolicyNotEnforced", "FencePods",
				"networkPolicy is Enforce but spec.selector is empty; a NetworkPolicy can only select pods by label")
		}
		name := networkPolicyName(server)
		err := r.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: server.Namespace, Name: name}})
		if err == nil {
			r.recordApplied(server, "NetworkPolicy", name, "deleted", "")
		} else if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("deleting NetworkPolicy %s: %w", name, err)
		}
		return ctrl.Result{}, nil
	}
	live := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: np.Namespace, Name: np.Name}}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, live, func() error {
		adopt(live, np)
		live.Spec = np.Spec
		return nil
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("applying NetworkPolicy %s: %w", np.Name, err)
	}
	r.recordApplied(server, "NetworkPolicy", np.Name, op, "")
	return ctrl.Result{}, nil
}

// recordApplied emits an Event when an owned object was created, changed or
// deleted; unchanged objects are not worth a line in kubectl describe.
func (r *MCPServerReconciler) recordApplied(server *v1alpha1.MCPServer, kind, name string, op controllerutil.OperationResult, detail string) {
	var verb string
	switch op {
	case controllerutil.OperationResultCreated:
		verb = "Created"
	case controllerutil.OperationResultUpdated:
		verb = "Updated"
	case "deleted":
		verb = "Deleted"
	default:
		return
	}
	note := fmt.Sprintf("%s %s %s", verb, kind, name)
	if detail != "" && verb != "Deleted" {
		note += ": " + detail
	}
	r.Recorder.Eventf(server, nil, corev1.EventTypeNormal, kind+verb, "Apply"+kind, "%s", truncateNote(note))
}

// setReady summarises the other conditions: Ready is True when the
// credentials resolve, the bound policies compiled and no covered pod runs
// without the sidecar. A server with no pods yet can be Ready, so that it is
// Ready before its Deployment scales up; otherwise Ready carries the reason
// and message of the first condition that is not True.
func setReady(server *v1alpha1.MCPServer) {
	conds := &server.Status.Conditions
	for _, typ := range []string{v1alpha1.ConditionCredentialsResolved, v1alpha1.ConditionPoliciesValid, v1alpha1.ConditionInjected} {
		c := meta.FindStatusCondition(*conds, typ)
		switch {
		case c == nil:
			setCondition(conds, server.Generation, v1alpha1.ConditionReady, metav1.ConditionUnknown, ReasonReconciling,
				fmt.Sprintf("%s has not been checked yet.", typ))
			return
		case c.Status != metav1.ConditionTrue:
			setCondition(conds, server.Generation, v1alpha1.ConditionReady, c.Status, c.Reason, c.Message)
			return
		}
	}
	setCondition(conds, server.Generation, v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonReady,
		fmt.Sprintf("Credentials resolved, %d bound AccessPolicies valid, %d pod(s) running the sidecar.",
			server.Status.BoundPolicies, server.Status.InjectedPods))
}

// boundPolicies returns the live policies that bind the server, by name.
func boundPolicies(server *v1alpha1.MCPServer, policies []v1alpha1.AccessPolicy) []v1alpha1.AccessPolicy {
	var bound []v1alpha1.AccessPolicy
	for i := range policies {
		if policies[i].DeletionTimestamp.IsZero() && policy.Binds(&policies[i], server) {
			bound = append(bound, policies[i])
		}
	}
	slices.SortFunc(bound, func(a, b v1alpha1.AccessPolicy) int { return cmp.Compare(a.Name, b.Name) })
	return bound
}

// classifyPods splits the live pods the server covers into those running its
// sidecar and those running without it. A pod is covered when it matches
// spec.selector, or, without a selector, when it names the server in its
// annotation. It runs the sidecar when the injector marked it for this server.
func classifyPods(server *v1alpha1.MCPServer, pods []corev1.Pod) (injected, bypassing []corev1.Pod) {
	sel := labels.Nothing()
	if server.Spec.Selector != nil {
		var err error
		if sel, err = metav1.LabelSelectorAsSelector(server.Spec.Selector); err != nil {
			return nil, nil
		}
	}
	for _, p := range pods {
		if p.Namespace != server.Namespace || !p.DeletionTimestamp.IsZero() ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		named := p.Annotations[v1alpha1.ServerAnnotation] == server.Name
		if server.Spec.Selector == nil && !named || server.Spec.Selector != nil && !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		if named && p.Annotations[v1alpha1.InjectedStatusAnnotation] != "" {
			injected = append(injected, p)
		} else {
			bypassing = append(bypassing, p)
		}
	}
	byName := func(a, b corev1.Pod) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(injected, byName)
	slices.SortFunc(bypassing, byName)
	return injected, bypassing
}

// serviceAccounts returns the sorted, distinct service accounts of pods.
func serviceAccounts(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, cmp.Or(p.Spec.ServiceAccountName, "default"))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// sidecarSecretNames are the Secrets a sidecar of the server reads: upstream
// credentials, its TLS certificate and the masking hash keys of its policies.
func sidecarSecretNames(server *v1alpha1.MCPServer, policies []v1alpha1.AccessPolicy) []string {
	names := secretNames(server)
	for _, p := range policies {
		if m := p.Spec.Masking; m != nil && m.HashKeySecretRef != nil {
			names = append(names, m.HashKeySecretRef.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// secretNames are the Secrets the server itself references, for the index.
func secretNames(server *v1alpha1.MCPServer) []string {
	var names []string
	for _, c := range server.Spec.Upstream.Credentials {
		names = append(names, c.SecretRef.Name)
	}
	if tls := server.Spec.Listen.TLSSecretRef; tls != nil {
		names = append(names, tls.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// desiredRole is what a sidecar of the server may read and write in its
// namespace, limited by resourceNames wherever Kubernetes honours them.
//
// Secrets carry get, list and watch with resourceNames: the authorizer
// applies resourceNames to list and watch only when the request selects one
// object with the field selector metadata.name=<name>, which is how the
// sidecar watches each Secret. A Secret rule without names would grant every
// Secret, so the rule is left out when the server references none.
func desiredRole(server *v1alpha1.MCPServer, policies []v1alpha1.AccessPolicy) *rbacv1.Role {
	group := v1alpha1.GroupVersion.Group
	read := []string{"get", "list", "watch"}
	var rules []rbacv1.PolicyRule
	if secrets := sidecarSecretNames(server, policies); len(secrets) > 0 {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: read, ResourceNames: secrets})
	}
	rules = append(rules,
		rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{"mcpservers"}, Verbs: read, ResourceNames: []string{server.Name}},
		// Policies hold no secrets, and the sidecar must see new ones bind.
		rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{"accesspolicies"}, Verbs: read},
		// ApprovalRequest names are generated, so they cannot be listed in advance.
		rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{"approvalrequests"}, Verbs: []string{"create", "get", "list", "watch"}},
		// The sidecar marks an approved request Consumed.
		rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{"approvalrequests/status"}, Verbs: []string{"update", "patch"}},
	)
	return &rbacv1.Role{
		ObjectMeta: ownedMeta(server, roleName(server)),
		Rules:      rules,
	}
}

// desiredRoleBinding binds the server's Role to the service accounts its
// sidecars run as. Only accounts of pods seen running the sidecar are bound;
// the list may be empty.
func desiredRoleBinding(server *v1alpha1.MCPServer, serviceAccounts []string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: ownedMeta(server, roleName(server)),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName(server)},
		Subjects:   subjects(server.Namespace, serviceAccounts),
	}
}

// desiredClusterRoleBinding grants TokenReview and SubjectAccessReview through
// the chart's ClusterRole; it is nil unless an issuer of the server accepts
// service-account tokens. It has no owner reference (a namespaced owner
// cannot own a cluster-scoped object): the finalizer deletes it.
func desiredClusterRoleBinding(server *v1alpha1.MCPServer, serviceAccounts []string) *rbacv1.ClusterRoleBinding {
	if !slices.ContainsFunc(server.Spec.Authentication.Issuers, func(i v1alpha1.Issuer) bool { return i.Kubernetes != nil }) {
		return nil
	}
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:        clusterRoleBindingName(server),
			Labels:      map[string]string{ManagedByLabel: managedBy},
			Annotations: map[string]string{OwnerAnnotation: server.Namespace + "/" + server.Name},
		},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: SidecarAuthClusterRole},
		Subjects: subjects(server.Namespace, serviceAccounts),
	}
}

// desiredNetworkPolicy admits ingress to the server's pods on the sidecar's
// listen and metrics ports only. It is nil when networkPolicy is None, or
// when there is no selector to fence pods with.
func desiredNetworkPolicy(server *v1alpha1.MCPServer) *networkingv1.NetworkPolicy {
	if !enforce(server) || server.Spec.Selector == nil {
		return nil
	}
	tcp := corev1.ProtocolTCP
	port := func(p int32) networkingv1.NetworkPolicyPort {
		v := intstr.FromInt32(p)
		return networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &v}
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: ownedMeta(server, networkPolicyName(server)),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: *server.Spec.Selector.DeepCopy(),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{port(cmp.Or(server.Spec.Listen.Port, defaultListenPort)), port(SidecarMetricsPort)},
			}},
		},
	}
}

func enforce(server *v1alpha1.MCPServer) bool {
	// An empty mode is the CRD default, Enforce.
	return server.Spec.NetworkPolicy != v1alpha1.NetworkPolicyNone
}

func subjects(namespace string, serviceAccounts []string) []rbacv1.Subject {
	var out []rbacv1.Subject
	for _, sa := range serviceAccounts {
		out = append(out, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: sa})
	}
	return out
}

func ownedMeta(server *v1alpha1.MCPServer, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:       server.Namespace,
		Name:            name,
		Labels:          map[string]string{ManagedByLabel: managedBy},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(server, v1alpha1.GroupVersion.WithKind("MCPServer"))},
	}
}

// adopt copies desired labels, annotations and owner references onto a live
// object, keeping what others added.
func adopt(live, desired metav1.Object) {
	live.SetLabels(mergeMaps(live.GetLabels(), desired.GetLabels()))
	live.SetAnnotations(mergeMaps(live.GetAnnotations(), desired.GetAnnotations()))
	refs := live.GetOwnerReferences()
	for _, want := range desired.GetOwnerReferences() {
		if i := slices.IndexFunc(refs, func(r metav1.OwnerReference) bool { return r.UID == want.UID }); i >= 0 {
			refs[i] = want
		} else {
			refs = append(refs, want)
		}
	}
	live.SetOwnerReferences(refs)
}

func mergeMaps(into, from map[string]string) map[string]string {
	if len(from) == 0 {
		return into
	}
	if into == nil {
		into = map[string]string{}
	}
	for k, v := range from {
		into[k] = v
	}
	return into
}

func roleName(server *v1alpha1.MCPServer) string {
	return childName("airlock-sidecar-", server.Name)
}

func networkPolicyName(server *v1alpha1.MCPServer) string {
	return childName("airlock-", server.Name)
}

// clusterRoleBindingName joins namespace and name with ':', which neither may
// contain, so no two servers share a binding.
func clusterRoleBindingName(server *v1alpha1.MCPServer) string {
	return "airlock-sidecar:" + server.Namespace + ":" + server.Name
}

// childName prefixes name, shortening it with a hash when the result would
// exceed the 253 characters of a DNS subdomain.
func childName(prefix, name string) string {
	const maxLen = 253
	if len(prefix)+len(name) <= maxLen {
		return prefix + name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:])[:8]
	return prefix + strings.TrimRight(name[:maxLen-len(prefix)-len(suffix)], "-.") + suffix
}

func subjectsNote(serviceAccounts []string) string {
	if len(serviceAccounts) == 0 {
		return "no service accounts bound yet"
	}
	return "binds service account(s) " + strings.Join(serviceAccounts, ", ")
}

// truncateNote keeps an Event note within the events API's 1 KiB.
func truncateNote(s string) string {
	const maxNote = 1024
	if len(s) <= maxNote {
		return s
	}
	return s[:maxNote-3] + "..."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// SetupWithManager registers the reconciler and the watches that bring a
// server back: its owned objects, and the Secrets, AccessPolicies and pods it
// depends on.
func (r *MCPServerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.MCPServer{}, secretNameIndex, func(o client.Object) []string {
		return secretNames(o.(*v1alpha1.MCPServer))
	}); err != nil {
		return fmt.Errorf("indexing MCPServers by Secret: %w", err)
	}
	managed := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()[ManagedByLabel] == managedBy })
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.MCPServer{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&rbacv1.ClusterRoleBinding{}, handler.EnqueueRequestsFromMapFunc(serverOfClusterRoleBinding), builder.WithPredicates(managed)).
		// Metadata only: the cache must not hold Secret data.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.serversForSecret), builder.OnlyMetadata).
		Watches(&v1alpha1.AccessPolicy{}, handler.EnqueueRequestsFromMapFunc(r.serversInNamespace)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.serversForPod)).
		Complete(r)
}

func serverOfClusterRoleBinding(_ context.Context, o client.Object) []reconcile.Request {
	ns, name, ok := strings.Cut(o.GetAnnotations()[OwnerAnnotation], "/")
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

func (r *MCPServerReconciler) serversForSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.MCPServerList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{secretNameIndex: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing MCPServers for a Secret", "secret", o.GetNamespace()+"/"+o.GetName())
		return nil
	}
	return requests(list.Items, func(*v1alpha1.MCPServer) bool { return true })
}

// serversInNamespace re-reconciles every server of the namespace when a
// policy changes: a changed policy may stop binding a server it bound before.
func (r *MCPServerReconciler) serversInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.MCPServerList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing MCPServers", "namespace", o.GetNamespace())
		return nil
	}
	return requests(list.Items, func(*v1alpha1.MCPServer) bool { return true })
}

// serversForPod finds the servers a pod names or whose selector it matches.
func (r *MCPServerReconciler) serversForPod(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.MCPServerList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing MCPServers for a pod", "pod", o.GetNamespace()+"/"+o.GetName())
		return nil
	}
	return requests(list.Items, func(s *v1alpha1.MCPServer) bool {
		if o.GetAnnotations()[v1alpha1.ServerAnnotation] == s.Name {
			return true
		}
		if s.Spec.Selector == nil {
			return false
		}
		sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
		return err == nil && sel.Matches(labels.Set(o.GetLabels()))
	})
}

func requests(servers []v1alpha1.MCPServer, keep func(*v1alpha1.MCPServer) bool) []reconcile.Request {
	var out []reconcile.Request
	for i := range servers {
		if keep(&servers[i]) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&servers[i])})
		}
	}
	return out
}
