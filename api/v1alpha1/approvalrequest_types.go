package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Decision is a human's answer to an ApprovalRequest.
// +kubebuilder:validation:Enum=Approved;Denied
type Decision string

const (
	DecisionApproved Decision = "Approved"
	DecisionDenied   Decision = "Denied"
)

// ApprovalPhase is where an ApprovalRequest is in its life.
// +kubebuilder:validation:Enum=Pending;Approved;Denied;Expired;Consumed
type ApprovalPhase string

const (
	PhasePending  ApprovalPhase = "Pending"
	PhaseApproved ApprovalPhase = "Approved"
	PhaseDenied   ApprovalPhase = "Denied"
	PhaseExpired  ApprovalPhase = "Expired"
	// PhaseConsumed: the approved call has been forwarded once.
	PhaseConsumed ApprovalPhase = "Consumed"
)

// ApprovalRequestSpec is one held call. It is written by the sidecar and
// never changes.
type ApprovalRequestSpec struct {
	// Server is the MCPServer the call was made to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Server string `json:"server"`

	// Requester is who made the call.
	Requester Requester `json:"requester"`

	// Method is the MCP method, e.g. tools/call.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Method string `json:"method"`

	// Tool is the tool, prompt or resource the call names.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Tool string `json:"tool,omitempty"`

	// Arguments of the call as canonical JSON, masked and size-capped.
	// +kubebuilder:validation:MaxLength=16384
	// +optional
	Arguments string `json:"arguments,omitempty"`

	// Policy and Rule that required the approval.
	// +kubebuilder:validation:MaxLength=253
	Policy string `json:"policy"`
	// +kubebuilder:validation:MaxLength=63
	Rule string `json:"rule"`

	// Reason shown to the approver.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Reason string `json:"reason,omitempty"`

	// ApproverGroups whose members may decide, besides holders of the
	// `approve` verb on the MCPServer.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	ApproverGroups []string `json:"approverGroups,omitempty"`

	// ExpiresAt is when an undecided request expires.
	ExpiresAt metav1.Time `json:"expiresAt"`

	// RequestHash is the SHA-256 of (server, subject, method, tool, canonical
	// arguments); a retry of the same call finds its request by it.
	// +kubebuilder:validation:Pattern=`^[a-f0-9]{64}$`
	RequestHash string `json:"requestHash"`
}

// Requester is the verified identity of a caller.
type Requester struct {
	// +kubebuilder:validation:MaxLength=63
	Issuer string `json:"issuer"`
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Subject string `json:"subject"`
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	Groups []string `json:"groups,omitempty"`
	// Claims selected for the approver (e.g. cid, repository).
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	Claims map[string]string `json:"claims,omitempty"`
}

// ApprovalRequestStatus holds the decision. Approvers patch `decision` (and
// optionally `reason`); `decidedBy` and `decidedAt` are stamped by the
// admission webhook from the API server's user info.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.decision) || (has(self.decision) && self.decision == oldSelf.decision)",message="decision cannot be changed once set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.decidedBy) || (has(self.decidedBy) && self.decidedBy == oldSelf.decidedBy)",message="decidedBy cannot be changed once set"
type ApprovalRequestStatus struct {
	// +optional
	Decision Decision `json:"decision,omitempty"`

	// +kubebuilder:validation:MaxLength=1024
	// +optional
	DecidedBy string `json:"decidedBy,omitempty"`

	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Reason string `json:"reason,omitempty"`

	// +optional
	DecidedAt *metav1.Time `json:"decidedAt,omitempty"`

	// +optional
	Phase ApprovalPhase `json:"phase,omitempty"`

	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// ApprovalRequest is one MCP call held until a human approves or denies it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ar,categories=airlock
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.server`
// +kubebuilder:printcolumn:name="Tool",type=string,JSONPath=`.spec.tool`
// +kubebuilder:printcolumn:name="Requester",type=string,JSONPath=`.spec.requester.subject`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Expires",type=date,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ApprovalRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable"
	Spec   ApprovalRequestSpec   `json:"spec"`
	Status ApprovalRequestStatus `json:"status,omitempty"`
}

// ApprovalRequestList is a list of ApprovalRequests.
//
// +kubebuilder:object:root=true
type ApprovalRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApprovalRequest `json:"items"`
}
