// Command sidecar is the Airlock proxy injected into MCP server pods: the
// only way in to the MCP server. It loads its MCPServer and the AccessPolicies
// bound to it from the Kubernetes API and applies changes without a restart.
//
// With a command after `--`, the MCP server speaks stdio: the sidecar runs
// the command as its child and serves it to callers over Streamable HTTP
// (package sidecar/stdio).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
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
	"github.com/mcp-airlock/airlock/sidecar/stdio"
)

// stdioUpstream is the placeholder upstream of a stdio server: the stdio
// Transport answers every request itself.
const stdioUpstream = "http://stdio/mcp"

type flags struct {
	server      string
	kubeconfig  string
	tokenFile   string
	listen      string
	upstream    string
	metricsAddr string
	maxBody     int64
	// command is the stdio MCP server's command line, after `--`.
	command  []string
	childEnv []string
}

func main() {
	// `sidecar install DEST` copies this binary for a Stdio MCP container
	// (the injector's init container), so the image needs no shell or cp.
	if len(os.Args) == 3 && os.Args[1] == "install" {
		if err := install(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "sidecar install:", err)
			os.Exit(1)
		}
		return
	}
	if os.Getenv("GOGC") == "" {
		// The proxy's live heap is a few MiB, so the default GOGC collects
		// several times a second under load, and each cycle lands in some
		// call's latency; a larger target trades a little memory for a
		// shorter tail (BenchmarkLoad: added p99).
		debug.SetGCPercent(400)
	}
	var f flags
	fs := flag.NewFlagSet("sidecar", flag.ExitOnError)
	fs.StringVar(&f.server, "server", "", "The MCPServer this sidecar enforces, as NAMESPACE/NAME (required).")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "Kubeconfig file; empty means in-cluster configuration.")
	fs.StringVar(&f.tokenFile, "token-file", "", "Service-account token file for the API server (the sidecar's own projected token in a pod).")
	fs.StringVar(&f.listen, "listen", ":9443", "Address callers reach the sidecar on.")
	fs.StringVar(&f.upstream, "upstream", "", "MCP server URL, e.g. http://127.0.0.1:3001/mcp; default from the MCPServer's upstream port and path.")
	fs.StringVar(&f.metricsAddr, "metrics-addr", ":9090", "Address of /metrics, /healthz and /readyz; empty disables.")
	fs.Int64Var(&f.maxBody, "max-body-bytes", 4<<20, "Largest request body accepted from a caller.")
	fs.Func("child-env", "Comma-separated names of variables a stdio MCP server (the command after --) inherits from the sidecar's environment, "+
		"besides "+strings.Join(stdio.DefaultInherit, ",")+"; NAME_* matches a prefix, * everything. Credentials come from the MCPServer.",
		func(s string) error {
			for n := range strings.SplitSeq(s, ",") {
				if n = strings.TrimSpace(n); n != "" {
					f.childEnv = append(f.childEnv, n)
				}
			}
			return nil
		})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags] [-- COMMAND ARGS... (a stdio MCP server, run as the sidecar's child)]\n", os.Args[0])
		fs.PrintDefaults()
	}
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	_ = fs.Parse(os.Args[1:])
	f.command = fs.Args()
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
	var stdioServer *stdio.Transport
	if len(f.command) > 0 {
		if f.upstream != "" {
			return errors.New("--upstream and a command after -- exclude each other: a stdio MCP server has no URL")
		}
		f.upstream = stdioUpstream
	}
	var upstream *url.URL
	if f.upstream != "" {
		if upstream, err = url.Parse(f.upstream); err != nil || upstream.Host == "" {
			return fmt.Errorf("--upstream %q is not a URL", f.upstream)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := proxy.Options{
		Upstream:     upstream,
		Log:          log,
		Metrics:      proxy.NewMetrics(reg),
		MaxBodyBytes: f.maxBody,
	}
	if len(f.command) > 0 {
		stdioServer = stdio.New(stdio.Options{
			Command:    f.command,
			Env:        stdio.InheritEnv(os.Environ(), f.childEnv),
			Log:        log.WithName("stdio"),
			Registerer: reg,
		})
		opts.Transport = stdioServer
	}
	p := proxy.New(opts)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := &proxy.Watcher{Config: cfg, Namespace: ns, Name: name, Proxy: p, Log: log}
	errc := make(chan error, 4)
	// The first snapshot that found the MCPServer says whether to serve TLS.
	found := make(chan *proxy.Snapshot, 1)
	w.OnSnapshot = func(s *proxy.Snapshot) {
		if s.Generation > 0 {
			select {
			case found <- s:
			default:
			}
		}
		if stdioServer != nil && s.Err == nil {
			// The child starts with the credentials of the first enforceable
			// configuration, and restarts when they change (a rotated Secret).
			stdioServer.SetEnv(s.Credentials.Env())
		}
	}
	if stdioServer != nil {
		// The child outlives ctx until the callers in flight are answered.
		childCtx, stopChild := context.WithCancel(context.Background())
		childDone := make(chan struct{})
		go func() {
			defer close(childDone)
			if err := stdioServer.Run(childCtx); err != nil {
				errc <- err
			}
		}()
		defer func() { stopChild(); <-childDone }()
	}
	go func() { errc <- w.Run(ctx) }()

	srv := &http.Server{
		Addr:              f.listen,
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if f.metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if s := p.Snapshot(); s == nil || s.Err != nil {
				http.Error(w, "no enforceable configuration yet", http.StatusServiceUnavailable)
				return
			}
			if stdioServer != nil && !stdioServer.Ready() {
				http.Error(w, "the stdio MCP server is not initialized", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok"))
		})
		ms := &http.Server{Addr: f.metricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- ms.ListenAndServe() }()
		defer func() { _ = ms.Close() }()
	}

	// Callers are served once it is known how: over TLS with the certificate
	// of the current snapshot (rotated with its Secret), or plain HTTP.
	var first *proxy.Snapshot
	select {
	case first = <-found:
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	if first.ServeTLS {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if s := p.Snapshot(); s != nil && s.TLS != nil {
				return s.TLS, nil
			}
			return nil, errors.New("no serving certificate: the MCPServer's listen TLS Secret is not usable")
		}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	log.Info("serving MCP callers", "address", ln.Addr().String(), "server", f.server, "tls", first.ServeTLS)
	go func() { errc <- srv.Serve(ln) }()

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

// install copies the running binary to dest, executable, atomically.
func install(dest string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	in, err := os.Open(self)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	tmp := dest + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o555)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
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
