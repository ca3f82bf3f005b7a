package v1alpha1

// Well-known labels and annotations.
const (
	// ServerAnnotation on a pod template names the MCPServer the pod serves.
	ServerAnnotation = "mcp.airlock.dev/server"
	// InjectionNamespaceLabel=enabled opts a namespace into sidecar injection.
	InjectionNamespaceLabel = "mcp.airlock.dev/injection"
	// InjectPodLabel=true opts a single pod into sidecar injection.
	InjectPodLabel = "mcp.airlock.dev/inject"
	// InjectedStatusAnnotation records what the injector added, so that a
	// second pass changes nothing.
	InjectedStatusAnnotation = "mcp.airlock.dev/injected"
)

// Condition types shared by the kinds.
const (
	ConditionReady               = "Ready"
	ConditionCredentialsResolved = "CredentialsResolved"
	ConditionPoliciesValid       = "PoliciesValid"
	ConditionInjected            = "Injected"
	ConditionValid               = "Valid"
)

// SecretKeyRef points at one key of a Secret in the object's namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
	// Key within the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}
