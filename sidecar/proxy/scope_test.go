package proxy_test

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/test/mcpserver"
)

var _ = Describe("A rule that requires a scope", func() {
	It("answers 403 insufficient_scope to a token without it, and forwards nothing", func() {
		sc := startSidecar("scoped", mcpserver.Options{Stateless: true, JSONResponse: true})
		pol := &v1alpha1.AccessPolicy{}
		Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "scoped-policy"}, pol)).To(Succeed())
		pol.Spec.Rules = []v1alpha1.Rule{{Name: "admins-only", Methods: []v1alpha1.Method{v1alpha1.MethodToolsCall},
			Tools: []string{"echo"}, RequiredScopes: []string{"mcp.admin"}, Action: v1alpha1.ActionAllow}}
		Expect(env.Client.Update(ctx, pol)).To(Succeed())
		token := idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
		call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`
		Eventually(func() int {
			return post(sc.url, token, call, "MCP-Protocol-Version", "2025-06-18").StatusCode
		}).Should(Equal(http.StatusForbidden))
		// Calls made before the change reached the sidecar were allowed; from
		// now on none may reach the server.
		before := sc.upstream.Calls("echo")
		resp := post(sc.url, token, call, "MCP-Protocol-Version", "2025-06-18")
		Expect(resp.StatusCode).To(Equal(http.StatusForbidden))
		Expect(resp.Header.Get("WWW-Authenticate")).To(And(ContainSubstring(`error="insufficient_scope"`), ContainSubstring(`scope="mcp.admin"`)))
		Expect(sc.upstream.Calls("echo")).To(Equal(before))
	})
})
