package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Transport is how the sidecar talks to the MCP server.
// +kubebuilder:validation:Enum=StreamableHTTP;SSE;Stdio
type Transport string

const (
	TransportStreamableHTTP Transport = "StreamableHTTP"
	TransportSSE            Transport = "SSE"
	// TransportStdio makes the sidecar run the server's command as its child.
	TransportStdio Transport = "Stdio"
)

// RecordingMode says what happens when recording fails.
// +kubebuilder:validation:Enum=Required;BestEffort
type RecordingMode string

const (
	// RecordingRequired refuses traffic that cannot be recorded.
	RecordingRequired RecordingMode = "Required"
	// RecordingBestEffort serves traffic and counts what could not be recorded.
	RecordingBestEffort RecordingMode = "BestEffort"
)

// NetworkPolicyMode says whether the operator fences the pods.
// +kubebuilder:validation:Enum=Enforce;None
type NetworkPolicyMode string

const (
	// NetworkPolicyEnforce creates a NetworkPolicy so only the sidecar port is reachable.
	NetworkPolicyEnforce NetworkPolicyMode = "Enforce"
	NetworkPolicyNone    NetworkPolicyMode = "None"
)

// MCPServerSpec describes one protected MCP server.
// +kubebuilder:validation:XValidation:rule="!has(self.upstream.port) || self.listen.port != self.upstream.port",message="listen.port must differ from upstream.port"
type MCPServerSpec struct {
	// Selector picks the pods this server covers. The pods also carry the
	// annotation mcp.airlock.dev/server=<name>.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// Upstream is the MCP server behind the sidecar.
	Upstream Upstream `json:"upstream"`

	// Listen is where the sidecar accepts callers.
	// +kubebuilder:default={}
	// +optional
	Listen Listen `json:"listen"`

	// Authentication says which tokens callers may present.
	Authentication Authentication `json:"authentication"`

	// Approvals configures held calls.
	// +kubebuilder:default={}
	// +optional
	Approvals Approvals `json:"approvals"`

	// Recording configures the session log.
	// +kubebuilder:default={}
	// +optional
	Recording Recording `json:"recording"`

	// NetworkPolicy Enforce creates a NetworkPolicy so that only the sidecar
	// port of the pods is reachable; nothing can go around the proxy.
	// +kubebuilder:default=Enforce
	// +optional
	NetworkPolicy NetworkPolicyMode `json:"networkPolicy,omitempty"`
}

