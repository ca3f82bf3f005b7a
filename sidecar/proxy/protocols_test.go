package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/mcp/sse"
	"github.com/mcp-airlock/airlock/test/mcpserver"
)

// Every protocol era through the same sidecar: same authentication, same
// policy, same credential, same masking.

// connectVersion connects a go-sdk client that asks for protocol version v.
func connectVersion(url, token, v string) *sdk.ClientSession {
	c := sdk.NewClient(&sdk.Implementation{Name: "airlock-test-client", Version: "v0"}, nil)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: bearer(token), MaxRetries: -1},
		&sdk.ClientSessionOptions{ProtocolVersion: v})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cs.Close)
	return cs
}

// get opens a GET event stream.
func get(url, token string, header ...string) *http.Response {
	return send(http.MethodGet, url, token, nil, "text/event-stream", header...)
}

// messages decodes a JSON reply, or every event of an SSE reply, into
// JSON-RPC messages.
func messages(resp *http.Response) []mcp.Message {
	var bodies [][]byte
	if strings.HasPrefix(resp.Header.Get("Content-Type"), sse.ContentType) {
		rd := sse.NewReader(resp.Body, 0)
		for {
			ev, err := rd.Read()
			if err != nil {
				break
			}
			if len(ev.Data) > 0 {
				bodies = append(bodies, append([]byte(nil), ev.Data...))
			}
		}
	} else {
		bodies = append(bodies, []byte(readAll(resp.Body)))
	}
	var out []mcp.Message
	for _, b := range bodies {
		msgs, _, err := mcp.Decode(b)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, msgs...)
	}
	return out
}

// nextMessage reads events until one carries a message, and returns it
// with the event's id.
func nextMessage(rd *sse.Reader) (id string, msg mcp.Message) {
	for {
		ev, err := rd.Read()
		Expect(err).NotTo(HaveOccurred())
		if len(ev.Data) == 0 {
			continue
		}
		msgs, _, err := mcp.Decode(append([]byte(nil), ev.Data...))
		Expect(err).NotTo(HaveOccurred())
		return ev.ID, msgs[0]
	}
}

func logText(m mcp.Message) string {
	var p struct{ Data string }
	Expect(m.Method).To(Equal("notifications/message"))
	Expect(json.Unmarshal(m.Params, &p)).To(Succeed())
	return p.Data
}

