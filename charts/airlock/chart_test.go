// Tests of the Helm chart: what `helm template` renders is accepted by a
// real API server, and agrees with the generated RBAC and webhook
// configuration and with the manager's flags.
package airlock_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/mcp-airlock/airlock/test/envtest"
	"github.com/mcp-airlock/airlock/webhook/inject"
)

const (
	release   = "airlock"
	namespace = "airlock-system"
)

var (
	env  *envtest.Env
	helm string
)

func TestChart(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Helm chart on a real API server")
}

var _ = BeforeSuite(func() {
	helm = findHelm()
	var err error
	env, err = envtest.Start()
	Expect(err).NotTo(HaveOccurred())
	Expect(env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// findHelm returns $HELM or the helm that `make tools` installs into bin/.
func findHelm() string {
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	found, _ := filepath.Glob(filepath.Join(envtest.RepoRoot(), "bin", "helm-v*"))
	if len(found) == 0 {
		Fail("helm is not in bin/: run `make tools` (make test installs it) or set HELM to a helm v3 binary")
	}
	sort.Strings(found)
	return found[len(found)-1]
}

// render runs helm template and returns the objects it prints.
func render(args ...string) []*unstructured.Unstructured {
	GinkgoHelper()
	cmd := exec.Command(helm, append([]string{"template", release, filepath.Join(envtest.RepoRoot(), "charts", "airlock"), "-n", namespace}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "helm template %v: %s", args, stderr.String())

	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			Fail(fmt.Sprintf("decoding helm template output: %v", err))
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	Expect(objs).NotTo(BeEmpty())
	return objs
}

// find converts the rendered object of that kind and name into out.
func find(objs []*unstructured.Unstructured, kind, name string, out runtime.Object) {
	GinkgoHelper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out)).To(Succeed())
			return
		}
	}
	Fail(fmt.Sprintf("the chart renders no %s %s", kind, name))
}

// dryRun creates every object with server-side dry run, except those whose
// API the test server lacks (cert-manager's).
func dryRun(objs []*unstructured.Unstructured) {
	GinkgoHelper()
	for _, o := range objs {
		if strings.HasPrefix(o.GetAPIVersion(), "cert-manager.io/") {
			continue
		}
		Expect(env.Client.Create(context.Background(), o.DeepCopy(), client.DryRunAll)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
	}
}

func kinds(objs []*unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind()+"/"+o.GetName())
	}
	return ks
}

