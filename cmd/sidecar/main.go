// Command sidecar is the Airlock proxy injected into MCP server pods: the
// only way in to the MCP server. It loads its MCPServer and the AccessPolicies
// bound to it from the Kubernetes API and applies changes without a restart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/mcp-airlock/airlock/sidecar/proxy"
)

type flags struct {
	server      string
	kubeconfig  string
	tokenFile   string
	listen      string
	upstream    string
	metricsAddr string
	maxBody     int64
}

func main() {
	var f flags
	fs := flag.NewFlagSet("sidecar", flag.ExitOnError)
	fs.StringVar(&f.server, "server", "", "The MCPServer this sidecar enforces, as NAMESPACE/NAME (required).")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "Kubeconfig file; empty means in-cluster configuration.")
	fs.StringVar(&f.tokenFile, "token-file", "", "Service-account token file for the API server (the sidecar's own projected token in a pod).")
	fs.StringVar(&f.listen, "listen", ":9443", "Address callers reach the sidecar on.")
	fs.StringVar(&f.upstream, "upstream", "", "MCP server URL, e.g. http://127.0.0.1:3001/mcp; default from the MCPServer's upstream port and path.")
	fs.StringVar(&f.metricsAddr, "metrics-addr", ":9090", "Address of /metrics, /healthz and /readyz; empty disables.")
	fs.Int64Var(&f.maxBody, "max-body-bytes", 4<<20, "Largest request body accepted from a caller.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log := zap.New(zap.UseFlagOptions(&zapOpts)).WithName("sidecar")

	if err := run(f, log); err != nil {
		log.Error(err, "sidecar stopped")
		os.Exit(1)
	}
}

func run(f flags, log logr.Logger) error {
	ns, name, ok := strings.Cut(f.server, "/")
	if !ok || ns == "" || name == "" {
		return fmt.Errorf("--server must be NAMESPACE/NAME, got %q", f.server)
	}
	cfg, err := restConfig(f)
	if err != nil {
		return err
	}
	var upstream *url.URL
	if f.upstream != "" {
		if upstream, err = url.Parse(f.upstream); err != nil || upstream.Host == "" {
			return fmt.Errorf("--upstream %q is not a URL", f.upstream)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p := proxy.New(proxy.Options{
		Upstream:     upstream,
		Log:          log,
		Metrics:      proxy.NewMetrics(reg),
		MaxBodyBytes: f.maxBody,
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := &proxy.Watcher{Config: cfg, Namespace: ns, Name: name, Proxy: p, Log: log}
	errc := make(chan error, 3)
	go func() { errc <- w.Run(ctx) }()

	srv := &http.Server{
		Addr:              f.listen,
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	log.Info("serving MCP callers", "address", ln.Addr().String(), "server", f.server)
	go func() { errc <- srv.Serve(ln) }()

	if f.metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if s := p.Snapshot(); s == nil || s.Err != nil {
				http.Error(w, "no enforceable configuration yet", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok"))
		})
		ms := &http.Server{Addr: f.metricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- ms.ListenAndServe() }()
		defer func() { _ = ms.Close() }()
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func restConfig(f flags) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	switch {
	case f.kubeconfig != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	case f.tokenFile != "":
		// The sidecar's own projected token; its volume carries ca.crt beside it.
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, errors.New("--token-file needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, or --kubeconfig")
		}
		cfg = &rest.Config{
			Host:            "https://" + net.JoinHostPort(host, port),
			TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(filepath.Dir(f.tokenFile), "ca.crt")},
		}
	default:
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	if f.tokenFile != "" {
		cfg.BearerToken = ""
		cfg.BearerTokenFile = f.tokenFile
	}
	cfg.UserAgent = "airlock-sidecar"
	return cfg, nil
}
