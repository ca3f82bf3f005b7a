package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
)

const (
	clientID     = "0oa-e2e-agent"
	clientSecret = "e2e-agent-secret"
)

// inspector runs the MCP Inspector CLI against url (Streamable HTTP) and
// returns its output.
func inspector(url, token string, args ...string) (string, error) {
	return inspectorOver("http", url, token, args...)
}

func inspectorOver(transport, url, token string, args ...string) (string, error) {
	all := []string{"--cli", url, "--transport", transport}
	if token != "" {
		all = append(all, "--header", "Authorization: Bearer "+token)
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, bin("mcp-inspector"), append(all, args...)...).CombinedOutput()
	GinkgoWriter.Printf("inspector %v:\n%s\n", args, out)
	return string(out), err
}

var _ = Describe("server-everything behind the sidecar binary", Ordered, func() {
	var (
		endpoint string
		token    string
	)

	BeforeAll(func() {
		token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")

		upstreamPort := freePort()
		start(bin("mcp-server-everything"), []string{"PORT=" + strconv.Itoa(upstreamPort)}, "streamableHttp")

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "everything-upstream", Namespace: "default"},
			StringData: map[string]string{"token": "upstream-e2e-credential"}}
		Expect(env.Client.Create(ctx, secret)).To(Succeed())
		create(
			oktaServer("everything", v1alpha1.Upstream{Port: int32(upstreamPort), Credentials: []v1alpha1.UpstreamCredential{credentialFrom(secret.Name)}}),
			policyFor("agents", "everything", clientID,
				v1alpha1.Rule{Name: "everyday-tools", Tools: []string{"echo", "get-sum", "trigger-long-running-operation"}, Action: v1alpha1.ActionAllow},
				v1alpha1.Rule{Name: "block-env", Tools: []string{"get-env"}, Action: v1alpha1.ActionDeny},
				v1alpha1.Rule{Name: "no-sql-in-echo", Tools: []string{"echo"}, When: "request.arguments.message.contains('DROP TABLE')", Action: v1alpha1.ActionDeny},
			),
		)

		endpoint = fmt.Sprintf("http://127.0.0.1:%d/mcp", startSidecar("everything", "--zap-log-level=debug"))
		waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/mcp", upstreamPort), 400) // server-everything is up: a GET without a session
	})

	It("lists only the allowed tools to the Inspector CLI", func() {
		out, err := inspector(endpoint, token, "--method", "tools/list")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring(`"name": "echo"`))
		Expect(out).To(ContainSubstring(`"name": "get-sum"`))
		Expect(out).NotTo(ContainSubstring(`"name": "get-env"`))
		Expect(out).NotTo(ContainSubstring(`"name": "get-tiny-image"`))
	})

	It("lets the Inspector CLI call an allowed tool", func() {
		out, err := inspector(endpoint, token, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=through the airlock")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("Echo: through the airlock"))
	})

	It("refuses a blocked call to the Inspector CLI with the rule's name", func() {
		out, err := inspector(endpoint, token, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=DROP TABLE models")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("blocked by rule no-sql-in-echo in policy default/agents"))
		Expect(out).NotTo(ContainSubstring("Echo: DROP TABLE"))
	})

	It("hides a blocked tool from the Inspector CLI altogether", func() {
		out, err := inspector(endpoint, token, "--method", "tools/call", "--tool-name", "get-env")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("not found"))
		Expect(out).NotTo(ContainSubstring("PATH"))
	})

	It("refuses the Inspector CLI without a token, pointing it at OAuth", func() {
		// The 401's WWW-Authenticate leads the Inspector to start an OAuth
		// flow, which it cannot finish without a terminal.
		out, err := inspector(endpoint, "", "--method", "tools/list")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("auth_required"))
		Expect(out).NotTo(ContainSubstring(`"name": "echo"`))
	})

	It("delivers a long-running tool's progress notifications while it runs", func() {
		var (
			mu    sync.Mutex
			times []time.Time
		)
		u, err := url.Parse(endpoint)
		Expect(err).NotTo(HaveOccurred())
		c := sdk.NewClient(&sdk.Implementation{Name: "e2e", Version: "v0"}, &sdk.ClientOptions{
			ProgressNotificationHandler: func(context.Context, *sdk.ProgressNotificationClientRequest) {
				mu.Lock()
				defer mu.Unlock()
				times = append(times, time.Now())
			},
		})
		cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: u.String(), HTTPClient: withToken(token)}, nil)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = cs.Close() }()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "trigger-long-running-operation",
			Arguments: map[string]any{"duration": 3, "steps": 3}, Meta: sdk.Meta{"progressToken": "e2e"}})
		Expect(err).NotTo(HaveOccurred())
		done := time.Now()
		Expect(res.Content[0].(*sdk.TextContent).Text).To(ContainSubstring("Long running operation completed"))
		// The client handles notifications concurrently: the last may be
		// handled just after the result.
		Eventually(func() int { mu.Lock(); defer mu.Unlock(); return len(times) }).Should(Equal(3))
		mu.Lock()
		defer mu.Unlock()
		first := slices.MinFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		// The tool sleeps a second between steps: had the sidecar buffered
		// the stream, the first notification would arrive with the result.
		Expect(done.Sub(first)).To(BeNumerically(">", 1500*time.Millisecond))
	})
})

var _ = Describe("server-everything's legacy HTTP+SSE transport behind the sidecar binary", Ordered, func() {
	var (
		endpoint string
		token    string
	)

	BeforeAll(func() {
		token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
		upstreamPort := freePort()
		start(bin("mcp-server-everything"), []string{"PORT=" + strconv.Itoa(upstreamPort)}, "sse")
		create(
			oktaServer("everything-sse", v1alpha1.Upstream{Port: int32(upstreamPort), Path: "/sse", Transport: v1alpha1.TransportSSE}),
			policyFor("sse-agents", "everything-sse", clientID,
				v1alpha1.Rule{Name: "everyday-tools", Tools: []string{"echo", "get-sum"}, Action: v1alpha1.ActionAllow},
				v1alpha1.Rule{Name: "no-sql-in-echo", Tools: []string{"echo"}, When: "request.arguments.message.contains('DROP TABLE')", Action: v1alpha1.ActionDeny},
			),
		)
		endpoint = fmt.Sprintf("http://127.0.0.1:%d/sse", startSidecar("everything-sse"))
	})

	It("lists only the allowed tools to the Inspector CLI over SSE", func() {
		var out string
		// server-everything may still be starting: retry until it answers.
		Eventually(func() error {
			var err error
			out, err = inspectorOver("sse", endpoint, token, "--method", "tools/list")
			return err
		}).WithTimeout(60 * time.Second).Should(Succeed())
		Expect(out).To(ContainSubstring(`"name": "echo"`))
		Expect(out).NotTo(ContainSubstring(`"name": "get-env"`))
	})

	It("lets an allowed call through and refuses a blocked one with the rule's name", func() {
		out, err := inspectorOver("sse", endpoint, token, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=over sse")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("Echo: over sse"))
		out, err = inspectorOver("sse", endpoint, token, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=DROP TABLE x")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("blocked by rule no-sql-in-echo in policy default/sse-agents"))
	})
})
