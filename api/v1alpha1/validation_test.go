package v1alpha1_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/test/envtest"
)

// object parses YAML into an unstructured object in the default namespace.
func object(doc string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
	if u.GetNamespace() == "" {
		u.SetNamespace("default")
	}
	return u
}

const validServer = `
apiVersion: mcp.airlock.dev/v1alpha1
kind: MCPServer
metadata: {name: s}
spec:
  upstream: {port: 3001}
  authentication:
    issuers:
      - name: okta
        oidc: {issuerURL: "https://example.okta.com/oauth2/default", audiences: ["api://default"]}
`

// server returns validServer with its spec replaced by spec.
func server(spec string) string {
	return "apiVersion: mcp.airlock.dev/v1alpha1\nkind: MCPServer\nmetadata: {name: s}\nspec:\n" + spec
}

func policy(spec string) string {
	return "apiVersion: mcp.airlock.dev/v1alpha1\nkind: AccessPolicy\nmetadata: {name: p}\nspec:\n" + spec
}

const okta = `  authentication:
    issuers:
      - name: okta
        oidc: {issuerURL: "https://example.okta.com/oauth2/default", audiences: ["api://default"]}
`

func approvalRequest(name string) *v1.ApprovalRequest {
	return &v1.ApprovalRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1.ApprovalRequestSpec{
			Server:      "ml-tools",
			Requester:   v1.Requester{Issuer: "okta", Subject: "0oa1ci"},
			Method:      "tools/call",
			Tool:        "deploy_model",
			Arguments:   `{"model":"m"}`,
			Policy:      "ml-ops",
			Rule:        "deploy",
			ExpiresAt:   metav1.NewTime(time.Now().Add(time.Hour)),
			RequestHash: strings.Repeat("ab", 32),
		},
	}
}

