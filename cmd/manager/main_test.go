package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/mcp-airlock/airlock/test/envtest"
)

const namespace = "airlock-system"

var env *envtest.Env

func TestManager(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Manager binary on a real API server")
}

var _ = BeforeSuite(func() {
	var err error
	env, err = envtest.Start()
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	gexec.CleanupBuildArtifacts()
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// apply creates every object in the YAML files under config/.
func apply(files ...string) {
	GinkgoHelper()
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", f))
		Expect(err).NotTo(HaveOccurred())
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(raw)), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err == io.EOF {
				break
			} else {
				Expect(err).NotTo(HaveOccurred(), f)
			}
			if len(u.Object) > 0 {
				Expect(env.Client.Create(context.Background(), u)).To(Succeed(), "%s: %s %s", f, u.GetKind(), u.GetName())
			}
		}
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

var _ = Describe("The manager", func() {
	It("starts with only its generated RBAC, keeps its webhook certificate, and becomes ready", func(ctx SpecContext) {
		By("installing the namespace, the RBAC from config/rbac and the webhook configuration")
		Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
		apply("rbac/role.yaml", "rbac/role_binding.yaml", "rbac/leader_election_role.yaml",
			"rbac/leader_election_role_binding.yaml", "rbac/sidecar_auth_role.yaml")
		raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "webhook", "manifests.yaml"))
		Expect(err).NotTo(HaveOccurred())
		webhooks := &admissionregistrationv1.MutatingWebhookConfiguration{}
		Expect(yaml.UnmarshalStrict(raw, webhooks)).To(Succeed())
		webhooks.Name = "airlock-mutating-webhook-configuration"
		for i := range webhooks.Webhooks {
			// Nothing serves the Service in this test: let pods through.
			webhooks.Webhooks[i].FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
		}
		Expect(env.Client.Create(ctx, webhooks)).To(Succeed())

		By("running the manager as its service account")
		user, err := env.AddUser(ctrlenvtest.User{
			Name:   "system:serviceaccount:" + namespace + ":airlock-manager",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		kubeconfig, err := user.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "kubeconfig"), kubeconfig, 0o600)).To(Succeed())

		bin, err := gexec.Build("github.com/mcp-airlock/airlock/cmd/manager")
		Expect(err).NotTo(HaveOccurred())
		probe := freePort()
		cmd := exec.Command(bin,
			"--kubeconfig="+filepath.Join(dir, "kubeconfig"),
			"--namespace="+namespace,
			"--leader-elect",
			"--cert-dir="+filepath.Join(dir, "certs"),
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
			"--metrics-bind-address=0",
			fmt.Sprintf("--webhook-port=%d", freePort()),
			"--sidecar-image=ghcr.io/mcp-airlock/airlock-sidecar:test",
		)
		session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			session.Signal(syscall.SIGTERM)
			Eventually(session, 30*time.Second).Should(gexec.Exit())
		})

		readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz?verbose", probe)
		Eventually(func(g Gomega) {
			resp, err := http.Get(readyz)
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }()
			body, _ := io.ReadAll(resp.Body)
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK), string(body))
			g.Expect(string(body)).To(ContainSubstring("webhook-certs ok"))
		}, time.Minute, 250*time.Millisecond).Should(Succeed())
		Expect(session).NotTo(gexec.Exit())

		secret := &corev1.Secret{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "airlock-webhook-tls"}, secret)).To(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(webhooks), webhooks)).To(Succeed())
		Expect(webhooks.Webhooks[0].ClientConfig.CABundle).To(Equal(secret.Data["ca.crt"]))
		Expect(os.ReadFile(filepath.Join(dir, "certs", "tls.crt"))).To(Equal(secret.Data["tls.crt"]))

		Eventually(func(g Gomega) {
			lease := &coordinationv1.Lease{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "airlock-manager.mcp.airlock.dev"}, lease)).To(Succeed())
			g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
		}, time.Minute).Should(Succeed())
	}, NodeTimeout(5*time.Minute))
})