// Upstream is the MCP server process the sidecar fronts.
// +kubebuilder:validation:XValidation:rule="self.transport == 'Stdio' || has(self.port)",message="port is required unless transport is Stdio"
// +kubebuilder:validation:XValidation:rule="self.transport != 'Stdio' || !has(self.credentials) || self.credentials.all(c, has(c.env))",message="Stdio credentials are passed as environment variables: set env on each credential"
type Upstream struct {
	// Port of the MCP server on localhost.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// Path of the MCP endpoint.
	// +kubebuilder:default=/mcp
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$`
	// +optional
	Path string `json:"path,omitempty"`

	// Transport the MCP server speaks.
	// +kubebuilder:default=StreamableHTTP
	// +optional
	Transport Transport `json:"transport,omitempty"`

	// Credentials the MCP server expects. The first whose `when` matches the
	// caller is injected; the caller never sees it.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Credentials []UpstreamCredential `json:"credentials,omitempty"`
}

// UpstreamCredential is one credential the sidecar injects into calls to the
// MCP server. Its value is read from a Secret into sidecar memory only.
// +kubebuilder:validation:XValidation:rule="!has(self.format) || self.format.contains('{value}')",message="format must contain {value}"
type UpstreamCredential struct {
	// Name identifies the credential in status and logs.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// SecretRef is the Secret key holding the credential.
	SecretRef SecretKeyRef `json:"secretRef"`

	// Header the credential is sent in.
	// +kubebuilder:default=Authorization
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Header string `json:"header,omitempty"`

	// Format of the header value; {value} is replaced by the secret.
	// +kubebuilder:default="Bearer {value}"
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Format string `json:"format,omitempty"`

	// Env is the environment variable a Stdio server receives it in.
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Env string `json:"env,omitempty"`

	// When is a CEL expression over `identity` choosing the callers that get
	// this credential, e.g. `'ml-admins' in identity.groups`. Empty matches all.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	When string `json:"when,omitempty"`
}

// Listen is the sidecar's listener.
type Listen struct {
	// Port the sidecar serves callers on.
	// +kubebuilder:default=9443
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// TLSSecretRef names a kubernetes.io/tls Secret to serve HTTPS with.
	// +optional
	TLSSecretRef *LocalObjectReference `json:"tlsSecretRef,omitempty"`
}

// Authentication lists the token issuers callers may come from.
type Authentication struct {
	// Resource is the canonical URL callers must hold a token for (RFC 8707),
	// published in the RFC 9728 protected-resource metadata.
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Resource string `json:"resource,omitempty"`

	// Issuers trusted for this server, chosen by a token's `iss`.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	Issuers []Issuer `json:"issuers"`
}

// Issuer is one trusted token issuer: an OIDC provider or the cluster's
// service-account token issuer.
// +kubebuilder:validation:XValidation:rule="has(self.oidc) != has(self.kubernetes)",message="exactly one of oidc or kubernetes must be set"
type Issuer struct {
	// Name is how policies refer to this issuer.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// OIDC verifies JWT access tokens against the issuer's published keys.
	// +optional
	OIDC *OIDCIssuer `json:"oidc,omitempty"`

	// Kubernetes verifies service-account tokens with a TokenReview.
	// +optional
	Kubernetes *KubernetesIssuer `json:"kubernetes,omitempty"`
}

// OIDCIssuer is an OIDC provider such as an Okta authorization server.
type OIDCIssuer struct {
	// IssuerURL is the `iss` of the tokens; discovery is fetched from it.
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	// +kubebuilder:validation:MaxLength=2048
	IssuerURL string `json:"issuerURL"`

	// Audiences accepted in `aud`; at least one must be present in a token.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=2048
	Audiences []string `json:"audiences"`

	// ClaimMappings say which claims carry the subject, groups and scopes.
	// +kubebuilder:default={}
	// +optional
	ClaimMappings ClaimMappings `json:"claimMappings"`
}

// ClaimMappings name the claims an Identity is built from.
type ClaimMappings struct {
	// +kubebuilder:default=sub
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Subject string `json:"subject,omitempty"`
	// +kubebuilder:default=groups
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Groups string `json:"groups,omitempty"`
	// +kubebuilder:default=scp
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Scopes string `json:"scopes,omitempty"`
}

// KubernetesIssuer accepts the cluster's service-account tokens.
type KubernetesIssuer struct {
	// Audiences the TokenReview checks for.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=2048
	Audiences []string `json:"audiences"`
}

// Approvals configures how calls that need a human's approval are held.
type Approvals struct {
	// Timeout after which an undecided ApprovalRequest expires.
	// +kubebuilder:default="15m"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// HoldFor is how long a caller's request is held open waiting for a
	// decision; after it the caller is told to retry the same call.
	// +kubebuilder:default="30s"
	// +optional
	HoldFor *metav1.Duration `json:"holdFor,omitempty"`

	// NotificationURLSecretRef holds a webhook URL told of new requests.
	// +optional
	NotificationURLSecretRef *SecretKeyRef `json:"notificationURLSecretRef,omitempty"`
}

// Recording configures the tamper-evident session log.
type Recording struct {
	// +kubebuilder:default=BestEffort
	// +optional
	Mode RecordingMode `json:"mode,omitempty"`
}

// MCPServerStatus is what the operator observed.
type MCPServerStatus struct {
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// BoundPolicies counts the AccessPolicies that apply to this server.
	// +optional
	BoundPolicies int32 `json:"boundPolicies"`

	// InjectedPods counts running pods that carry the sidecar.
	// +optional
	InjectedPods int32 `json:"injectedPods"`
}

// MCPServer is one MCP server protected by the Airlock sidecar.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcps,categories=airlock
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Policies",type=integer,JSONPath=`.status.boundPolicies`
// +kubebuilder:printcolumn:name="Pods",type=integer,JSONPath=`.status.injectedPods`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MCPServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MCPServerSpec   `json:"spec"`
	Status MCPServerStatus `json:"status,omitempty"`
}

// MCPServerList is a list of MCPServers.
//
// +kubebuilder:object:root=true
type MCPServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MCPServer `json:"items"`
}
