// Package v1alpha1 holds the Airlock API: MCPServer, AccessPolicy and
// ApprovalRequest in the group mcp.airlock.dev.
//
// +kubebuilder:object:generate=true
// +groupName=mcp.airlock.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every Airlock kind.
	GroupVersion = schema.GroupVersion{Group: "mcp.airlock.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Airlock kinds with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Airlock kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&MCPServer{}, &MCPServerList{},
		&AccessPolicy{}, &AccessPolicyList{},
		&ApprovalRequest{}, &ApprovalRequestList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