var _ = Describe("JSON-RPC batches (2025-03-26)", func() {
	const batch = `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}},` +
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_all","arguments":{}}}]`
	var token string
	BeforeEach(func() { token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read") })

	// open20250326 opens a session the 2025-03-26 way: its requests carry no
	// MCP-Protocol-Version header.
	open20250326 := func(url string) string {
		resp := post(url, token, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}`)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		_ = readAll(resp.Body)
		sid := resp.Header.Get(mcp.HeaderSessionID)
		Expect(sid).NotTo(BeEmpty())
		resp = post(url, token, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, mcp.HeaderSessionID, sid)
		Expect(resp.StatusCode).To(Equal(http.StatusAccepted))
		return sid
	}

	expectAnswered := func(msgs []mcp.Message) {
		Expect(msgs).To(HaveLen(2))
		Expect(string(msgs[0].ID)).To(Equal("1"))
		Expect(msgs[0].Kind).To(Equal(mcp.KindResponse))
		Expect(string(msgs[0].Result)).To(ContainSubstring(`"text":"hello"`))
		Expect(string(msgs[1].ID)).To(Equal("2"))
		Expect(msgs[1].Kind).To(Equal(mcp.KindErrorResponse))
		Expect(msgs[1].Error.Code).To(Equal(mcp.CodeDenied))
		Expect(msgs[1].Error.Message).To(ContainSubstring("tool delete_all is blocked by rule block-destructive"))
	}

	It("forwards the allowed call, answers the blocked one in the same JSON batch, in request order", func() {
		sc := startSidecar("batch-json", mcpserver.Options{JSONResponse: true})
		sid := open20250326(sc.url)
		resp := post(sc.url, token, batch, mcp.HeaderSessionID, sid)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(resp.Header.Get("Content-Type")).To(HavePrefix(mcp.ContentTypeJSON))
		body := readAll(resp.Body)
		Expect(body).To(HavePrefix("["))
		msgs, _, err := mcp.Decode([]byte(body))
		Expect(err).NotTo(HaveOccurred())
		expectAnswered(msgs)
		Expect(sc.upstream.Calls("echo")).To(BeEquivalentTo(1))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())

		By("answering a batch of only blocked calls without reaching the server")
		before := len(sc.upstream.Headers())
		resp = post(sc.url, token, `[{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_all"}}]`, mcp.HeaderSessionID, sid)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(readAll(resp.Body)).To(MatchRegexp(`^\[\{"jsonrpc":"2.0","id":3,"error":\{"code":-32080,`))
		Expect(sc.upstream.Headers()).To(HaveLen(before))

		By("refusing a batch in a revision without batches")
		resp = post(sc.url, token, batch, mcp.HeaderSessionID, sid, mcp.HeaderProtocolVersion, "2025-06-18")
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(sc.upstream.Calls("echo")).To(BeEquivalentTo(1))
	})

	It("sends the refusals of a batch answered with SSE as the stream's first events", func() {
		sc := startSidecar("batch-sse", mcpserver.Options{})
		sid := open20250326(sc.url)
		resp := post(sc.url, token, batch, mcp.HeaderSessionID, sid)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(resp.Header.Get("Content-Type")).To(HavePrefix(sse.ContentType))
		msgs := messages(resp)
		Expect(msgs).To(HaveLen(2))
		expectAnswered([]mcp.Message{msgs[1], msgs[0]})
		Expect(sc.upstream.Calls("echo")).To(BeEquivalentTo(1))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())
	})
})

var _ = Describe("The stateless protocol (2026-07-28)", Ordered, func() {
	var (
		sc    *sidecar
		token string
	)
	BeforeAll(func() {
		sc = startSidecar("stateless-tools", mcpserver.Options{Stateless: true, HoldSlow: true})
		token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
	})

	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	call := func(tool, args string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `,` + meta + `}}`
	}
	modern := func(body string, header ...string) *http.Response {
		return post(sc.url, token, body, append([]string{mcp.HeaderProtocolVersion, "2026-07-28"}, header...)...)
	}

	It("lets a go-sdk client speak 2026-07-28 through the sidecar, policed as in every era", func() {
		var asked string
		cs := connect(sc.url, token, &sdk.ClientOptions{
			ElicitationHandler: func(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
				asked = req.Params.Message
				return &sdk.ElicitResult{Action: "accept", Content: map[string]any{"answer": "yes"}}, nil
			},
		})
		Expect(cs.InitializeResult().ProtocolVersion).To(Equal("2026-07-28"))

		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hello"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("hello"))
		h := sc.upstream.Headers()
		Expect(h[len(h)-1].Get(mcp.HeaderMethod)).To(Equal("tools/call"))
		Expect(h[len(h)-1].Get(mcp.HeaderName)).To(Equal("echo"))
		Expect(h[len(h)-1].Get("Authorization")).To(Equal("Bearer " + upstreamSecret))

		_, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "delete_all", Arguments: map[string]any{}})
		Expect(err).To(MatchError(ContainSubstring("tool delete_all is blocked by rule block-destructive")))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())

		Expect(toolNames(cs)).To(ConsistOf("echo", "slow", "leak", "confirm"))

		By("passing an InputRequiredResult, masked, and policing the retry that answers it")
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "confirm", Arguments: map[string]any{}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("confirmed: yes"))
		Expect(asked).To(ContainSubstring("[REDACTED:"))
		Expect(asked).NotTo(ContainSubstring(mcpserver.LeakedEmail))
		Expect(sc.upstream.Calls("confirm")).To(BeEquivalentTo(2))
	})

	It("refuses a call whose Mcp-Name says echo while its body calls delete_all", func() {
		before := len(sc.upstream.Headers())
		resp := modern(call("delete_all", "{}"), mcp.HeaderMethod, "tools/call", mcp.HeaderName, "echo")
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
		msgs, _, err := mcp.Decode([]byte(readAll(resp.Body)))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(msgs[0].ID)).To(Equal("1"))
		Expect(msgs[0].Error.Code).To(Equal(mcp.CodeHeaderMismatch))
		Expect(msgs[0].Error.Message).To(ContainSubstring(`Mcp-Name header value "echo" does not match body value "delete_all"`))
		Expect(sc.upstream.Headers()).To(HaveLen(before))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())
	})

	DescribeTable("refuses, with HeaderMismatch, a request whose headers do not say what its body says",
		func(body, fragment string, header ...string) {
			before := len(sc.upstream.Headers())
			resp := post(sc.url, token, body, header...)
			Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
			out := readAll(resp.Body)
			Expect(out).To(ContainSubstring(`"code":-32020`))
			Expect(out).To(ContainSubstring(fragment))
			Expect(sc.upstream.Headers()).To(HaveLen(before))
		},
		Entry("Mcp-Method names another method", call("echo", `{"text":"x"}`), "Mcp-Method header value",
			mcp.HeaderProtocolVersion, "2026-07-28", mcp.HeaderMethod, "tools/list", mcp.HeaderName, "echo"),
		Entry("Mcp-Method is missing", call("echo", `{"text":"x"}`), "Mcp-Method header is missing",
			mcp.HeaderProtocolVersion, "2026-07-28", mcp.HeaderName, "echo"),
		Entry("Mcp-Name is missing", call("echo", `{"text":"x"}`), "Mcp-Name header is missing",
			mcp.HeaderProtocolVersion, "2026-07-28", mcp.HeaderMethod, "tools/call"),
		Entry("Mcp-Name is Base64 of another name", call("delete_all", "{}"), "does not match body value",
			mcp.HeaderProtocolVersion, "2026-07-28", mcp.HeaderMethod, "tools/call", mcp.HeaderName, "=?base64?ZWNobw==?="),
		Entry("the body's _meta names another version", strings.Replace(call("echo", `{"text":"x"}`), `"2026-07-28"`, `"2025-11-25"`, 1),
			"MCP-Protocol-Version header value", mcp.HeaderProtocolVersion, "2026-07-28", mcp.HeaderMethod, "tools/call", mcp.HeaderName, "echo"),
		Entry("the body's _meta has no version", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, "io.modelcontextprotocol/protocolVersion",
			mcp.HeaderProtocolVersion, "2026-07-28", mcp.HeaderMethod, "tools/list"),
		Entry("a 2026-07-28 body behind a 2025-06-18 header", call("echo", `{"text":"x"}`), "MCP-Protocol-Version header value",
			mcp.HeaderProtocolVersion, "2025-06-18"),
		Entry("an older era's mirror header that lies", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_all"}}`,
			"does not match body value", mcp.HeaderProtocolVersion, "2025-06-18", mcp.HeaderName, "echo"),
	)

	It("refuses an unknown protocol version with UnsupportedProtocolVersion, listing the versions it polices", func() {
		before := len(sc.upstream.Headers())
		resp := post(sc.url, token, call("echo", `{"text":"x"}`), mcp.HeaderProtocolVersion, "2099-01-01")
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
		var out struct {
			ID    int
			Error struct {
				Code int
				Data struct {
					Supported []string
					Requested string
				}
			}
		}
		Expect(json.Unmarshal([]byte(readAll(resp.Body)), &out)).To(Succeed())
		Expect(out.ID).To(Equal(1))
		Expect(out.Error.Code).To(Equal(mcp.CodeUnsupportedProtocolVersion))
		Expect(out.Error.Data.Supported).To(ContainElements("2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"))
		Expect(out.Error.Data.Requested).To(Equal("2099-01-01"))
		Expect(sc.upstream.Headers()).To(HaveLen(before))
	})

	It("passes server/discover and the Mcp-Param-* headers", func() {
		resp := modern(`{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{`+meta+`}}`, mcp.HeaderMethod, "server/discover")
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		msgs := messages(resp)
		Expect(msgs).To(HaveLen(1))
		Expect(string(msgs[0].Result)).To(ContainSubstring(`"supportedVersions":[`))

		resp = modern(call("echo", `{"text":"x"}`), mcp.HeaderMethod, "tools/call", mcp.HeaderName, "echo", "Mcp-Param-Region", "us-west1")
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		_ = readAll(resp.Body)
		h := sc.upstream.Headers()
		Expect(h[len(h)-1].Get("Mcp-Param-Region")).To(Equal("us-west1"))
	})

	It("cancels the upstream call when the caller closes the response stream", func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, sc.url, strings.NewReader(
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{"steps":3},"_meta":{"progressToken":"p7",`+
				`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`))
		Expect(err).NotTo(HaveOccurred())
		for k, v := range map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json",
			"Accept": "application/json, text/event-stream", mcp.HeaderProtocolVersion: "2026-07-28",
			mcp.HeaderMethod: "tools/call", mcp.HeaderName: "slow"} {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		// The tool now waits after its first progress notification.
		_, progress := nextMessage(sse.NewReader(resp.Body, 0))
		Expect(progress.Method).To(Equal(mcp.MethodProgress))
		Expect(resp.Body.Close()).To(Succeed())
		Eventually(func() int64 { return sc.upstream.Cancelled("slow") }).Should(BeEquivalentTo(1))
	})

	It("still serves a 2025-06-18 go-sdk client", func() {
		cs := connectVersion(sc.url, token, "2025-06-18")
		Expect(cs.InitializeResult().ProtocolVersion).To(Equal("2025-06-18"))
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "old"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("old"))
		_, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "delete_all", Arguments: map[string]any{}})
		Expect(err).To(MatchError(ContainSubstring("blocked by rule block-destructive")))
	})

	It("filters a tools/list whose id the server answers re-encoded (1.0 as 1)", func() {
		resp := post(sc.url, token, `{"jsonrpc":"2.0","id":1.0,"method":"tools/list"}`)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		msgs := messages(resp)
		Expect(msgs).To(HaveLen(1))
		Expect(string(msgs[0].Result)).To(ContainSubstring(`"name":"echo"`))
		Expect(string(msgs[0].Result)).NotTo(ContainSubstring("delete_all"))
	})
})

var _ = Describe("Resumable streams (2025-11-25)", Ordered, func() {
	var (
		sc    *sidecar
		token string
		sid   string
	)
	v := []string{mcp.HeaderProtocolVersion, "2025-11-25"}
	inSession := func(header ...string) []string {
		return append(append([]string{mcp.HeaderSessionID, sid}, v...), header...)
	}

	BeforeAll(func() {
		sc = startSidecar("resumable-tools", mcpserver.Options{EventStore: true, HoldSlow: true})
		token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")

		resp := post(sc.url, token, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}`)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		sid = resp.Header.Get(mcp.HeaderSessionID)
		By("passing the priming event that starts a resumable stream")
		ev, err := sse.NewReader(resp.Body, 0).Read()
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.ID).NotTo(BeEmpty())
		Expect(ev.Data).To(BeEmpty())
		_ = readAll(resp.Body)

		resp = post(sc.url, token, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, inSession()...)
		Expect(resp.StatusCode).To(Equal(http.StatusAccepted))
		resp = post(sc.url, token, `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"info"}}`, inSession()...)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		_ = readAll(resp.Body)
	})

	It("resumes a cut GET stream with Last-Event-ID and loses no event", func() {
		resp := get(sc.url, token, inSession()...)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		rd := sse.NewReader(resp.Body, 0)
		var got []string
		var last string
		for i := 1; i <= 3; i++ {
			sc.upstream.Log(ctx, fmt.Sprintf("m%d", i))
			id, m := nextMessage(rd)
			got = append(got, logText(m))
			last = id
		}
		Expect(last).NotTo(BeEmpty())
		Expect(resp.Body.Close()).To(Succeed()) // the cut

		for i := 4; i <= 6; i++ { // sent while nobody listens
			sc.upstream.Log(ctx, fmt.Sprintf("m%d", i))
		}
		var resumed *http.Response
		Eventually(func() int { // until the server has noticed the cut
			resumed = get(sc.url, token, inSession(mcp.HeaderLastEventID, last)...)
			return resumed.StatusCode
		}).Should(Equal(http.StatusOK))
		rd = sse.NewReader(resumed.Body, 0)
		for len(got) < 6 {
			_, m := nextMessage(rd)
			got = append(got, logText(m))
		}
		sc.upstream.Log(ctx, "m7")
		_, m := nextMessage(rd)
		got = append(got, logText(m))
		Expect(got).To(Equal([]string{"m1", "m2", "m3", "m4", "m5", "m6", "m7"}))
	})

	It("filters a tools/list result replayed on a resumed stream", func() {
		resp := post(sc.url, token, `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`, inSession()...)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		priming, err := sse.NewReader(resp.Body, 0).Read()
		Expect(err).NotTo(HaveOccurred())
		Expect(priming.ID).NotTo(BeEmpty())
		Expect(resp.Body.Close()).To(Succeed())

		var resumed *http.Response
		Eventually(func() int {
			resumed = get(sc.url, token, inSession(mcp.HeaderLastEventID, priming.ID)...)
			return resumed.StatusCode
		}).Should(Equal(http.StatusOK))
		_, m := nextMessage(sse.NewReader(resumed.Body, 0))
		Expect(string(m.ID)).To(Equal("8"))
		Expect(string(m.Result)).To(ContainSubstring(`"name":"echo"`))
		Expect(string(m.Result)).NotTo(ContainSubstring("delete_all"))
	})

	It("resumes a POST's response stream with Last-Event-ID on a GET", func() {
		req := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","arguments":{"steps":3},"_meta":{"progressToken":"p9"}}}`
		resp := post(sc.url, token, req, inSession()...)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		last, progress := nextMessage(sse.NewReader(resp.Body, 0))
		Expect(progress.Method).To(Equal(mcp.MethodProgress))
		Expect(resp.Body.Close()).To(Succeed())
		sc.upstream.Release()

		var resumed *http.Response
		Eventually(func() int {
			resumed = get(sc.url, token, inSession(mcp.HeaderLastEventID, last)...)
			return resumed.StatusCode
		}).Should(Equal(http.StatusOK))
		rd := sse.NewReader(resumed.Body, 0)
		for {
			_, m := nextMessage(rd)
			if m.Kind == mcp.KindResponse {
				Expect(string(m.ID)).To(Equal("9"))
				Expect(string(m.Result)).To(ContainSubstring(`"text":"done"`))
				break
			}
			Expect(m.Method).To(Equal(mcp.MethodProgress))
		}
	})
})

