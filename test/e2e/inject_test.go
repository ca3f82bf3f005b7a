package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/controllers"
	"github.com/mcp-airlock/airlock/test/envtest"
	"github.com/mcp-airlock/airlock/test/mcpserver"
	"github.com/mcp-airlock/airlock/webhook/inject"
)

// What the webhook writes must work: the sidecar container of a mutated pod
// — its command, args and env, its projected token, and the Role the
// controller grants the pod's service account — starts the real sidecar in
// front of a real MCP server, which then serves a call. Only what a kubelet
// would provide is supplied by the test: the token file, the downward-API
// values and the API server's address; listen addresses are moved to
// loopback ports.
var _ = Describe("A pod mutated by the injector", Ordered, func() {
	var (
		pod      *corev1.Pod
		upstream *mcpserver.Server
	)

	BeforeAll(func() {
		// The chart ships this ClusterRole; the controller binds to it.
		Expect(env.Client.Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: controllers.SidecarAuthClusterRole},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
				{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
			},
		})).To(Succeed())
		mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: envtest.Scheme(), Cache: controllers.CacheOptions(),
			Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
		Expect(err).NotTo(HaveOccurred())
		Expect(controllers.SetupWithManager(mgr)).To(Succeed())
		mgrCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			Expect(mgr.Start(mgrCtx)).To(Succeed())
		}()
		DeferCleanup(func() { stop(); <-done })

		upstream = mcpserver.Start(mcpserver.Options{})
		DeferCleanup(upstream.Close)
		u, _ := url.Parse(upstream.URL)
		port, _ := strconv.Atoi(u.Port())

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "injected-upstream", Namespace: "default"},
			StringData: map[string]string{"token": "injected-upstream-credential"}}
		Expect(env.Client.Create(ctx, secret)).To(Succeed())
		server := oktaServer("injected", v1alpha1.Upstream{Port: int32(port), Credentials: []v1alpha1.UpstreamCredential{credentialFrom(secret.Name)}})
		server.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "injected"}}
		create(server, policyFor("injected-callers", "injected", clientID,
			v1alpha1.Rule{Name: "echo", Tools: []string{"echo"}, Action: v1alpha1.ActionAllow}))
		Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: "default", Name: "injected"}, server)).To(Succeed())
		Expect(env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "mcp-runner", Namespace: "default"}})).To(Succeed())

		mutated, err := inject.Inject(&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "injected-0", Namespace: "default",
				Labels:      map[string]string{"app": "injected"},
				Annotations: map[string]string{v1alpha1.ServerAnnotation: "injected"}},
			Spec: corev1.PodSpec{ServiceAccountName: "mcp-runner",
				Containers: []corev1.Container{{Name: "mcp", Image: "example.com/mcp:1"}}},
		}, server, inject.DefaultConfig())
		Expect(err).NotTo(HaveOccurred())
		Expect(env.Client.Create(ctx, mutated)).To(Succeed())
		pod = mutated
	})

	It("gets least-privilege RBAC for its service account from the controller", func() {
		Eventually(func(g Gomega) {
			rb := &rbacv1.RoleBinding{}
			g.Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: "default", Name: "airlock-sidecar-injected"}, rb)).To(Succeed())
			g.Expect(rb.Subjects).To(ContainElement(HaveField("Name", "mcp-runner")))
		}).Should(Succeed())
	})

	It("starts the sidecar from the injected command and serves a call", func() {
		idx := slices.IndexFunc(pod.Spec.InitContainers, func(c corev1.Container) bool { return c.Name == inject.SidecarContainer })
		Expect(idx).To(BeNumerically(">=", 0), "the sidecar is a native sidecar")
		c := pod.Spec.InitContainers[idx]

		// The kubelet's part: the projected token, bound to the pod.
		var audiences []string
		for _, v := range pod.Spec.Volumes {
			if v.Name == inject.TokenVolume {
				for _, src := range v.Projected.Sources {
					if t := src.ServiceAccountToken; t != nil && t.Audience != "" {
						audiences = append(audiences, t.Audience)
					}
				}
			}
		}
		created := &corev1.Pod{}
		Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: "default", Name: pod.Name}, created)).To(Succeed())
		tr, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().ServiceAccounts("default").CreateToken(ctx, "mcp-runner",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences,
				BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: created.Name, UID: created.UID}}},
			metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		tokenDir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(tokenDir, "token"), []byte(tr.Status.Token), 0o600)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(tokenDir, "ca.crt"), env.Config.CAData, 0o600)).To(Succeed())

		// The downward API, and $(VAR) expansion as the kubelet does it.
		vars := map[string]string{}
		for _, e := range c.Env {
			switch {
			case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
				vars[e.Name] = created.Namespace
			case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
				vars[e.Name] = created.Name
			case e.ValueFrom == nil:
				vars[e.Name] = e.Value
			}
		}
		expand := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
		listen, metrics := freePort(), freePort()
		argv := append(append([]string{}, c.Command...), c.Args...)
		Expect(argv[0]).To(Equal(inject.SidecarBinary))
		var args []string
		for _, a := range argv[1:] {
			a = expand.ReplaceAllStringFunc(a, func(m string) string { return vars[m[2:len(m)-1]] })
			switch {
			case strings.HasPrefix(a, "--token-file="):
				Expect(a).To(Equal("--token-file=" + inject.TokenFile))
				a = "--token-file=" + filepath.Join(tokenDir, "token")
			case strings.HasPrefix(a, "--listen="):
				a = fmt.Sprintf("--listen=127.0.0.1:%d", listen)
			case strings.HasPrefix(a, "--metrics-addr="):
				a = fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metrics)
			}
			args = append(args, a)
		}
		Expect(args).To(ContainElement("--server=default/injected"))
		api, err := url.Parse(env.Config.Host)
		Expect(err).NotTo(HaveOccurred())
		environ := []string{"KUBERNETES_SERVICE_HOST=" + api.Hostname(), "KUBERNETES_SERVICE_PORT=" + api.Port()}
		for k, v := range vars {
			environ = append(environ, k+"="+v)
		}
		start(sidecarBin, environ, args...)
		waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics), 200)

		token := idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
		client := sdk.NewClient(&sdk.Implementation{Name: "e2e", Version: "v0"}, nil)
		cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{
			Endpoint: fmt.Sprintf("http://127.0.0.1:%d/mcp", listen), HTTPClient: withToken(token)}, nil)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = cs.Close() }()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "from an injected sidecar"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Content[0].(*sdk.TextContent).Text).To(Equal("from an injected sidecar"))
		Expect(upstream.Headers()[len(upstream.Headers())-1].Get("Authorization")).To(Equal("Bearer injected-upstream-credential"))
	})
})
