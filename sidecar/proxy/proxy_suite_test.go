package proxy_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/proxy"
	"github.com/mcp-airlock/airlock/test/envtest"
	"github.com/mcp-airlock/airlock/test/mcpserver"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

func TestProxy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Sidecar proxy against a real API server, IdP and MCP server")
}

const (
	namespace       = "default"
	clientID        = "0oa-ci-bot"
	clientSecret    = "ci-bot-client-secret"
	upstreamSecret  = "upstream-credential-v1"
	serviceAudience = "https://tools.default.svc"
)

var (
	env  *envtest.Env
	kube kubernetes.Interface
	idp  *oidctest.IdP
	ctx  context.Context
	logs *logBuffer
)

// logBuffer keeps every log line of the sidecars, at every verbosity, so a
// test can prove no secret is ever logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.buf.WriteString(prefix + " " + args + "\n")
		GinkgoWriter.Println(prefix, args)
	}, funcr.Options{Verbosity: 10})
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)
	var err error
	env, err = envtest.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	kube = kubernetes.NewForConfigOrDie(env.Config)
	idp = oidctest.Start(GinkgoT(), oidctest.Options{})
	idp.AddClient(clientID, clientSecret, []string{"mcp.read", "mcp.write"}, nil)
	logs = &logBuffer{}
})

// sidecar is one MCPServer with its upstream, served by a Watcher-fed Proxy.
type sidecar struct {
	name     string
	upstream *mcpserver.Server
	proxy    *proxy.Proxy
	url      string // the sidecar's MCP endpoint (the upstream's path)
	swaps    chan *proxy.Snapshot
}

// startSidecar creates the Secret, MCPServer and AccessPolicy for name and
// serves a sidecar for it until the spec ends.
func startSidecar(name string, o mcpserver.Options) *sidecar {
	s := &sidecar{name: name, upstream: mcpserver.Start(o), swaps: make(chan *proxy.Snapshot, 64)}
	DeferCleanup(s.upstream.Close)
	u, err := url.Parse(s.upstream.URL)
	Expect(err).NotTo(HaveOccurred())
	port, _ := strconv.Atoi(u.Port())

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-upstream", Namespace: namespace},
		StringData: map[string]string{"token": upstreamSecret},
	}
	Expect(env.Client.Create(ctx, secret)).To(Succeed())
	DeferCleanup(env.Client.Delete, ctx, secret)

	transport := v1alpha1.TransportStreamableHTTP
	if o.LegacySSE {
		transport = v1alpha1.TransportSSE
	}
	server := &v1alpha1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"team": "ml"}},
		Spec: v1alpha1.MCPServerSpec{
			Upstream: v1alpha1.Upstream{Port: int32(port), Path: u.Path, Transport: transport, Credentials: []v1alpha1.UpstreamCredential{{
				Name: "upstream", SecretRef: v1alpha1.SecretKeyRef{Name: secret.Name, Key: "token"},
			}}},
			Authentication: v1alpha1.Authentication{
				Resource: serviceAudience,
				Issuers: []v1alpha1.Issuer{
					{Name: "okta", OIDC: &v1alpha1.OIDCIssuer{IssuerURL: idp.Issuer(), Audiences: []string{idp.Audience()}}},
					{Name: "cluster", Kubernetes: &v1alpha1.KubernetesIssuer{Audiences: []string{serviceAudience}}},
				},
			},
		},
	}
	Expect(env.Client.Create(ctx, server)).To(Succeed())
	DeferCleanup(env.Client.Delete, ctx, server)

	pol := &v1alpha1.AccessPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-policy", Namespace: namespace},
		Spec: v1alpha1.AccessPolicySpec{
			TargetRefs: []v1alpha1.LocalObjectReference{{Name: name}},
			Subjects: []v1alpha1.Subject{
				{Issuer: "okta", Claims: map[string]string{"cid": clientID}},
				{Issuer: "cluster"},
			},
			Rules: []v1alpha1.Rule{
				{Name: "safe-tools", Methods: []v1alpha1.Method{v1alpha1.MethodToolsCall}, Tools: []string{"echo", "slow", "leak", "confirm"}, Action: v1alpha1.ActionAllow},
				{Name: "block-destructive", Methods: []v1alpha1.Method{v1alpha1.MethodToolsCall}, Tools: []string{"delete_*"}, Action: v1alpha1.ActionDeny},
			},
			Masking: &v1alpha1.Masking{Detectors: []v1alpha1.Detector{"secrets", "email"}},
		},
	}
	Expect(env.Client.Create(ctx, pol)).To(Succeed())
	DeferCleanup(env.Client.Delete, ctx, pol)

	s.proxy = proxy.New(proxy.Options{Log: logs.logger()})
	wctx, cancel := context.WithCancel(ctx)
	DeferCleanup(cancel)
	w := &proxy.Watcher{Config: env.Config, Namespace: namespace, Name: name, Proxy: s.proxy, Log: logs.logger(),
		OnSnapshot: func(snap *proxy.Snapshot) {
			select {
			case s.swaps <- snap:
			default:
			}
		}}
	go func() {
		defer GinkgoRecover()
		Expect(w.Run(wctx)).To(Succeed())
	}()
	srv := httptest.NewServer(s.proxy)
	DeferCleanup(srv.Close)
	s.url = srv.URL + u.Path
	Eventually(func() error {
		snap := s.proxy.Snapshot()
		if snap == nil {
			return errNoSnapshot
		}
		return snap.Err
	}).Should(Succeed())
	return s
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoSnapshot = constError("no snapshot yet")

// bearer is an http.Client that presents token on every request.
func bearer(token string) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
