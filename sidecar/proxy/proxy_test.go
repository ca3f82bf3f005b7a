package proxy_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/policy"
	"github.com/mcp-airlock/airlock/test/mcpserver"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}`

func connect(url, token string, opts *sdk.ClientOptions) *sdk.ClientSession {
	c := sdk.NewClient(&sdk.Implementation{Name: "airlock-test-client", Version: "v0"}, opts)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: bearer(token), MaxRetries: -1}, nil)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cs.Close)
	return cs
}

// post sends a JSON-RPC body; header holds name, value pairs.
func post(url, token, body string, header ...string) *http.Response {
	return send(http.MethodPost, url, token, strings.NewReader(body), "application/json, text/event-stream", header...)
}

// send is one raw HTTP request to the sidecar, closed when the spec ends.
func send(method, url, token string, body io.Reader, accept string, header ...string) *http.Response {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	Expect(err).NotTo(HaveOccurred())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(resp.Body.Close)
	return resp
}

// toolNames lists the tools the session is shown.
func toolNames(cs *sdk.ClientSession) []string {
	list, err := cs.ListTools(ctx, nil)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, t := range list.Tools {
		names = append(names, t.Name)
	}
	return names
}

func readAll(r io.Reader) string {
	b, err := io.ReadAll(r)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

func text(res *sdk.CallToolResult) string {
	Expect(res.Content).NotTo(BeEmpty())
	return res.Content[0].(*sdk.TextContent).Text
}

var _ = Describe("The sidecar", Ordered, func() {
	var (
		sc    *sidecar
		token string
	)

	BeforeAll(func() {
		sc = startSidecar("tools", mcpserver.Options{HoldSlow: true})
		token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
	})

	It("lets an Okta client-credentials token call an allowed tool", func() {
		cs := connect(sc.url, token, nil)
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hello"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("hello"))
		Expect(sc.upstream.Calls("echo")).To(BeNumerically(">=", 1))
	})

	It("refuses a blocked tool with the rule's name, and the server never sees it", func() {
		cs := connect(sc.url, token, nil)
		_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "delete_all", Arguments: map[string]any{}})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("tool delete_all is blocked by rule block-destructive in policy default/tools-policy"))
		Expect(err.Error()).To(MatchRegexp(`reference [0-9a-f]{16}`))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())
	})

	It("lists only the tools the caller may call", func() {
		cs := connect(sc.url, token, nil)
		Expect(toolNames(cs)).To(ConsistOf("echo", "slow", "leak", "confirm"))
	})

	It("injects the upstream credential and never forwards the caller's token", func() {
		cs := connect(sc.url, token, nil)
		_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
		Expect(err).NotTo(HaveOccurred())
		headers := sc.upstream.Headers()
		Expect(headers).NotTo(BeEmpty())
		for _, h := range headers {
			Expect(h.Get("Authorization")).To(Equal("Bearer " + upstreamSecret))
			for _, vs := range h {
				for _, v := range vs {
					Expect(v).NotTo(ContainSubstring(token))
				}
			}
		}
	})

	It("masks secrets and personal data in SSE responses", func() {
		cs := connect(sc.url, token, nil)
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "leak", Arguments: map[string]any{}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).NotTo(ContainSubstring(mcpserver.LeakedAWSKey))
		Expect(text(res)).NotTo(ContainSubstring(mcpserver.LeakedEmail))
		Expect(text(res)).To(ContainSubstring("[REDACTED:"))
	})

	It("streams progress notifications while a tool runs", func() {
		var progress atomic.Int64
		cs := connect(sc.url, token, &sdk.ClientOptions{
			ProgressNotificationHandler: func(_ context.Context, _ *sdk.ProgressNotificationClientRequest) {
				// The tool waits after its first notification until released:
				// if the sidecar buffered the stream, this never runs.
				if progress.Add(1) == 1 {
					sc.upstream.Release()
				}
			},
		})
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "slow", Arguments: map[string]any{"steps": 3},
			Meta: sdk.Meta{"progressToken": "p1"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("done"))
		Eventually(progress.Load).Should(BeEquivalentTo(3))
	})

	It("serves RFC 9728 protected-resource metadata", func() {
		for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
			resp, err := http.Get(strings.TrimSuffix(sc.url, "/mcp") + path)
			Expect(err).NotTo(HaveOccurred())
			var md map[string]any
			Expect(json.NewDecoder(resp.Body).Decode(&md)).To(Succeed())
			_ = resp.Body.Close()
			Expect(md).To(HaveKeyWithValue("resource", serviceAudience))
			Expect(md["authorization_servers"]).To(ContainElement(idp.Issuer()))
		}
	})

	Describe("bad input", func() {
		otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		claims := func(mutate func(map[string]any)) map[string]any {
			c := idp.Claims(clientID, "mcp.read")
			mutate(c)
			return c
		}
		now := func() int64 { return time.Now().Unix() }

		DescribeTable("refuses a bad token with 401 and forwards nothing",
			func(makeToken func() string) {
				before := len(sc.upstream.Headers())
				resp := post(sc.url, makeToken(), initialize)
				Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
				Expect(resp.Header.Get("WWW-Authenticate")).To(ContainSubstring(`resource_metadata="`))
				Expect(readAll(resp.Body)).To(ContainSubstring(`"code":`))
				Expect(sc.upstream.Headers()).To(HaveLen(before))
			},
			Entry("missing", func() string { return "" }),
			Entry("garbage", func() string { return "not-a-jwt" }),
			Entry("expired", func() string {
				return idp.Sign(claims(func(c map[string]any) { c["exp"] = now() - 600; c["iat"] = now() - 1200 }))
			}),
			Entry("not valid before a future time", func() string {
				return idp.Sign(claims(func(c map[string]any) { c["nbf"] = now() + 600 }))
			}),
			Entry("for another audience", func() string {
				return idp.Sign(claims(func(c map[string]any) { c["aud"] = "api://other" }))
			}),
			Entry("with another issuer's iss", func() string {
				return idp.Sign(claims(func(c map[string]any) { c["iss"] = idp.Issuer() + "-other" }))
			}),
			Entry("from an unknown issuer", func() string {
				return idp.Sign(claims(func(c map[string]any) { c["iss"] = "https://unknown.example.com/oauth2/default" }))
			}),
			Entry("with alg none", func() string { return idp.Sign(claims(func(map[string]any) {}), oidctest.WithAlgNone()) }),
			Entry("HS256 keyed with the public key", func() string {
				return idp.Sign(claims(func(map[string]any) {}), oidctest.WithHS256(idp.PublicKeyPEM()))
			}),
			Entry("signed with an unknown key", func() string {
				return idp.Sign(claims(func(map[string]any) {}), oidctest.WithKey(otherKey), oidctest.WithKeyID("unknown-kid"))
			}),
			Entry("with a tampered payload", func() string {
				return idp.Tamper(idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read"),
					func(c map[string]any) { c["sub"] = "admin" })
			}),
			Entry("for another resource", func() string {
				return idp.Sign(claims(func(c map[string]any) { c["aud"] = "https://other-server.example.com/mcp" }))
			}),
		)

		It("answers malformed JSON-RPC with a parse error and forwards nothing", func() {
			before := len(sc.upstream.Headers())
			resp := post(sc.url, token, `{"jsonrpc":"2.0","id":1,"method":`)
			Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
			Expect(readAll(resp.Body)).To(ContainSubstring(`"code":-32700`))
			resp = post(sc.url, token, `{"jsonrpc":"1.0","id":1,"method":"tools/call"}`)
			Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
			Expect(readAll(resp.Body)).To(ContainSubstring(`"code":-32600`))
			Expect(sc.upstream.Headers()).To(HaveLen(before))
		})

		It("refuses an oversized body with 413", func() {
			before := len(sc.upstream.Headers())
			big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + strings.Repeat("a", 5<<20) + `"}}}`
			resp := post(sc.url, token, big)
			Expect(resp.StatusCode).To(Equal(http.StatusRequestEntityTooLarge))
			Expect(readAll(resp.Body)).To(ContainSubstring("larger than the sidecar accepts"))
			Expect(sc.upstream.Headers()).To(HaveLen(before))
		})

		It("refuses an unknown session, and a session opened by someone else", func() {
			resp := post(sc.url, token, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, mcp.HeaderSessionID, "made-up-session")
			Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
			Expect(readAll(resp.Body)).To(ContainSubstring("unknown session"))

			opened := post(sc.url, token, initialize)
			Expect(opened.StatusCode).To(Equal(http.StatusOK))
			sid := opened.Header.Get(mcp.HeaderSessionID)
			Expect(sid).NotTo(BeEmpty())
			idp.AddClient("0oa-intruder", "intruder-secret", []string{"mcp.read"}, nil)
			intruder := idp.ClientCredentialsToken(ctx, "0oa-intruder", "intruder-secret", "mcp.read")
			resp = post(sc.url, intruder, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, mcp.HeaderSessionID, sid)
			Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
		})
	})

	It("accepts a service-account token for its audience and refuses one for another", func() {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ci-job", Namespace: namespace}}
		Expect(env.Client.Create(ctx, sa)).To(Succeed())
		DeferCleanup(env.Client.Delete, ctx, sa)
		tokenFor := func(aud string) string {
			tr, err := kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{Audiences: []string{aud}},
			}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			return tr.Status.Token
		}
		cs := connect(sc.url, tokenFor(serviceAudience), nil)
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "from a pod"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("from a pod"))

		resp := post(sc.url, tokenFor("https://some-other-service"), initialize)
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
	})

	It("picks up a rotated Secret without a restart", func() {
		secret := &corev1.Secret{}
		Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "tools-upstream"}, secret)).To(Succeed())
		secret.Data["token"] = []byte("upstream-credential-v2")
		Expect(env.Client.Update(ctx, secret)).To(Succeed())
		cs := connect(sc.url, token, nil)
		Eventually(func() string {
			_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
			Expect(err).NotTo(HaveOccurred())
			h := sc.upstream.Headers()
			return h[len(h)-1].Get("Authorization")
		}).Should(Equal("Bearer upstream-credential-v2"))
	})

	It("applies a policy change to the next call", func() {
		cs := connect(sc.url, token, nil)
		_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
		Expect(err).NotTo(HaveOccurred())

		pol := &v1alpha1.AccessPolicy{}
		Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "tools-policy"}, pol)).To(Succeed())
		pol.Spec.Rules = append(pol.Spec.Rules, v1alpha1.Rule{Name: "freeze-echo", Methods: []v1alpha1.Method{v1alpha1.MethodToolsCall},
			Tools: []string{"echo"}, Action: v1alpha1.ActionDeny})
		for len(sc.swaps) > 0 {
			<-sc.swaps
		}
		changed := time.Now()
		Expect(env.Client.Update(ctx, pol)).To(Succeed())
		// Wait for the snapshot that enforces the change (others may pass by).
		caller := &authn.Identity{Issuer: "okta", Subject: clientID, Claims: map[string]any{"cid": clientID}}
		Eventually(func() v1alpha1.Action {
			select {
			case snap := <-sc.swaps:
				if snap.Err == nil {
					return snap.Policy.Decide(caller, policy.Request{Method: mcp.MethodToolsCall, Name: "echo"}).Action
				}
			default:
			}
			return ""
		}).Should(Equal(v1alpha1.ActionDeny))
		AddReportEntry("policy change to enforcement", time.Since(changed).String())

		_, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
		Expect(err).To(MatchError(ContainSubstring("blocked by rule freeze-echo")))
	})

	It("never logs a token, a credential or an unmasked payload", func() {
		l := logs.String()
		Expect(l).To(ContainSubstring("call refused")) // the log was captured
		for _, secret := range []string{token, upstreamSecret, "upstream-credential-v2", clientSecret,
			mcpserver.LeakedAWSKey, mcpserver.LeakedEmail, "hello"} {
			Expect(l).NotTo(ContainSubstring(secret))
		}
	})
})

var _ = Describe("The sidecar in front of a JSON-answering server", func() {
	It("masks application/json responses too", func() {
		sc := startSidecar("json-tools", mcpserver.Options{JSONResponse: true})
		token := idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
		cs := connect(sc.url, token, nil)
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "leak", Arguments: map[string]any{}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).NotTo(ContainSubstring(mcpserver.LeakedAWSKey))
		Expect(text(res)).NotTo(ContainSubstring(mcpserver.LeakedEmail))
		Expect(text(res)).To(ContainSubstring("[REDACTED:"))
	})
})
