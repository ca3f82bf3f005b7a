package inject

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/yaml"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from Inject's output")

// goldenCases name testdata/<name>.yaml (input pod) and
// testdata/<name>.golden.yaml (expected pod); the pod names its MCPServer
// from testdata/mcpservers.yaml.
var goldenCases = []struct {
	name string
	cfg  func(*Config)
}{
	{name: "http"},
	{name: "stdio"},
	{name: "non-native", cfg: func(c *Config) {
		c.NativeSidecars = false
		c.TokenAudience = "airlock"
		c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse("512Mi")
		delete(c.Resources.Limits, corev1.ResourceCPU)
	}},
	{name: "existing-volumes"},
	{name: "already-injected"},
	{name: "host-network"},
	{name: "forged-sidecar"},
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.SidecarImage = "ghcr.io/mcp-airlock/airlock-sidecar:v0.1.0"
	cfg.Version = "v0.1.0"
	return cfg
}

func TestInjectGolden(t *testing.T) {
	servers := loadServers(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in := loadPod(t, filepath.Join("testdata", tc.name+".yaml"))
			server, ok := servers[in.Annotations[v1alpha1.ServerAnnotation]]
			if !ok {
				t.Fatalf("testdata/mcpservers.yaml has no MCPServer %q", in.Annotations[v1alpha1.ServerAnnotation])
			}
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			original := in.DeepCopy()

			got, err := Inject(in, server, cfg)
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if !reflect.DeepEqual(in, original) {
				t.Errorf("Inject changed its input pod:\n%s", diff.Diff(original, in))
			}
			out, err := yaml.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./webhook/inject -update to write it)", err)
			}
			if !bytes.Equal(want, out) {
				t.Errorf("%s is stale (run go test ./webhook/inject -update and review the diff):\n%s", golden, diff.Diff(string(want), string(out)))
			}

			again, err := Inject(got, server, cfg)
			if err != nil {
				t.Fatalf("second Inject: %v", err)
			}
			if !reflect.DeepEqual(got, again) {
				t.Errorf("injecting twice is not idempotent:\n%s", diff.Diff(got, again))
			}
		})
	}
}

// TestEveryTestdataFileHasACase keeps testdata and goldenCases in step, so a
// golden left behind by a removed case is noticed.
func TestEveryTestdataFileHasACase(t *testing.T) {
	known := map[string]bool{"mcpservers.yaml": true}
	for _, tc := range goldenCases {
		known[tc.name+".yaml"] = true
		known[tc.name+".golden.yaml"] = true
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !known[filepath.Base(f)] {
			t.Errorf("%s belongs to no case in goldenCases: add the case or remove the file", f)
		}
	}
}

func TestInjectAlreadyInjectedIsUnchanged(t *testing.T) {
	servers := loadServers(t)
	in := loadPod(t, filepath.Join("testdata", "already-injected.yaml"))
	got, err := Inject(in, servers["ml-tools"], testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, got) {
		t.Errorf("an injected pod changed:\n%s", diff.Diff(in, got))
	}
}

func TestInjectRefuses(t *testing.T) {
	servers := loadServers(t)
	base := func() *corev1.Pod { return loadPod(t, filepath.Join("testdata", "http.yaml")) }
	cases := []struct {
		name   string
		server string
		mutate func(*corev1.Pod, *Config)
		want   string
	}{
		{
			name:   "a Stdio MCP container without a command",
			server: "files",
			want:   `container "mcp" has no command: MCPServer files uses transport Stdio`,
		},
		{
			name:   "a container annotation naming no container",
			server: "ml-tools",
			mutate: func(p *corev1.Pod, _ *Config) { p.Annotations[ContainerAnnotation] = "server" },
			want:   `annotation mcp.airlock.dev/container names container "server", but the pod's containers are [mcp]`,
		},
		{
			name:   "a container declaring the sidecar's metrics port",
			server: "ml-tools",
			mutate: func(p *corev1.Pod, _ *Config) {
				p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 9090})
			},
			want: `container "mcp" declares port 9090, which is the sidecar's metrics port`,
		},
		{
			name:   "a container declaring the listen port",
			server: "ml-tools",
			mutate: func(p *corev1.Pod, _ *Config) { p.Spec.Containers[0].Ports[0].ContainerPort = 9443 },
			want:   `container "mcp" declares port 9443, which is spec.listen.port of MCPServer ml-tools`,
		},
		{
			name:   "a config without a sidecar image",
			server: "ml-tools",
			mutate: func(_ *corev1.Pod, c *Config) { c.SidecarImage = "" },
			want:   "airlock injector misconfigured: the sidecar image is empty: set --sidecar-image",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod, cfg := base(), testConfig()
			if tc.mutate != nil {
				tc.mutate(pod, &cfg)
			}
			_, err := Inject(pod, servers[tc.server], cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestInjectMountsTheTokenOnlyIntoTheSidecar(t *testing.T) {
	servers := loadServers(t)
	got, err := Inject(loadPod(t, filepath.Join("testdata", "existing-volumes.yaml")), servers["events"], testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(got.Spec.InitContainers, got.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			if m.Name == TokenVolume && c.Name != SidecarContainer {
				t.Errorf("container %s mounts %s", c.Name, TokenVolume)
			}
		}
	}
	if got.Spec.AutomountServiceAccountToken == nil || *got.Spec.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken changed to %v", got.Spec.AutomountServiceAccountToken)
	}
}

func loadPod(t *testing.T, path string) *corev1.Pod {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict(raw, pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pod
}

func loadServers(t *testing.T) map[string]*v1alpha1.MCPServer {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "mcpservers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]*v1alpha1.MCPServer{}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		s := &v1alpha1.MCPServer{}
		if err := yaml.UnmarshalStrict([]byte(doc), s); err != nil {
			t.Fatalf("mcpservers.yaml: %v", err)
		}
		servers[s.Name] = s
	}
	return servers
}
