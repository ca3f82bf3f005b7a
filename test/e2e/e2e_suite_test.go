// Package e2e runs the real sidecar binary between real MCP peers from npm
// (server-everything, the MCP Inspector CLI) and a real API server and IdP.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/test/envtest"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "End to end: sidecar binary, npm MCP peers, API server, IdP")
}

var (
	ctx        context.Context
	env        *envtest.Env
	idp        *oidctest.IdP
	npmDir     string // node_modules/.bin lives below it
	sidecarBin string
	kubeconfig string
)

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	out, err := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "npm-peers.sh")).Output()
	Expect(err).NotTo(HaveOccurred(), "installing the npm MCP peers with hack/npm-peers.sh")
	npmDir = strings.TrimSpace(string(out))

	dir := GinkgoT().TempDir()
	sidecarBin = filepath.Join(dir, "sidecar")
	build := exec.Command("go", "build", "-o", sidecarBin, "./cmd/sidecar")
	build.Dir = envtest.RepoRoot()
	build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
	Expect(build.Run()).To(Succeed())

	env, err = envtest.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	DeferCleanup(cancel) // runs first: stops what still talks to the API server
	user, err := env.AddUser(ctrlenvtest.User{Name: "airlock-sidecar", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kc, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(dir, "kubeconfig")
	Expect(os.WriteFile(kubeconfig, kc, 0o600)).To(Succeed())

	idp = oidctest.Start(GinkgoT(), oidctest.Options{})
	idp.AddClient(clientID, clientSecret, []string{"mcp.read"}, nil)
})

// freePort returns a loopback port that was free a moment ago.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs a process until the spec ends, its output in the Ginkgo log.
func start(name string, envv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), envv...)
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	cmd.WaitDelay = 5 * time.Second
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// startSidecar runs the sidecar binary for the MCPServer default/server on
// loopback ports, waits until it is ready and returns its listen port.
func startSidecar(server string, args ...string) int {
	listen, metrics := freePort(), freePort()
	start(sidecarBin, nil, append([]string{"--server=default/" + server, "--kubeconfig=" + kubeconfig,
		fmt.Sprintf("--listen=127.0.0.1:%d", listen), fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metrics)}, args...)...)
	waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics), 200)
	return listen
}

// bin is a program of the npm peers.
func bin(name string) string { return filepath.Join(npmDir, "node_modules", ".bin", name) }

// waitHTTP waits until url answers with want.
func waitHTTP(url string, want int) {
	Eventually(func() (int, error) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}).WithTimeout(60*time.Second).Should(Equal(want), fmt.Sprintf("waiting for %s", url))
}

// withToken is an http.Client presenting token.
func withToken(token string) *http.Client {
	return &http.Client{Transport: tokenTransport{token: token, base: http.DefaultTransport}}
}

// tokenTransport presents a bearer token on every request.
type tokenTransport struct {
	token string
	base  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// oktaServer is an MCPServer in the default namespace that trusts the test
// IdP; the caller sets what else it needs.
func oktaServer(name string, upstream v1alpha1.Upstream) *v1alpha1.MCPServer {
	return &v1alpha1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1alpha1.MCPServerSpec{
			Upstream: upstream,
			Authentication: v1alpha1.Authentication{Issuers: []v1alpha1.Issuer{{Name: "okta",
				OIDC: &v1alpha1.OIDCIssuer{IssuerURL: idp.Issuer(), Audiences: []string{idp.Audience()}}}}},
		},
	}
}

// policyFor is an AccessPolicy on server for the IdP client cid.
func policyFor(name, server, cid string, rules ...v1alpha1.Rule) *v1alpha1.AccessPolicy {
	return &v1alpha1.AccessPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1alpha1.AccessPolicySpec{
			TargetRefs: []v1alpha1.LocalObjectReference{{Name: server}},
			Subjects:   []v1alpha1.Subject{{Issuer: "okta", Claims: map[string]string{"cid": cid}}},
			Rules:      rules,
		},
	}
}

// credentialFrom is an upstream credential from the "token" key of secret.
func credentialFrom(secret string) v1alpha1.UpstreamCredential {
	return v1alpha1.UpstreamCredential{Name: "upstream", SecretRef: v1alpha1.SecretKeyRef{Name: secret, Key: "token"}}
}

// create creates objs in the API server.
func create(objs ...client.Object) {
	for _, o := range objs {
		Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
}