var _ = Describe("CRDs", func() {
	ctx := context.Background()

	It("are installed and served", func() {
		for _, l := range []client.ObjectList{&v1.MCPServerList{}, &v1.AccessPolicyList{}, &v1.ApprovalRequestList{}} {
			Expect(env.Client.List(ctx, l, client.InNamespace("default"))).To(Succeed())
		}
	})

	It("print the columns kubectl get mcps,ap,ar shows", func() {
		want := map[string][]string{
			"mcpservers.mcp.airlock.dev":       {"Ready", "Policies", "Pods", "Age"},
			"accesspolicies.mcp.airlock.dev":   {"Valid", "Servers", "Age"},
			"approvalrequests.mcp.airlock.dev": {"Server", "Tool", "Requester", "Phase", "Expires", "Age"},
		}
		for name, cols := range want {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			Expect(env.Client.Get(ctx, types.NamespacedName{Name: name}, crd)).To(Succeed())
			var got []string
			for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
				got = append(got, c.Name)
			}
			Expect(got).To(Equal(cols), name)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(env.Client.Get(ctx, types.NamespacedName{Name: "approvalrequests.mcp.airlock.dev"}, crd)).To(Succeed())
		Expect(crd.Spec.Names.ShortNames).To(ConsistOf("ar"))
	})

	It("accept every sample in config/samples (server-side dry-run)", func() {
		files, err := filepath.Glob(filepath.Join(envtest.RepoRoot(), "config", "samples", "mcp_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(HaveLen(3))
		for _, f := range files {
			data, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{}
			Expect(utilyaml.Unmarshal(data, &u.Object)).To(Succeed())
			Expect(env.Client.Create(ctx, u, client.DryRunAll)).To(Succeed(), f)
		}
	})

	It("default what the user leaves out", func() {
		u := object(validServer)
		Expect(env.Client.Create(ctx, u, client.DryRunAll)).To(Succeed())
		s := &v1.MCPServer{}
		Expect(env.Scheme.Convert(u, s, nil)).To(Succeed())
		Expect(s.Spec.Upstream.Path).To(Equal("/mcp"))
		Expect(s.Spec.Upstream.Transport).To(Equal(v1.TransportStreamableHTTP))
		Expect(s.Spec.Listen.Port).To(Equal(int32(9443)))
		Expect(s.Spec.Recording.Mode).To(Equal(v1.RecordingBestEffort))
		Expect(s.Spec.NetworkPolicy).To(Equal(v1.NetworkPolicyEnforce))
		Expect(s.Spec.Authentication.Issuers[0].OIDC.ClaimMappings.Scopes).To(Equal("scp"))
		Expect(s.Spec.Approvals.Timeout.Duration).To(Equal(15 * time.Minute))
	})

	DescribeTable("reject invalid objects at admission",
		func(doc, message string) {
			err := env.Client.Create(ctx, object(doc), client.DryRunAll)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("an issuer with both oidc and kubernetes", server(`  upstream: {port: 3001}
  authentication:
    issuers:
      - name: both
        oidc: {issuerURL: "https://x.example/oauth2/default", audiences: ["a"]}
        kubernetes: {audiences: ["a"]}
`), "exactly one of oidc or kubernetes must be set"),
		Entry("an issuer with neither oidc nor kubernetes", server(`  upstream: {port: 3001}
  authentication:
    issuers: [{name: none}]
`), "exactly one of oidc or kubernetes must be set"),
		Entry("two issuers with the same name", server(`  upstream: {port: 3001}
  authentication:
    issuers:
      - {name: okta, kubernetes: {audiences: ["a"]}}
      - {name: okta, kubernetes: {audiences: ["b"]}}
`), "Duplicate value"),
		Entry("no issuers", server(`  upstream: {port: 3001}
  authentication: {issuers: []}
`), "should have at least 1 items"),
		Entry("an upstream port out of range", server("  upstream: {port: 70000}\n"+okta), "less than or equal to 65535"),
		Entry("an HTTP upstream without a port", server("  upstream: {transport: StreamableHTTP}\n"+okta), "port is required unless transport is Stdio"),
		Entry("an unknown transport", server("  upstream: {port: 3001, transport: gRPC}\n"+okta), `Unsupported value: "gRPC"`),
		Entry("the sidecar listening on the upstream port", server("  upstream: {port: 9443}\n"+okta), "listen.port must differ from upstream.port"),
		Entry("an upstream path without a leading slash", server("  upstream: {port: 3001, path: mcp}\n"+okta), "spec.upstream.path"),
		Entry("a credential format without {value}", server(`  upstream:
    port: 3001
    credentials: [{name: c, secretRef: {name: s, key: k}, format: "Bearer"}]
`+okta), "format must contain {value}"),
		Entry("a Stdio credential without env", server(`  upstream:
    transport: Stdio
    credentials: [{name: c, secretRef: {name: s, key: k}}]
`+okta), "Stdio credentials are passed as environment variables"),
		Entry("an issuer URL that is not http(s)", server(`  upstream: {port: 3001}
  authentication:
    issuers: [{name: o, oidc: {issuerURL: "ftp://x", audiences: ["a"]}}]
`), "spec.authentication.issuers[0].oidc.issuerURL"),
		Entry("a policy with both targetRefs and serverSelector", policy(`  targetRefs: [{name: s}]
  serverSelector: {matchLabels: {a: b}}
  subjects: [{groups: [g]}]
  rules: [{name: r, action: Allow}]
`), "exactly one of targetRefs or serverSelector must be set"),
		Entry("a RequireApproval rule without approval", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: [{name: r, tools: [deploy], action: RequireApproval}]
`), "approval must be set when, and only when, action is RequireApproval"),
		Entry("an Allow rule with an approval block", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: [{name: r, action: Allow, approval: {approverGroups: [x]}}]
`), "approval must be set when, and only when, action is RequireApproval"),
		Entry("an unknown action", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: [{name: r, action: Maybe}]
`), `Unsupported value: "Maybe"`),
		Entry("a tool glob with a space", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: [{name: r, tools: ["delete all"], action: Deny}]
`), "spec.rules[0].tools[0]"),
		Entry("an empty subject", policy(`  targetRefs: [{name: s}]
  subjects: [{}]
  rules: [{name: r, action: Allow}]
`), "a subject must set at least one of"),
		Entry("a policy without rules", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: []
`), "should have at least 1 items"),
		Entry("a rule for a method that cannot be governed", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: [{name: r, methods: [initialize], action: Allow}]
`), `Unsupported value: "initialize"`),
		Entry("two rules with the same name", policy(`  targetRefs: [{name: s}]
  subjects: [{groups: [g]}]
  rules: [{name: r, action: Allow}, {name: r, action: Deny}]
`), "Duplicate value"),
		Entry("an ApprovalRequest with a malformed hash", `
apiVersion: mcp.airlock.dev/v1alpha1
kind: ApprovalRequest
metadata: {name: a}
spec:
  server: s
  requester: {issuer: okta, subject: x}
  method: tools/call
  policy: p
  rule: r
  expiresAt: "2030-01-01T00:00:00Z"
  requestHash: not-a-hash
`, "spec.requestHash"),
	)

	Describe("ApprovalRequest", func() {
		It("refuses any change to its spec after creation", func() {
			ar := approvalRequest("immutable")
			Expect(env.Client.Create(ctx, ar)).To(Succeed())
			DeferCleanup(env.Client.Delete, ctx, ar)
			ar.Spec.Tool = "delete_all_models"
			err := env.Client.Update(ctx, ar)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring("spec is immutable"))
		})

		It("takes a decision once and refuses to change it", func() {
			ar := approvalRequest("decided")
			Expect(env.Client.Create(ctx, ar)).To(Succeed())
			DeferCleanup(env.Client.Delete, ctx, ar)

			bad := ar.DeepCopy()
			bad.Status.Decision = "Maybe"
			err := env.Client.Status().Update(ctx, bad)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(`Unsupported value: "Maybe"`))

			ar.Status.Decision = v1.DecisionApproved
			Expect(env.Client.Status().Update(ctx, ar)).To(Succeed())

			ar.Status.Decision = v1.DecisionDenied
			err = env.Client.Status().Update(ctx, ar)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring("decision cannot be changed once set"))

			ar.Status.Decision = ""
			err = env.Client.Status().Update(ctx, ar)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring("decision cannot be changed once set"))
		})
	})
})
