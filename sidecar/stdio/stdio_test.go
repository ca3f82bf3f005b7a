package stdio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/mcp/sse"
	"github.com/mcp-airlock/airlock/sidecar/stdio"
)

// serverBin is test/stdioserver, built once for every test.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stdioserver")
	if err != nil {
		panic(err)
	}
	serverBin = filepath.Join(dir, "stdioserver")
	build := exec.Command("go", "build", "-o", serverBin, "github.com/mcp-airlock/airlock/test/stdioserver")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building test/stdioserver: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// logs collects what a Transport logs, to prove what it never logs.
type logs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rig is a running Transport over test/stdioserver.
type rig struct {
	t    *testing.T
	tr   *stdio.Transport
	logs *logs
	reg  *prometheus.Registry
}

func start(t *testing.T, opts stdio.Options, creds ...string) *rig {
	t.Helper()
	r := run(t, opts, creds...)
	r.waitReady()
	return r
}

// run runs a Transport (over test/stdioserver unless opts names a command)
// until the test ends.
func run(t *testing.T, opts stdio.Options, creds ...string) *rig {
	t.Helper()
	r := &rig{t: t, logs: &logs{}, reg: prometheus.NewRegistry()}
	if opts.Command == nil {
		opts.Command = []string{serverBin}
	}
	opts.Log = funcr.New(func(prefix, args string) {
		r.logs.mu.Lock()
		defer r.logs.mu.Unlock()
		r.logs.b.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 1})
	opts.Registerer = r.reg
	r.tr = stdio.New(opts)
	r.tr.SetEnv(creds)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.tr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("transport log:\n%s", r.logs)
		}
	})
	return r
}