var _ = Describe("The legacy HTTP+SSE transport (2024-11-05)", Ordered, func() {
	var (
		sc    *sidecar
		token string
	)
	BeforeAll(func() {
		sc = startSidecar("legacy-tools", mcpserver.Options{LegacySSE: true})
		token = idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
	})

	connectSSE := func(token string) *sdk.ClientSession {
		c := sdk.NewClient(&sdk.Implementation{Name: "airlock-test-client", Version: "v0"}, nil)
		cs, err := c.Connect(ctx, &sdk.SSEClientTransport{Endpoint: sc.url, HTTPClient: bearer(token)}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(cs.Close)
		return cs
	}

	// openStream opens an event stream and returns the message endpoint its
	// first event names, and the stream.
	openStream := func(token string) (string, *sse.Reader) {
		resp := get(sc.url, token)
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		rd := sse.NewReader(resp.Body, 0)
		ev, err := rd.Read()
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Type).To(Equal("endpoint"))
		return string(ev.Data), rd
	}

	It("serves a go-sdk SSE client: allowed calls work, blocked ones are refused on the stream, lists are filtered, replies masked", func() {
		cs := connectSSE(token)
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hello"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).To(Equal("hello"))

		_, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "delete_all", Arguments: map[string]any{}})
		Expect(err).To(MatchError(ContainSubstring("tool delete_all is blocked by rule block-destructive in policy default/legacy-tools-policy")))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())

		Expect(toolNames(cs)).To(ConsistOf("echo", "slow", "leak", "confirm"))

		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "leak", Arguments: map[string]any{}})
		Expect(err).NotTo(HaveOccurred())
		Expect(text(res)).NotTo(ContainSubstring(mcpserver.LeakedAWSKey))
		Expect(text(res)).To(ContainSubstring("[REDACTED:"))

		for _, h := range sc.upstream.Headers() {
			Expect(h.Get("Authorization")).To(Equal("Bearer " + upstreamSecret))
		}
	})

	It("points the endpoint event at the sidecar, keeping the upstream's path and query", func() {
		endpoint, _ := openStream(token)
		Expect(endpoint).To(MatchRegexp(`^/sse\?sessionid=[A-Z0-9]+$`))
	})

	It("binds a session to the caller who opened it", func() {
		endpoint, rd := openStream(token)
		base := strings.TrimSuffix(sc.url, "/sse")
		before := len(sc.upstream.Headers())

		idp.AddClient("0oa-legacy-intruder", "intruder-secret", []string{"mcp.read"}, nil)
		intruder := idp.ClientCredentialsToken(ctx, "0oa-legacy-intruder", "intruder-secret", "mcp.read")
		resp := post(base+endpoint, intruder, initialize)
		Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
		resp = post(base+endpoint+"&x=1", token, initialize)
		Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
		resp = post(base+"/sse?sessionid=made-up", token, initialize)
		Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
		Expect(sc.upstream.Headers()).To(HaveLen(before))

		resp = post(base+endpoint, token, initialize)
		Expect(resp.StatusCode).To(Equal(http.StatusAccepted))
		_, m := nextMessage(rd)
		Expect(string(m.ID)).To(Equal("1"))
		Expect(string(m.Result)).To(ContainSubstring(`"protocolVersion"`))
	})

	It("writes the refusal of a raw POST into the caller's stream", func() {
		endpoint, rd := openStream(token)
		base := strings.TrimSuffix(sc.url, "/sse")
		resp := post(base+endpoint, token, `{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"delete_all"}}`)
		Expect(resp.StatusCode).To(Equal(http.StatusAccepted))
		Expect(readAll(resp.Body)).To(BeEmpty())
		_, m := nextMessage(rd)
		Expect(string(m.ID)).To(Equal(`"x"`))
		Expect(m.Error.Code).To(Equal(mcp.CodeDenied))
		Expect(sc.upstream.Calls("delete_all")).To(BeZero())
	})
})
