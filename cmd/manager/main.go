// Command manager runs the Airlock controllers and admission webhooks.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	airlockv1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/controllers"
	"github.com/mcp-airlock/airlock/webhook/certs"
	"github.com/mcp-airlock/airlock/webhook/inject"
)

// version is set at build time with -ldflags "-X main.version=…" and
// recorded in the injected pods' status annotation.
var version = "dev"

func main() {
	var (
		metricsAddr    string
		probeAddr      string
		webhookPort    int
		leaderElection bool
		enableHTTP2    bool

		namespace           string
		certManager         bool
		certDir             string
		webhookSecret       string
		webhookService      string
		mutatingWebhooks    string
		validatingWebhooks  string
		certRefreshBefore   time.Duration
		certResyncInterval  time.Duration
		injectConfiguration = inject.DefaultConfig()
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.IntVar(&webhookPort, "webhook-port", 9443, "Port the admission webhooks are served on.")
	flag.BoolVar(&leaderElection, "leader-elect", false, "Elect a leader so that only one replica runs the controllers; webhooks run on every replica.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Serve webhooks over HTTP/2 too; off by default against HTTP/2 stream-reset attacks (CVE-2023-44487).")

	flag.StringVar(&namespace, "namespace", envOr("POD_NAMESPACE", "airlock-system"), "Namespace of the manager, where the webhook certificate Secret lives; $POD_NAMESPACE when set.")
	flag.BoolVar(&certManager, "cert-manager", false, "cert-manager provides the webhook certificate in --cert-dir and the caBundle; the manager then does not manage certificates.")
	flag.StringVar(&certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Directory of the webhook server's tls.crt and tls.key; a writable emptyDir unless --cert-manager.")
	flag.StringVar(&webhookSecret, "webhook-secret-name", "airlock-webhook-tls", "Secret in --namespace holding the webhook CA and serving certificate.")
	flag.StringVar(&webhookService, "webhook-service-name", "airlock-webhook-service", "Service in front of the webhook server; the serving certificate is for <name>.<namespace>.svc.")
	flag.StringVar(&mutatingWebhooks, "mutating-webhook-configurations", "airlock-mutating-webhook-configuration", "Comma-separated MutatingWebhookConfigurations whose caBundle the manager keeps current.")
	flag.StringVar(&validatingWebhooks, "validating-webhook-configurations", "", "Comma-separated ValidatingWebhookConfigurations whose caBundle the manager keeps current.")
	flag.DurationVar(&certRefreshBefore, "cert-refresh-before", 30*24*time.Hour, "Renew a webhook certificate this long before it expires (at most half its lifetime).")
	flag.DurationVar(&certResyncInterval, "cert-resync-interval", time.Minute, "How often each replica checks the certificate Secret, its files and the caBundles.")
	injectConfiguration.BindFlags(flag.CommandLine)
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	injectConfiguration.Version = version

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(airlockv1alpha1.AddToScheme(scheme))
	restConfig := ctrl.GetConfigOrDie()

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	webhookServer := webhook.NewServer(webhook.Options{Port: webhookPort, CertDir: certDir, TLSOpts: tlsOpts})
	var rotator *certs.Rotator
	if !certManager {
		// The rotator runs before the manager's caches, and reads only its
		// own Secret: it gets a client without a cache.
		direct, err := client.New(restConfig, client.Options{Scheme: scheme})
		if err != nil {
			log.Error(err, "unable to create a client")
			os.Exit(1)
		}
		rotator, err = certs.New(direct, certs.Options{
			Namespace:          namespace,
			SecretName:         webhookSecret,
			DNSNames:           certs.ServiceDNSNames(webhookService, namespace),
			CertDir:            certDir,
			MutatingWebhooks:   splitList(mutatingWebhooks),
			ValidatingWebhooks: splitList(validatingWebhooks),
			RefreshBefore:      certRefreshBefore,
			ResyncInterval:     certResyncInterval,
			Log:                ctrl.Log.WithName("certs"),
		})
		if err != nil {
			log.Error(err, "unable to set up webhook certificates")
			os.Exit(1)
		}
		webhookServer = certs.Gate(webhookServer, rotator.Ready())
	}

	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   controllers.CacheOptions(),
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		WebhookServer:           webhookServer,
		LeaderElection:          leaderElection,
		LeaderElectionID:        "airlock-manager.mcp.airlock.dev",
		LeaderElectionNamespace: namespace,
	})
	if err != nil {
		log.Error(err, "unable to create manager")
		os.Exit(1)
	}

	// Webhooks (webhook/): on every replica.
	if rotator != nil {
		if err := mgr.Add(rotator); err != nil {
			log.Error(err, "unable to add the certificate rotator")
			os.Exit(1)
		}
		if err := mgr.AddReadyzCheck("webhook-certs", rotator.ReadyCheck); err != nil {
			log.Error(err, "unable to set up ready check")
			os.Exit(1)
		}
	}
	if err := inject.Register(mgr, injectConfiguration); err != nil {
		log.Error(err, "unable to set up the pod injection webhook")
		os.Exit(1)
	}

	// ---- Controllers (controllers/): the controllers engineer owns this block. ----
	if err := controllers.SetupWithManager(mgr); err != nil {
		log.Error(err, "unable to set up controllers")
		os.Exit(1)
	}
	// ---- End of controllers block. ----

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	// Ready once the webhook server serves (after its certificates are in
	// place), so the webhook Service only sends requests a replica answers.
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		log.Error(err, "unable to set up ready check")
		os.Exit(1)
	}
	log.Info("starting manager", "version", version, "certManager", certManager)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
