package inject_test

import (
	"context"
	"encoding/json"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/webhook/inject"
)

func namespace(name string, labels map[string]string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-", Labels: labels}}
	Expect(env.Client.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

func mcpServer(ns, name string, upstream v1alpha1.Upstream) {
	s := &v1alpha1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.MCPServerSpec{
			Upstream: upstream,
			Authentication: v1alpha1.Authentication{Issuers: []v1alpha1.Issuer{{
				Name: "cluster", Kubernetes: &v1alpha1.KubernetesIssuer{Audiences: []string{"mcp"}},
			}}},
		},
	}
	Expect(env.Client.Create(context.Background(), s)).To(Succeed())
}

func pod(ns string, annotations, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "mcp-", Namespace: ns, Annotations: annotations, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "mcp", Image: "ghcr.io/example/ml-tools:1.2.0",
			Command: []string{"/ml-tools"}, Args: []string{"serve"},
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}}},
	}
}

func serverAnnotation(name string) map[string]string {
	return map[string]string{v1alpha1.ServerAnnotation: name}
}

func expectInjected(p *corev1.Pod) {
	GinkgoHelper()
	Expect(p.Annotations).To(HaveKey(v1alpha1.InjectedStatusAnnotation))
	Expect(p.Spec.InitContainers).To(HaveLen(1))
	sidecar := p.Spec.InitContainers[0]
	Expect(sidecar.Name).To(Equal(inject.SidecarContainer))
	Expect(sidecar.RestartPolicy).To(HaveValue(Equal(corev1.ContainerRestartPolicyAlways)))
	Expect(sidecar.Image).To(Equal("ghcr.io/mcp-airlock/airlock-sidecar:test"))
	Expect(sidecar.Args).To(ContainElement("--upstream=http://127.0.0.1:8080/mcp"))
	Expect(p.Spec.Volumes).To(ContainElement(HaveField("Name", inject.TokenVolume)))
}

func expectUntouched(p *corev1.Pod) {
	GinkgoHelper()
	Expect(p.Annotations).NotTo(HaveKey(v1alpha1.InjectedStatusAnnotation))
	Expect(p.Spec.InitContainers).To(BeEmpty())
	Expect(p.Spec.Containers).To(HaveLen(1))
}

// warnings collects the API server's warning headers.
type warnings struct {
	mu  sync.Mutex
	got []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, text)
}

