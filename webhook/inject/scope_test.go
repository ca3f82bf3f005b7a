package inject

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/yaml"

	"github.com/mcp-airlock/airlock/test/envtest"
)

// TestKustomizeScopePatchMatchesScope applies config/webhook/scope_patch.yaml
// to the generated configuration, as kustomize does, and compares the result
// with Scope. (charts/airlock/chart_test.go does the same for the chart.)
func TestKustomizeScopePatchMatchesScope(t *testing.T) {
	dir := filepath.Join(envtest.RepoRoot(), "config", "webhook")
	manifest, err := os.ReadFile(filepath.Join(dir, "manifests.yaml"))
	if err != nil {
		t.Fatalf("%v (run make manifests)", err)
	}
	patchYAML, err := os.ReadFile(filepath.Join(dir, "scope_patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := yaml.YAMLToJSON(manifest)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := yaml.YAMLToJSON(patchYAML)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply(doc)
	if err != nil {
		t.Fatalf("applying scope_patch.yaml: %v", err)
	}

	var generated, got admissionregistrationv1.MutatingWebhookConfiguration
	if err := yaml.Unmarshal(doc, &generated); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	want := Scope(generated.Webhooks[0], "airlock-system", "kube-system")
	if !reflect.DeepEqual(got.Webhooks, want) {
		t.Errorf("config/webhook/scope_patch.yaml disagrees with Scope:\n%s", diff.Diff(want, got.Webhooks))
	}
}
