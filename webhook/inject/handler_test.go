package inject

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/mcp-airlock/airlock/test/envtest"
)

func newHandler(t *testing.T) (*Handler, *events.FakeRecorder) {
	t.Helper()
	scheme := envtest.Scheme()
	var objs []runtime.Object
	for _, s := range loadServers(t) {
		objs = append(objs, s)
	}
	rec := events.NewFakeRecorder(10)
	return &Handler{
		Client:   fake.NewClientBuilder().WithScheme(scheme).WithRuntimeObjects(objs...).Build(),
		Decoder:  admission.NewDecoder(scheme),
		Recorder: rec,
		Config:   testConfig(),
	}, rec
}

func request(t *testing.T, raw []byte, dryRun bool) admission.Request {
	t.Helper()
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "1",
		Operation: admissionv1.Create,
		Namespace: "ml",
		Object:    runtime.RawExtension{Raw: raw},
		DryRun:    ptr.To(dryRun),
	}}
}

func podJSON(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := json.Marshal(loadPod(t, filepath.Join("testdata", name+".yaml")))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestHandlerAdmitsPodsWithoutTheAnnotationUntouched(t *testing.T) {
	h, _ := newHandler(t)
	pod := loadPod(t, filepath.Join("testdata", "http.yaml"))
	delete(pod.Annotations, "mcp.airlock.dev/server")
	raw, _ := json.Marshal(pod)
	resp := h.Handle(context.Background(), request(t, raw, false))
	if !resp.Allowed || len(resp.Patches) != 0 {
		t.Fatalf("got allowed=%v patches=%v, want allowed without patches", resp.Allowed, resp.Patches)
	}
}

func TestHandlerRefusesAPodNamingAMissingMCPServer(t *testing.T) {
	h, _ := newHandler(t)
	pod := loadPod(t, filepath.Join("testdata", "http.yaml"))
	pod.Annotations["mcp.airlock.dev/server"] = "nope"
	raw, _ := json.Marshal(pod)
	resp := h.Handle(context.Background(), request(t, raw, false))
	want := "MCPServer nope not found in namespace ml: create it or remove the annotation mcp.airlock.dev/server"
	if resp.Allowed || resp.Result.Message != want {
		t.Fatalf("got allowed=%v message=%q, want refused with %q", resp.Allowed, resp.Result.Message, want)
	}
}

func TestHandlerAdmitsHostNetworkPodsWithAWarningAndAnEvent(t *testing.T) {
	h, rec := newHandler(t)
	resp := h.Handle(context.Background(), request(t, podJSON(t, "host-network"), false))
	if !resp.Allowed || len(resp.Patches) != 0 {
		t.Fatalf("got allowed=%v patches=%v, want allowed without patches", resp.Allowed, resp.Patches)
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "hostNetwork") {
		t.Errorf("warnings %q do not explain hostNetwork", resp.Warnings)
	}
	select {
	case e := <-rec.Events:
		if !strings.HasPrefix(e, "Warning InjectionSkipped Pod ml-tools-host: pod uses hostNetwork") {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no event recorded")
	}

	h.Handle(context.Background(), request(t, podJSON(t, "host-network"), true))
	select {
	case e := <-rec.Events:
		t.Errorf("a dry run recorded the event %q", e)
	default:
	}
}

func TestHandlerPatchesInTheSidecarAndKeepsUnknownFields(t *testing.T) {
	h, _ := newHandler(t)
	var obj map[string]any
	if err := json.Unmarshal(podJSON(t, "http"), &obj); err != nil {
		t.Fatal(err)
	}
	// A field a newer API server knows and these types do not.
	obj["spec"].(map[string]any)["futureField"] = "keep me"
	raw, _ := json.Marshal(obj)

	resp := h.Handle(context.Background(), request(t, raw, false))
	if !resp.Allowed || len(resp.Patches) == 0 {
		t.Fatalf("got allowed=%v patches=%d (%v), want allowed with patches", resp.Allowed, len(resp.Patches), resp.Result)
	}
	ops, _ := json.Marshal(resp.Patches)
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(patched), `"futureField":"keep me"`) {
		t.Error("the patch removed a field unknown to the webhook")
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(patched, pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Name != SidecarContainer {
		t.Errorf("patched pod's init containers: %+v", pod.Spec.InitContainers)
	}
}

func TestHandlerRefusesWhatInjectRefuses(t *testing.T) {
	h, _ := newHandler(t)
	pod := loadPod(t, filepath.Join("testdata", "http.yaml"))
	pod.Annotations["mcp.airlock.dev/server"] = "files"
	raw, _ := json.Marshal(pod)
	resp := h.Handle(context.Background(), request(t, raw, false))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "has no command") {
		t.Fatalf("got allowed=%v message=%q", resp.Allowed, resp.Result.Message)
	}
}