var _ = Describe("The pod injection webhook", func() {
	var (
		ctx     = context.Background()
		enabled string
		plain   string
		httpUp  = v1alpha1.Upstream{Port: 8080, Path: "/mcp", Transport: v1alpha1.TransportStreamableHTTP}
		// A credential with env: the API's CEL rule for Stdio fails on an
		// absent credentials list (reported as an API gap).
		stdioUp = v1alpha1.Upstream{Transport: v1alpha1.TransportStdio, Credentials: []v1alpha1.UpstreamCredential{{
			Name: "token", SecretRef: v1alpha1.SecretKeyRef{Name: "files", Key: "token"}, Env: "FILES_TOKEN",
		}}}
		injectOn = map[string]string{v1alpha1.InjectPodLabel: "true"}
	)

	BeforeEach(func() {
		enabled = namespace("enabled", map[string]string{v1alpha1.InjectionNamespaceLabel: "enabled"})
		plain = namespace("plain", nil)
		for _, ns := range []string{enabled, plain} {
			mcpServer(ns, "ml-tools", httpUp)
			mcpServer(ns, "files", stdioUp)
		}
	})

	It("injects the sidecar into an annotated pod in a namespace labelled for injection", func() {
		p := pod(enabled, serverAnnotation("ml-tools"), nil)
		Expect(env.Client.Create(ctx, p)).To(Succeed())
		expectInjected(p)

		stored := &corev1.Pod{}
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(p), stored)).To(Succeed())
		expectInjected(stored)
		var st map[string]any
		Expect(json.Unmarshal([]byte(stored.Annotations[v1alpha1.InjectedStatusAnnotation]), &st)).To(Succeed())
		Expect(st).To(HaveKeyWithValue("initContainers", ConsistOf(inject.SidecarContainer)))
	})

	It("wraps the command of a Stdio server's container, and the API server accepts the result", func() {
		p := pod(enabled, serverAnnotation("files"), nil)
		Expect(env.Client.Create(ctx, p)).To(Succeed())
		Expect(p.Spec.InitContainers).To(ConsistOf(HaveField("Name", inject.InstallContainer)))
		Expect(p.Spec.Containers[0].Command).To(HaveExactElements(
			"/airlock/bin/sidecar", "--server=$(POD_NAMESPACE)/files", "--listen=:9443", "--metrics-addr=:9090",
			"--token-file=/var/run/secrets/airlock/serviceaccount/token", "--", "/ml-tools", "serve"))
		Expect(p.Spec.Containers[0].Args).To(BeEmpty())
	})

	It("refuses a pod naming an MCPServer that does not exist, saying what to do", func() {
		err := env.Client.Create(ctx, pod(enabled, serverAnnotation("nope"), nil))
		Expect(err).To(MatchError(ContainSubstring(
			"MCPServer nope not found in namespace " + enabled + ": create it or remove the annotation mcp.airlock.dev/server")))
	})

	It("refuses a Stdio pod whose container has no command", func() {
		p := pod(enabled, serverAnnotation("files"), nil)
		p.Spec.Containers[0].Command = nil
		Expect(env.Client.Create(ctx, p)).To(MatchError(ContainSubstring(`container "mcp" has no command`)))
	})

	It("leaves a pod without the annotation untouched", func() {
		p := pod(enabled, nil, nil)
		Expect(env.Client.Create(ctx, p)).To(Succeed())
		expectUntouched(p)
	})

	It("leaves an annotated pod in a namespace without the label untouched", func() {
		p := pod(plain, serverAnnotation("ml-tools"), nil)
		Expect(env.Client.Create(ctx, p)).To(Succeed())
		expectUntouched(p)

		By("even when the MCPServer is missing: the webhook never sees the pod")
		Expect(env.Client.Create(ctx, pod(plain, serverAnnotation("nope"), nil))).To(Succeed())
	})

	It("injects an annotated pod labelled mcp.airlock.dev/inject=true in a namespace without the label", func() {
		p := pod(plain, serverAnnotation("ml-tools"), injectOn)
		Expect(env.Client.Create(ctx, p)).To(Succeed())
		expectInjected(p)
	})

	It("injects a labelled pod in a labelled namespace once", func() {
		p := pod(enabled, serverAnnotation("ml-tools"), injectOn)
		Expect(env.Client.Create(ctx, p)).To(Succeed())
		expectInjected(p)
	})

	It("never touches pods in kube-system or the operator's namespace", func() {
		for _, ns := range []string{"kube-system", operatorNamespace} {
			_ = env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			p := pod(ns, serverAnnotation("ml-tools"), injectOn)
			Expect(env.Client.Create(ctx, p)).To(Succeed(), ns)
			expectUntouched(p)
		}
	})

	It("admits a hostNetwork pod without the sidecar, with a warning and a Warning Event on the MCPServer", func() {
		w := &warnings{}
		cfg := rest.CopyConfig(env.Config)
		cfg.WarningHandlerWithContext = w
		c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
		Expect(err).NotTo(HaveOccurred())

		p := pod(enabled, serverAnnotation("ml-tools"), nil)
		p.Spec.HostNetwork = true
		Expect(c.Create(ctx, p)).To(Succeed())
		expectUntouched(p)
		Expect(w.got).To(ContainElement(ContainSubstring("pod uses hostNetwork")))

		Eventually(func(g Gomega) {
			list := &eventsv1.EventList{}
			g.Expect(env.Client.List(ctx, list, client.InNamespace(enabled))).To(Succeed())
			g.Expect(list.Items).To(ContainElement(And(
				HaveField("Type", corev1.EventTypeWarning),
				HaveField("Reason", inject.ReasonInjectionSkipped),
				HaveField("Regarding.Kind", "MCPServer"),
				HaveField("Regarding.Name", "ml-tools"),
				HaveField("Note", ContainSubstring("hostNetwork")),
			)))
		}).Should(Succeed())
	})

	It("leaves an injected pod alone when its creation is dry-run twice", func() {
		p := pod(enabled, serverAnnotation("ml-tools"), nil)
		Expect(env.Client.Create(ctx, p, client.DryRunAll)).To(Succeed())
		expectInjected(p)
		again := p.DeepCopy()
		again.ResourceVersion, again.UID, again.CreationTimestamp = "", "", metav1.Time{}
		again.Name, again.GenerateName = "", "mcp-"
		Expect(env.Client.Create(ctx, again, client.DryRunAll)).To(Succeed())
		Expect(again.Spec.InitContainers).To(HaveLen(1))
		Expect(again.Spec.InitContainers[0].Args).To(Equal(p.Spec.InitContainers[0].Args))
		Expect(again.Spec.Volumes).To(HaveLen(len(p.Spec.Volumes)))
	})
})
