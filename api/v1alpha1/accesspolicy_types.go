package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Action is what a matching rule does with a call.
// +kubebuilder:validation:Enum=Allow;Deny;RequireApproval
type Action string

const (
	ActionAllow           Action = "Allow"
	ActionDeny            Action = "Deny"
	ActionRequireApproval Action = "RequireApproval"
)

// Method is an MCP method a rule governs. The matching list methods
// (tools/list, resources/list, prompts/list) are filtered by the same rules.
// +kubebuilder:validation:Enum=tools/call;resources/read;prompts/get
type Method string

const (
	MethodToolsCall     Method = "tools/call"
	MethodResourcesRead Method = "resources/read"
	MethodPromptsGet    Method = "prompts/get"
)

// Detector names a built-in masking detector.
// +kubebuilder:validation:Enum=secrets;email;creditCard;phone;ssn;iban;ipAddress
type Detector string

// AccessPolicySpec says who may do what on which MCP servers.
// +kubebuilder:validation:XValidation:rule="has(self.targetRefs) != has(self.serverSelector)",message="exactly one of targetRefs or serverSelector must be set"
type AccessPolicySpec struct {
	// TargetRefs name the MCPServers in this namespace the policy applies to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	TargetRefs []LocalObjectReference `json:"targetRefs,omitempty"`

	// ServerSelector picks MCPServers in this namespace by label.
	// +optional
	ServerSelector *metav1.LabelSelector `json:"serverSelector,omitempty"`

	// Subjects the policy applies to; a caller matching any entry is covered.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Subjects []Subject `json:"subjects"`

	// Rules decide each call. Deny wins over RequireApproval, which wins over
	// Allow; a call no rule matches is denied.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=128
	// +listType=map
	// +listMapKey=name
	Rules []Rule `json:"rules"`

	// Masking redacts secrets and personal data in what the server returns.
	// +optional
	Masking *Masking `json:"masking,omitempty"`
}

// Subject matches callers. All the fields set must match.
// +kubebuilder:validation:XValidation:rule="has(self.issuer) || has(self.groups) || has(self.subjects) || has(self.claims) || has(self.expression)",message="a subject must set at least one of issuer, groups, subjects, claims or expression"
type Subject struct {
	// Issuer is the name of an issuer in the MCPServer's authentication.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Issuer string `json:"issuer,omitempty"`

	// Groups: the caller must be in at least one.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	Groups []string `json:"groups,omitempty"`

	// Subjects: the caller's subject must be one of these (Okta client
	// credentials tokens carry the client id as `sub`).
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	Subjects []string `json:"subjects,omitempty"`

	// Claims that must have these string values (a list claim must contain it),
	// e.g. {"cid": "0oa1ci"}.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Claims map[string]string `json:"claims,omitempty"`

	// Expression is CEL over `identity` (issuer, subject, groups, scopes,
	// claims), e.g. `'mcp.write' in identity.scopes`.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Expression string `json:"expression,omitempty"`
}

// Rule decides calls that match it.
// +kubebuilder:validation:XValidation:rule="self.action == 'RequireApproval' ? has(self.approval) : !has(self.approval)",message="approval must be set when, and only when, action is RequireApproval"
type Rule struct {
	// Name is reported to callers and in audit records.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// Methods this rule governs.
	// +kubebuilder:default={"tools/call"}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +listType=set
	// +optional
	Methods []Method `json:"methods,omitempty"`

	// Tools are globs (`*`, `?`) over tool names for tools/call. Empty matches all.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9_.*?/-]{1,128}$`
	// +optional
	Tools []string `json:"tools,omitempty"`

	// Resources are globs over resource URIs for resources/read. Empty matches all.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^\S+$`
	// +kubebuilder:validation:items:MaxLength=2048
	// +optional
	Resources []string `json:"resources,omitempty"`

	// Prompts are globs over prompt names for prompts/get. Empty matches all.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9_.*?/-]{1,128}$`
	// +optional
	Prompts []string `json:"prompts,omitempty"`

	// When is a CEL condition over `identity`, `request` (method, name,
	// arguments) and `tool` (the tool's annotations, from tools/list).
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	When string `json:"when,omitempty"`

	// RequiredScopes the caller's token must carry; a caller without them
	// gets 403 insufficient_scope.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	RequiredScopes []string `json:"requiredScopes,omitempty"`

	// Action taken on a matching call.
	Action Action `json:"action"`

	// Approval configures RequireApproval.
	// +optional
	Approval *ApprovalRule `json:"approval,omitempty"`
}

// ApprovalRule says who may approve a held call and for how long it waits.
type ApprovalRule struct {
	// ApproverGroups whose members may approve, besides anyone granted the
	// `approve` verb on the MCPServer.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	ApproverGroups []string `json:"approverGroups,omitempty"`

	// Timeout overrides the MCPServer's approval timeout.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// Masking configures redaction of responses.
type Masking struct {
	// Detectors to run.
	// +kubebuilder:validation:MaxItems=16
	// +listType=set
	// +optional
	Detectors []Detector `json:"detectors,omitempty"`

	// Fields are JSON field names (`password`) or dotted paths
	// (`user.ssn`, `items.*.token`) whose values are redacted.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	Fields []string `json:"fields,omitempty"`

	// Patterns are custom RE2 regular expressions.
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	// +optional
	Patterns []MaskPattern `json:"patterns,omitempty"`

	// Replacement format; {kind} is replaced by the detector's name.
	// +kubebuilder:default="[REDACTED:{kind}]"
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Replacement string `json:"replacement,omitempty"`

	// HashKeySecretRef, when set, replaces values by a keyed hash so equal
	// values stay correlatable without being revealed.
	// +optional
	HashKeySecretRef *SecretKeyRef `json:"hashKeySecretRef,omitempty"`
}

// MaskPattern is a named custom regular expression.
type MaskPattern struct {
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Regex in RE2 syntax.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Regex string `json:"regex"`
}

// AccessPolicyStatus is what the operator observed.
type AccessPolicyStatus struct {
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// BoundServers are the MCPServers this policy currently applies to.
	// +listType=set
	// +optional
	BoundServers []string `json:"boundServers,omitempty"`
}

// AccessPolicy grants callers access to tools, resources and prompts of MCP
// servers, blocks them, or holds them for a human's approval.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ap,categories=airlock
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Servers",type=string,JSONPath=`.status.boundServers`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AccessPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AccessPolicySpec   `json:"spec"`
	Status AccessPolicyStatus `json:"status,omitempty"`
}

// AccessPolicyList is a list of AccessPolicies.
//
// +kubebuilder:object:root=true
type AccessPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AccessPolicy `json:"items"`
}
