package controllers

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
)

const (
	// Finalizer lets the MCPServer reconciler delete its cluster-scoped
	// ClusterRoleBinding, which owner references cannot reach.
	Finalizer = "mcp.airlock.dev/finalizer"

	// ManagedByLabel marks the objects the manager creates.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	managedBy      = "airlock"

	// OwnerAnnotation names the MCPServer (namespace/name) that a
	// cluster-scoped object belongs to.
	OwnerAnnotation = "mcp.airlock.dev/owner"

	// SidecarAuthClusterRole is shipped by the chart: create on tokenreviews
	// and subjectaccessreviews, which only a ClusterRoleBinding can grant.
	SidecarAuthClusterRole = "airlock-sidecar-auth"

	// SidecarMetricsPort is the sidecar's Prometheus port, reachable through
	// the NetworkPolicy besides the listen port.
	SidecarMetricsPort = 9090

	// eventRecorderName is the reportingController of the Events we emit.
	eventRecorderName = "airlock-manager"
)

// SetupWithManager registers the Airlock reconcilers with mgr.
func SetupWithManager(mgr ctrl.Manager) error {
	recorder := mgr.GetEventRecorder(eventRecorderName)
	if err := (&MCPServerReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  recorder,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the MCPServer controller: %w", err)
	}
	if err := (&AccessPolicyReconciler{
		Client:   mgr.GetClient(),
		Recorder: recorder,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the AccessPolicy controller: %w", err)
	}
	return nil
}
