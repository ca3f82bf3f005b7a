package inject_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/yaml"

	"github.com/mcp-airlock/airlock/test/envtest"
	"github.com/mcp-airlock/airlock/webhook/inject"
)

// operatorNamespace is excluded from injection, as the chart excludes the
// namespace it is installed in.
const operatorNamespace = "airlock-system"

var (
	env    *envtest.Env
	cancel context.CancelFunc
)

func TestInjectWebhook(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Pod injection webhook on a real API server")
}

// scopedWebhookConfiguration is the generated config/webhook/manifests.yaml
// with its entry split by inject.Scope, as the chart installs it.
func scopedWebhookConfiguration() *admissionregistrationv1.MutatingWebhookConfiguration {
	raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "webhook", "manifests.yaml"))
	Expect(err).NotTo(HaveOccurred(), "run make manifests")
	cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
	Expect(yaml.UnmarshalStrict(raw, cfg)).To(Succeed())
	Expect(cfg.Webhooks).To(HaveLen(1))
	cfg.Webhooks = inject.Scope(cfg.Webhooks[0], "kube-system", operatorNamespace)
	return cfg
}

var _ = BeforeSuite(func() {
	var err error
	env, err = envtest.Start(func(e *ctrlenvtest.Environment) {
		e.WebhookInstallOptions = ctrlenvtest.WebhookInstallOptions{
			MutatingWebhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{scopedWebhookConfiguration()},
		}
	})
	Expect(err).NotTo(HaveOccurred())

	wio := &env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir,
		}),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(inject.Register(mgr, testConfig())).To(Succeed())

	var ctx context.Context
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	addr := net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort))
	Eventually(func() error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		return conn.Close()
	}).Should(Succeed())
	Eventually(func() bool { return mgr.GetCache().WaitForCacheSync(ctx) }).Should(BeTrue())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

func testConfig() inject.Config {
	cfg := inject.DefaultConfig()
	cfg.SidecarImage = "ghcr.io/mcp-airlock/airlock-sidecar:test"
	cfg.Version = "test"
	return cfg
}