var _ = Describe("helm template", func() {
	It("renders objects the API server accepts, by default", func() {
		objs := render()
		Expect(kinds(objs)).To(ContainElements(
			"ServiceAccount/airlock-manager",
			"ClusterRole/airlock-manager", "ClusterRoleBinding/airlock-manager",
			"ClusterRole/airlock-sidecar-auth",
			"Role/airlock-manager", "RoleBinding/airlock-manager",
			"Role/airlock-leader-election", "RoleBinding/airlock-leader-election",
			"Service/airlock-webhook-service", "Service/airlock-metrics-service",
			"Deployment/airlock-manager", "PodDisruptionBudget/airlock-manager",
			"MutatingWebhookConfiguration/airlock-mutating-webhook-configuration",
		))
		Expect(kinds(objs)).NotTo(ContainElement(HavePrefix("Certificate/")))
		dryRun(objs)
	})

	It("renders objects the API server accepts with cert-manager, which then issues the certificate and injects the CA", func() {
		objs := render("--set", "certManager.enabled=true")
		dryRun(objs)

		cert := &unstructured.Unstructured{}
		for _, o := range objs {
			if o.GetKind() == "Certificate" {
				cert = o
			}
		}
		Expect(cert.GetAPIVersion()).To(Equal("cert-manager.io/v1"))
		Expect(cert.Object).To(HaveKeyWithValue("spec", And(
			HaveKeyWithValue("secretName", "airlock-webhook-tls"),
			HaveKeyWithValue("dnsNames", ContainElement("airlock-webhook-service.airlock-system.svc")),
			HaveKeyWithValue("issuerRef", HaveKeyWithValue("name", "airlock-selfsigned")),
		)))
		Expect(kinds(objs)).To(ContainElement("Issuer/airlock-selfsigned"))

		webhooks := &admissionregistrationv1.MutatingWebhookConfiguration{}
		find(objs, "MutatingWebhookConfiguration", "airlock-mutating-webhook-configuration", webhooks)
		Expect(webhooks.Annotations).To(HaveKeyWithValue("cert-manager.io/inject-ca-from", "airlock-system/airlock-webhook-cert"))

		deploy := &appsv1.Deployment{}
		find(objs, "Deployment", "airlock-manager", deploy)
		Expect(deploy.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--cert-manager"))
		Expect(deploy.Spec.Template.Spec.Volumes[0].Secret).To(HaveField("SecretName", "airlock-webhook-tls"))

		By("using a given issuer instead of a self-signed one")
		objs = render("--set", "certManager.enabled=true", "--set", "certManager.issuerRef.name=corp-ca", "--set", "certManager.issuerRef.kind=ClusterIssuer")
		Expect(kinds(objs)).NotTo(ContainElement(HavePrefix("Issuer/")))
	})

	It("renders objects the API server accepts with other values", func() {
		objs := render(
			"--set", "sidecar.nativeSidecars=false", "--set", "metrics.enabled=false", "--set", "podDisruptionBudget.enabled=false",
			"--set", "replicas=3", "--set", "webhook.failurePolicy=Ignore", "--set", "sidecar.tokenAudience=airlock",
			"--set", "nodeSelector.kubernetes\\.io/os=linux", "--set", "tolerations[0].operator=Exists",
			"--set", "serviceAccount.create=false", "--set", "serviceAccount.name=existing",
		)
		dryRun(objs)
		deploy := &appsv1.Deployment{}
		find(objs, "Deployment", "airlock-manager", deploy)
		Expect(deploy.Spec.Template.Spec.Containers[0].Args).To(ContainElements("--native-sidecars=false", "--metrics-bind-address=0", "--sidecar-token-audience=airlock"))
		Expect(deploy.Spec.Template.Spec.ServiceAccountName).To(Equal("existing"))
		Expect(kinds(objs)).NotTo(ContainElements("PodDisruptionBudget/airlock-manager", "Service/airlock-metrics-service", "ServiceAccount/airlock-manager"))
	})

	It("runs a hardened manager with two replicas, leader election, probes, and an emptyDir for its certificates", func() {
		deploy := &appsv1.Deployment{}
		find(render(), "Deployment", "airlock-manager", deploy)
		Expect(deploy.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		pod := deploy.Spec.Template.Spec
		Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		c := pod.Containers[0]
		Expect(c.Args).To(ContainElements("--leader-elect", "--webhook-port=9443", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"))
		Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
		Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
		Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(c.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
		Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
		Expect(c.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
		Expect(pod.Volumes[0].EmptyDir).NotTo(BeNil())
		Expect(c.VolumeMounts[0].MountPath).To(Equal("/tmp/k8s-webhook-server/serving-certs"))
	})

	It("passes the manager only flags it has", func(ctx SpecContext) {
		bin := filepath.Join(GinkgoT().TempDir(), "manager")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/manager")
		build.Dir = envtest.RepoRoot()
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		help, _ := exec.Command(bin, "--help").CombinedOutput()
		flags := map[string]bool{}
		for _, line := range strings.Split(string(help), "\n") {
			if rest, ok := strings.CutPrefix(line, "  -"); ok {
				name, _, _ := strings.Cut(rest, " ")
				flags[name] = true
			}
		}
		Expect(flags).To(HaveKey("leader-elect"), "cannot read the manager's --help:\n%s", help)

		for _, values := range [][]string{nil, {"--set", "certManager.enabled=true", "--set", "sidecar.tokenAudience=x"}} {
			deploy := &appsv1.Deployment{}
			find(render(values...), "Deployment", "airlock-manager", deploy)
			for _, arg := range deploy.Spec.Template.Spec.Containers[0].Args {
				name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
				Expect(flags).To(HaveKey(name), "the chart passes --%s, which the manager does not know", name)
			}
		}
	}, NodeTimeout(5*time.Minute))
})

var _ = Describe("The chart's RBAC", func() {
	// generated returns the rules of the kind in config/rbac/role.yaml.
	generated := func(kind string) []rbacv1.PolicyRule {
		raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		for _, doc := range strings.Split(string(raw), "\n---\n") {
			role := &rbacv1.ClusterRole{}
			Expect(yaml.Unmarshal([]byte(doc), role)).To(Succeed())
			if role.Kind == kind {
				return role.Rules
			}
		}
		Fail("config/rbac/role.yaml has no " + kind)
		return nil
	}
	// atoms flattens rules into one "group resource name verb" per grant.
	atoms := func(rules []rbacv1.PolicyRule) []string {
		var out []string
		for _, r := range rules {
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{"*"}
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, n := range names {
						for _, v := range r.Verbs {
							out = append(out, fmt.Sprintf("%s %s %s %s", g, res, n, v))
						}
					}
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	// same fails naming the grants the chart lacks or adds.
	same := func(chart, gen []rbacv1.PolicyRule) {
		GinkgoHelper()
		have, want := atoms(chart), atoms(gen)
		missing := slices.DeleteFunc(slices.Clone(want), func(a string) bool { return slices.Contains(have, a) })
		extra := slices.DeleteFunc(slices.Clone(have), func(a string) bool { return slices.Contains(want, a) })
		hint := "update charts/airlock/templates/rbac.yaml from config/rbac/role.yaml (run make manifests first)"
		Expect(missing).To(BeEmpty(), "the chart lacks these grants (group resource name verb): %s", hint)
		Expect(extra).To(BeEmpty(), "the chart grants more than the markers (group resource name verb): %s", hint)
	}

	It("grants the manager exactly the ClusterRole rules of config/rbac/role.yaml", func() {
		role := &rbacv1.ClusterRole{}
		find(render(), "ClusterRole", "airlock-manager", role)
		same(role.Rules, generated("ClusterRole"))
	})

	It("grants the manager exactly the namespaced Role rules of config/rbac/role.yaml, in the release namespace", func() {
		role := &rbacv1.Role{}
		find(render(), "Role", "airlock-manager", role)
		Expect(role.Namespace).To(Equal(namespace))
		same(role.Rules, generated("Role"))
	})
})

var _ = Describe("The chart's webhook configuration", func() {
	It("is the generated entry of config/webhook/manifests.yaml split by inject.Scope", func() {
		raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "webhook", "manifests.yaml"))
		Expect(err).NotTo(HaveOccurred())
		gen := &admissionregistrationv1.MutatingWebhookConfiguration{}
		Expect(yaml.UnmarshalStrict(raw, gen)).To(Succeed())
		Expect(gen.Webhooks).To(HaveLen(1))

		chart := &admissionregistrationv1.MutatingWebhookConfiguration{}
		find(render(), "MutatingWebhookConfiguration", "airlock-mutating-webhook-configuration", chart)
		want := inject.Scope(gen.Webhooks[0], namespace, "kube-system")
		Expect(chart.Webhooks).To(HaveLen(len(want)))
		for i := range want {
			Expect(chart.Webhooks[i].ClientConfig.Service.Path).To(Equal(gen.Webhooks[0].ClientConfig.Service.Path))
			want[i].ClientConfig = chart.Webhooks[i].ClientConfig
			Expect(chart.Webhooks[i]).To(Equal(want[i]))
		}
	})
})
