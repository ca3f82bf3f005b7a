package inject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

// Path the webhook server serves the injector on.
const Path = "/inject-v1-pod"

// Events the injector records on the MCPServer a pod names.
const (
	ReasonInjectionSkipped = "InjectionSkipped"
	actionInject           = "Inject"
)

// The generated configuration has one entry; the chart and config/webhook
// split it in two with Scope.
//
// +kubebuilder:webhook:path=/inject-v1-pod,mutating=true,failurePolicy=fail,sideEffects=None,groups="",resources=pods,verbs=create,versions=v1,name=inject.mcp.airlock.dev,admissionReviewVersions=v1,timeoutSeconds=10

// +kubebuilder:rbac:groups=mcp.airlock.dev,resources=mcpservers,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Handler is the admission handler for pod CREATE.
type Handler struct {
	// Client reads MCPServers.
	Client  client.Reader
	Decoder admission.Decoder
	// Recorder records why a pod was admitted without the sidecar.
	Recorder events.EventRecorder
	Config   Config
}

var _ admission.Handler = (*Handler)(nil)

// Handle injects the sidecar into pods that carry the annotation
// mcp.airlock.dev/server.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	pod := &corev1.Pod{}
	if err := h.Decoder.Decode(req, pod); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	name, ok := pod.Annotations[v1alpha1.ServerAnnotation]
	if !ok {
		return admission.Allowed("no " + v1alpha1.ServerAnnotation + " annotation")
	}
	ns := req.Namespace
	log := logf.FromContext(ctx).WithValues("pod", ns+"/"+podName(pod), "server", ns+"/"+name)

	server := &v1alpha1.MCPServer{}
	if err := h.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, server); err != nil {
		if apierrors.IsNotFound(err) {
			return admission.Denied(fmt.Sprintf("MCPServer %s not found in namespace %s: create it or remove the annotation %s",
				name, ns, v1alpha1.ServerAnnotation))
		}
		log.Error(err, "looking up MCPServer")
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("looking up MCPServer %s in namespace %s: %w", name, ns, err))
	}

	if reason := SkipReason(pod); reason != "" {
		log.Info("admitting pod without the sidecar", "reason", reason)
		if req.DryRun == nil || !*req.DryRun {
			h.Recorder.Eventf(server, nil, corev1.EventTypeWarning, ReasonInjectionSkipped, actionInject,
				"Pod %s: %s", podName(pod), reason)
		}
		return admission.Allowed("sidecar not injected").WithWarnings(reason)
	}

	mutated, err := Inject(pod, server, h.Config)
	if err != nil {
		return admission.Denied(err.Error())
	}
	// Diff against the pod as decoded, not req.Object.Raw: a field that this
	// binary's API types do not know (a newer API server) is then left
	// alone instead of being removed by the patch.
	before, err := json.Marshal(pod)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	after, err := json.Marshal(mutated)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	log.V(1).Info("injecting sidecar")
	return admission.PatchResponseFromRaw(before, after)
}

// podName names a pod that may not have its name yet (a ReplicaSet's pods
// only have generateName at admission).
func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Name
	}
	return pod.GenerateName + "*"
}

// Register serves the injector on mgr's webhook server and adds a readiness
// check that passes once the MCPServer cache has synced, so that a replica
// only gets admission requests it can answer.
func Register(mgr manager.Manager, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Start the MCPServer informer with the cache rather than on the first
	// admission request.
	if _, err := mgr.GetCache().GetInformer(context.Background(), &v1alpha1.MCPServer{}); err != nil {
		return fmt.Errorf("watching MCPServers: %w", err)
	}
	mgr.GetWebhookServer().Register(Path, &webhook.Admission{Handler: &Handler{
		Client:   mgr.GetClient(),
		Decoder:  admission.NewDecoder(mgr.GetScheme()),
		Recorder: mgr.GetEventRecorder("airlock-injector"),
		Config:   cfg,
	}})
	return mgr.AddReadyzCheck("mcpserver-cache", func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("the MCPServer cache has not synced yet")
		}
		return nil
	})
}
