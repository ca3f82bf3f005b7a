package inject

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

// status is the JSON in the annotation mcp.airlock.dev/injected.
type status struct {
	Version        string   `json:"version"`
	Server         string   `json:"server"`
	InitContainers []string `json:"initContainers,omitempty"`
	Containers     []string `json:"containers,omitempty"`
	Volumes        []string `json:"volumes"`
	// WrappedContainer is the Stdio MCP container whose command now starts
	// the sidecar.
	WrappedContainer string `json:"wrappedContainer,omitempty"`
}

func writeStatus(pod *corev1.Pod, st status) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[v1alpha1.InjectedStatusAnnotation] = string(raw)
	return nil
}