func (r *rig) waitReady() {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !r.tr.Ready() {
		if time.Now().After(deadline) {
			r.t.Fatalf("the transport did not become ready; log:\n%s", r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// do sends one HTTP request to the transport, as the proxy would.
func (r *rig) do(ctx context.Context, method, sid, body string) (*http.Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://stdio/mcp", rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mcp.ContentTypeJSON)
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set(mcp.HeaderSessionID, sid)
	}
	return (&http.Client{Transport: r.tr}).Do(req)
}

// post sends a body and returns the reply's JSON-RPC messages: the one JSON
// body, or every event of a stream.
func (r *rig) post(sid, body string) (*http.Response, []message) {
	r.t.Helper()
	resp, err := r.do(context.Background(), http.MethodPost, sid, body)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, readMessages(r.t, resp)
}

func readMessages(t *testing.T, resp *http.Response) []message {
	t.Helper()
	var msgs []message
	if resp.Header.Get("Content-Type") == sse.ContentType {
		rd := sse.NewReader(resp.Body, 0)
		for {
			ev, err := rd.Read()
			if errors.Is(err, io.EOF) {
				return msgs
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, decode(t, ev.Data))
		}
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 {
		msgs = append(msgs, decode(t, b))
	}
	return msgs
}

// message is a JSON-RPC message as a test reads it.
type message struct {
	raw    string
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	} `json:"params"`
	Result struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name string `json:"name"`
		} `json:"serverInfo"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decode(t *testing.T, b []byte) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	m.raw = string(b)
	return m
}

func (m message) text() string {
	if m.Error != nil {
		return fmt.Sprintf("error %d: %s", m.Error.Code, m.Error.Message)
	}
	if len(m.Result.Content) == 0 {
		return ""
	}
	return m.Result.Content[0].Text
}

// initialize opens a caller session and returns its id.
func (r *rig) initialize() string {
	r.t.Helper()
	resp, msgs := r.post("", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	sid := resp.Header.Get(mcp.HeaderSessionID)
	if sid == "" || len(msgs) != 1 || msgs[0].Error != nil {
		r.t.Fatalf("initialize: session %q, messages %v", sid, msgs)
	}
	return sid
}

func call(id, tool string, args any, token string) string {
	a, _ := json.Marshal(args)
	meta := ""
	if token != "" {
		meta = `,"_meta":{"progressToken":` + token + `}`
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":%q,"arguments":%s%s}}`, id, tool, a, meta)
}

func TestInitializeIsAnsweredForEachCallerFromTheChildsOneSession(t *testing.T) {
	r := start(t, stdio.Options{})

	resp, msgs := r.post("", `{"jsonrpc":"2.0","id":"first","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"a","version":"0"}}}`)
	first := resp.Header.Get(mcp.HeaderSessionID)
	if len(msgs) != 1 || string(msgs[0].ID) != `"first"` || msgs[0].Result.ServerInfo.Name != "airlock-stdio-test-server" || msgs[0].Result.ProtocolVersion != "2025-11-25" {
		t.Fatalf("first initialize answered %v", msgs)
	}
	resp, msgs = r.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"b","version":"0"}}}`)
	second := resp.Header.Get(mcp.HeaderSessionID)
	if first == "" || second == "" || first == second {
		t.Fatalf("session ids %q and %q, want two different ones", first, second)
	}
	if len(msgs) != 1 || string(msgs[0].ID) != "1" || msgs[0].Result.ProtocolVersion != "2025-03-26" {
		t.Fatalf("an older caller's initialize answered %v, want its own protocol version", msgs)
	}

	resp, msgs = r.post(first, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if resp.StatusCode != http.StatusAccepted || len(msgs) != 0 {
		t.Fatalf("notifications/initialized: %d %v", resp.StatusCode, msgs)
	}
	_, msgs = r.post(first, `{"jsonrpc":"2.0","id":2,"method":"server/discover","params":{}}`)
	if len(msgs) != 1 || msgs[0].Error == nil || msgs[0].Error.Code != mcp.CodeMethodNotFound {
		t.Fatalf("server/discover answered %v, want method not found so clients fall back to initialize", msgs)
	}
	for method, want := range map[string]int{http.MethodGet: http.StatusMethodNotAllowed, http.MethodDelete: http.StatusOK} {
		resp, err := r.do(context.Background(), method, first, "")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", method, resp.StatusCode, want)
		}
	}
	// Still one child, initialized once, serving the other caller.
	if _, msgs = r.post(second, call("3", "echo", map[string]string{"text": "hi"}, "")); len(msgs) != 1 || msgs[0].text() != "hi" {
		t.Fatalf("echo after the other caller's DELETE: %v", msgs)
	}
	if n := metricValue(t, r.reg, "airlock_stdio_server_starts_total"); n != 1 {
		t.Fatalf("the child was started %v times, want once", n)
	}
}

// metricValue is the value of a registered counter or gauge.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestTwoCallersUsingTheSameIDGetTheirOwnAnswers(t *testing.T) {
	r := start(t, stdio.Options{})
	callers := []struct{ sid, id, text string }{
		{r.initialize(), "1", "from caller A"},
		{r.initialize(), "1", "from caller B"},
		{r.initialize(), `"1"`, "from caller C"},
	}
	var wg sync.WaitGroup
	for _, c := range callers {
		for i := range 20 {
			wg.Go(func() {
				// Slow calls among quick ones: the child answers out of order.
				body, want := call(c.id, "echo", map[string]string{"text": fmt.Sprintf("%s #%d", c.text, i)}, ""), fmt.Sprintf("%s #%d", c.text, i)
				if i%3 == 0 {
					body, want = call(c.id, "slow", map[string]int{"steps": i % 4, "delayMs": 20}, ""), fmt.Sprintf("done after %d steps", i%4)
				}
				_, msgs := r.post(c.sid, body)
				if len(msgs) != 1 || string(msgs[0].ID) != c.id || msgs[0].text() != want {
					t.Errorf("caller sent id %s and wants %q, got %v", c.id, want, msgs)
				}
			})
		}
	}
	wg.Wait()
}

func TestProgressReachesOnlyTheCallerThatAskedForIt(t *testing.T) {
	r := start(t, stdio.Options{})
	callers := []struct {
		sid, token string
		steps      int
	}{
		{r.initialize(), `"t"`, 2},
		{r.initialize(), `"t"`, 4},
		{r.initialize(), `7`, 3},
	}
	var wg sync.WaitGroup
	for _, c := range callers {
		wg.Go(func() {
			resp, msgs := r.post(c.sid, call("1", "slow", map[string]int{"steps": c.steps, "delayMs": 30}, c.token))
			if ct := resp.Header.Get("Content-Type"); ct != sse.ContentType {
				t.Errorf("a call with a progress token was answered with %q, want an event stream", ct)
				return
			}
			if len(msgs) != c.steps+1 {
				t.Errorf("caller with %d steps got %d messages: %v", c.steps, len(msgs), msgs)
				return
			}
			for _, m := range msgs[:c.steps] {
				if m.Method != mcp.MethodProgress || string(m.Params.ProgressToken) != c.token {
					t.Errorf("caller with token %s got %s", c.token, m.raw)
				}
			}
			if last := msgs[c.steps]; string(last.ID) != "1" || last.text() != fmt.Sprintf("done after %d steps", c.steps) {
				t.Errorf("caller with %d steps got the response %s", c.steps, last.raw)
			}
		})
	}
	wg.Wait()

	// Without a progress token, the answer is plain JSON.
	resp, msgs := r.post(callers[0].sid, call("2", "slow", map[string]int{"steps": 2}, ""))
	if ct := resp.Header.Get("Content-Type"); ct != mcp.ContentTypeJSON || len(msgs) != 1 {
		t.Fatalf("a call without a progress token: %q %v", ct, msgs)
	}
}

func TestACrashAnswersEveryCallInFlightThenServiceResumes(t *testing.T) {
	// A long first backoff keeps the child down while the test looks.
	r := start(t, stdio.Options{MinBackoff: time.Second})
	sid := r.initialize()
	pid := r.tr.PID()

	slow := make(chan []message, 1)
	go func() {
		_, msgs := r.post(sid, call("1", "slow", map[string]int{"steps": 1, "delayMs": 60_000}, ""))
		slow <- msgs
	}()
	// Whether or not the slow call reached the child before the crash, it
	// gets the same error.
	time.Sleep(100 * time.Millisecond)
	const want = "error -32084: the MCP server process exited; restarting"
	if _, msgs := r.post(sid, call("2", "crash", map[string]any{}, "")); len(msgs) != 1 || msgs[0].text() != want {
		t.Fatalf("the crashing call got %v, want %q", msgs, want)
	}
	if msgs := <-slow; len(msgs) != 1 || string(msgs[0].ID) != "1" || msgs[0].text() != want {
		t.Fatalf("the call in flight got %v, want %q", msgs, want)
	}
	if _, msgs := r.post(sid, call("3", "echo", map[string]string{"text": "anyone?"}, "")); len(msgs) != 1 || msgs[0].text() != want {
		t.Fatalf("a call while the child is down got %v, want %q", msgs, want)
	}

	r.waitReady()
	if _, msgs := r.post(sid, call("4", "echo", map[string]string{"text": "back"}, "")); len(msgs) != 1 || msgs[0].text() != "back" {
		t.Fatalf("after the restart: %v", msgs)
	}
	if r.tr.PID() == pid {
		t.Fatal("the same process serves after a crash")
	}

	// Killed from outside, it is restarted too.
	if err := syscall.Kill(r.tr.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, msgs := r.post(sid, call("5", "echo", map[string]string{"text": "again"}, ""))
		if len(msgs) == 1 && msgs[0].text() == "again" {
			break
		}
		if len(msgs) != 1 || msgs[0].Error == nil || msgs[0].Error.Code != mcp.CodeUpstreamUnavailable || time.Now().After(deadline) {
			t.Fatalf("after a kill: %v", msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(r.logs.String(), "crashing on request") {
		t.Errorf("the child's stderr is not in the log:\n%s", r.logs)
	}
}

func TestCredentialsReachTheChildOnlyThroughItsEnvironment(t *testing.T) {
	t.Setenv("AIRLOCK_SIDECAR_ONLY", "sidecar-secret")
	r := start(t, stdio.Options{Env: stdio.InheritEnv(os.Environ(), nil)}, "API_KEY=first-credential", "PATH=/credential/wins")
	sid := r.initialize()
	env := func(name string) string {
		_, msgs := r.post(sid, call("1", "env", map[string]string{"name": name}, ""))
		if len(msgs) != 1 {
			t.Fatalf("env %s: %v", name, msgs)
		}
		return msgs[0].text()
	}
	if got := env("API_KEY"); got != "first-credential" {
		t.Fatalf("API_KEY = %q", got)
	}
	if got := env("PATH"); got != "/credential/wins" {
		t.Fatalf("PATH = %q, want the credential's value over the inherited one", got)
	}
	if got := env("AIRLOCK_SIDECAR_ONLY"); got != "(unset)" {
		t.Fatalf("the sidecar's own variable reached the child: %q", got)
	}
	if got := env("HOME"); got != os.Getenv("HOME") {
		t.Fatalf("HOME = %q, want the inherited one", got)
	}

	// A rotated Secret restarts the child with the new value.
	pid := r.tr.PID()
	r.tr.SetEnv([]string{"API_KEY=second-credential"})
	deadline := time.Now().Add(30 * time.Second)
	for r.tr.PID() == pid || !r.tr.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the child was not restarted with the new credentials")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := env("API_KEY"); got != "second-credential" {
		t.Fatalf("after rotation API_KEY = %q", got)
	}
	pid = r.tr.PID()
	r.tr.SetEnv([]string{"API_KEY=second-credential"})
	time.Sleep(200 * time.Millisecond) // a restart, if any, would have begun
	if r.tr.PID() != pid || env("API_KEY") != "second-credential" {
		t.Fatal("unchanged credentials restarted the child")
	}
	for _, secret := range []string{"first-credential", "second-credential", "sidecar-secret"} {
		if strings.Contains(r.logs.String(), secret) {
			t.Fatalf("the log holds %q:\n%s", secret, r.logs)
		}
	}
}

func TestJunkOnTheChildsStdoutIsDroppedAndNeverLogged(t *testing.T) {
	r := start(t, stdio.Options{MaxLineBytes: 64 << 10})
	sid := r.initialize()
	if _, msgs := r.post(sid, call("1", "noise", map[string]int{"bytes": 100 << 10}, "")); len(msgs) != 1 || msgs[0].text() != "quiet again" {
		t.Fatalf("noise: %v", msgs)
	}
	if _, msgs := r.post(sid, call("2", "echo", map[string]string{"text": "still here"}, "")); len(msgs) != 1 || msgs[0].text() != "still here" {
		t.Fatalf("after noise: %v", msgs)
	}
	// An answer too large to pass on is an error for its caller, not a wait.
	if _, msgs := r.post(sid, call("3", "big", map[string]int{"bytes": 100 << 10}, "")); len(msgs) != 1 || string(msgs[0].ID) != "3" ||
		msgs[0].text() != "error -32084: the MCP server's answer is larger than the sidecar accepts (65536 bytes)" {
		t.Fatalf("big: %v", msgs)
	}
	log := r.logs.String()
	for _, want := range []string{"not JSON-RPC", "larger than the limit"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	for _, never := range []string{"noise:", "xxxxxxxx", "bbbbbbbb", "still here", "quiet again"} {
		if strings.Contains(log, never) {
			t.Errorf("the log holds stdout content %q", never)
		}
	}
}

func TestRequestsFromTheChildAreRefusedButPingsAnswered(t *testing.T) {
	r := start(t, stdio.Options{})
	sid := r.initialize()
	_, msgs := r.post(sid, call("1", "ask", map[string]any{}, ""))
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].text(), "ping answered; sampling refused:") || !strings.Contains(msgs[0].text(), "not supported") {
		t.Fatalf("the child's requests: %v", msgs)
	}
	if !strings.Contains(r.logs.String(), `"method"="sampling/createMessage"`) {
		t.Errorf("the refusal is not logged:\n%s", r.logs)
	}
}

func TestCancellationReachesTheChild(t *testing.T) {
	r := start(t, stdio.Options{})
	sid := r.initialize()
	cancelledCount := func() string {
		_, msgs := r.post(sid, call("99", "cancelled", map[string]any{}, ""))
		return msgs[0].text()
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for cancelledCount() != want {
			if time.Now().After(deadline) {
				t.Fatalf("the child saw %s cancellations, want %s", cancelledCount(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The caller goes away.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if resp, err := r.do(ctx, http.MethodPost, sid, call("1", "slow", map[string]int{"steps": 1, "delayMs": 60_000}, "")); err == nil {
		resp.Body.Close()
		t.Fatal("a call whose caller went away was answered")
	}
	waitFor("1")

	// The caller cancels: its id is mapped to the child's.
	answered := make(chan []message, 1)
	go func() {
		_, msgs := r.post(sid, call("5", "slow", map[string]int{"steps": 1, "delayMs": 60_000}, ""))
		answered <- msgs
	}()
	// Until the call has reached the transport, a cancellation finds nothing.
	var msgs []message
	for msgs == nil {
		resp, _ := r.post(sid, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"changed my mind"}}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("notifications/cancelled: %d", resp.StatusCode)
		}
		select {
		case msgs = <-answered:
		case <-time.After(50 * time.Millisecond):
		}
	}
	if len(msgs) != 1 || string(msgs[0].ID) != "5" || msgs[0].Error == nil {
		t.Fatalf("the cancelled call got %v, want an error", msgs)
	}
	waitFor("2")
}

func TestTheGoSDKClientWorksThroughTheTransport(t *testing.T) {
	r := start(t, stdio.Options{})
	var mu sync.Mutex
	var progress []float64
	c := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "v0"}, &sdk.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, req.Params.Progress)
		},
	})
	ctx := context.Background()
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: "http://stdio/mcp", HTTPClient: &http.Client{Transport: r.tr}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v %v", tools, err)
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "slow", Arguments: map[string]any{"steps": 3, "delayMs": 10}, Meta: sdk.Meta{"progressToken": "go"}})
	if err != nil || res.Content[0].(*sdk.TextContent).Text != "done after 3 steps" {
		t.Fatalf("slow: %v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) != 3 {
		t.Fatalf("progress %v, want 3 notifications", progress)
	}
}

func TestAServerThatNeverInitializesIsRetriedWithBackoff(t *testing.T) {
	// sh exits without answering initialize.
	r := run(t, stdio.Options{Command: []string{"sh", "-c", "echo 'no MCP here' >&2"}, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, r.reg, "airlock_stdio_server_starts_total") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("not restarted; log:\n%s", r.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.tr.Ready() || metricValue(t, r.reg, "airlock_stdio_server_up") != 0 {
		t.Fatal("a server that never initialized is ready")
	}
	_, msgs := r.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	if len(msgs) != 1 || msgs[0].Error == nil || msgs[0].Error.Code != mcp.CodeUpstreamUnavailable {
		t.Fatalf("initialize while down: %v", msgs)
	}
	log := r.logs.String()
	for _, want := range []string{`"line"="no MCP here"`, `"after"="80ms"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not hold %s:\n%s", want, log)
		}
	}
}
