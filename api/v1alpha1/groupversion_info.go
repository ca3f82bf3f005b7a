// Package v1alpha1 holds the Airlock API: MCPServer, AccessPolicy and
// ApprovalRequest in the group mcp.airlock.dev.
//
// +kubebuilder:object:generate=true
// +groupName=mcp.airlock.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every Airlock kind.
	GroupVersion = schema.GroupVersion{Group: "mcp.airlock.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Airlock kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Airlock kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
