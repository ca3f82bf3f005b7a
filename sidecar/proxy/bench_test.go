package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/proxy"
	"github.com/mcp-airlock/airlock/test/mcpserver"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

// benchRig is one stateless, JSON-answering go-sdk MCP server, reachable
// directly and through a sidecar with policy, masking and a credential on.
type benchRig struct {
	direct, sidecar string
	token           string
	client          *http.Client
}

func newBenchRig(b *testing.B, lean bool) *benchRig {
	b.Helper()
	upstreamURL := ""
	if lean {
		// A canned MCP answer: what is measured is the sidecar, not the
		// garbage a full server makes in the same process.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hello from the benchmark"}]}}`)
		}))
		b.Cleanup(srv.Close)
		upstreamURL = srv.URL + "/mcp"
	} else {
		upstream := mcpserver.Start(mcpserver.Options{Stateless: true, JSONResponse: true})
		b.Cleanup(upstream.Close)
		upstreamURL = upstream.URL
	}
	idp := oidctest.Start(b, oidctest.Options{TokenLifetime: time.Hour})
	idp.AddClient("bench", "bench-secret", []string{"mcp.read"}, nil)

	u, _ := url.Parse(upstreamURL)
	port, _ := strconv.Atoi(u.Port())
	server := &v1alpha1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: "default"},
		Spec: v1alpha1.MCPServerSpec{
			Upstream: v1alpha1.Upstream{Port: int32(port), Path: "/mcp", Credentials: []v1alpha1.UpstreamCredential{{
				Name: "upstream", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "token"}}}},
			Authentication: v1alpha1.Authentication{Issuers: []v1alpha1.Issuer{{Name: "okta",
				OIDC: &v1alpha1.OIDCIssuer{IssuerURL: idp.Issuer(), Audiences: []string{idp.Audience()}}}}},
		},
	}
	rules := []v1alpha1.Rule{{Name: "echo", Methods: []v1alpha1.Method{v1alpha1.MethodToolsCall}, Tools: []string{"echo"}, Action: v1alpha1.ActionAllow}}
	for i := range 9 { // a realistic number of rules that do not match
		rules = append(rules, v1alpha1.Rule{Name: fmt.Sprintf("deny-%d", i), Methods: []v1alpha1.Method{v1alpha1.MethodToolsCall},
			Tools: []string{fmt.Sprintf("danger_%d_*", i)}, Action: v1alpha1.ActionDeny})
	}
	policies := []v1alpha1.AccessPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: "default"},
		Spec: v1alpha1.AccessPolicySpec{
			TargetRefs: []v1alpha1.LocalObjectReference{{Name: "bench"}},
			Subjects:   []v1alpha1.Subject{{Issuer: "okta", Claims: map[string]string{"cid": "bench"}}},
			Rules:      rules,
			Masking:    &v1alpha1.Masking{Detectors: []v1alpha1.Detector{"secrets", "email"}},
		},
	}}
	snap, err := proxy.Compile(context.Background(), proxy.Inputs{Server: server, Policies: policies,
		Secret: func(string, string) ([]byte, error) { return []byte("upstream-token"), nil }})
	if err != nil {
		b.Fatal(err)
	}
	p := proxy.New(proxy.Options{Log: logr.Discard()})
	p.Update(snap)
	sc := httptest.NewServer(p)
	b.Cleanup(sc.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
	b.Cleanup(tr.CloseIdleConnections)
	rig := &benchRig{direct: upstreamURL, sidecar: sc.URL + "/mcp",
		token:  idp.ClientCredentialsToken(context.Background(), "bench", "bench-secret", "mcp.read"),
		client: &http.Client{Transport: tr}}
	// Warm up: OIDC discovery and keys are fetched on first use.
	for range 3 {
		if err := rig.call(rig.sidecar, rig.token); err != nil {
			b.Fatal(err)
		}
	}
	return rig
}

const echoCall = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello from the benchmark"}}}`

func (r *benchRig) call(endpoint, token string) error {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(echoCall))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "hello from the benchmark") {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}

// BenchmarkToolsCall is one tools/call round trip, straight to the server
// and through the sidecar (token verified, policy decided, credential
// injected, response masked). Compare the two with benchstat.
func BenchmarkToolsCall(b *testing.B) {
	rig := newBenchRig(b, false)
	for _, bc := range []struct{ name, url, token string }{
		{"direct", rig.direct, ""},
		{"sidecar", rig.sidecar, rig.token},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rig.call(bc.url, bc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad drives bounded loopback loads directly and through the
// sidecar, in front of the go-sdk server and of a lean canned upstream: a
// steady 1,000 calls/s for the latency the sidecar adds at p50 and p99, and
// 8 callers as fast as they go for the calls per second it carries.
func BenchmarkLoad(b *testing.B) {
	for _, lean := range []bool{false, true} {
		name := "go-sdk-upstream"
		if lean {
			name = "lean-upstream"
		}
		b.Run(name, func(b *testing.B) { benchmarkLoad(b, newBenchRig(b, lean)) })
	}
}

func benchmarkLoad(b *testing.B, rig *benchRig) {
	const (
		callers = 8    // closed loop, for throughput
		calls   = 4000 // per closed-loop run
		rate    = 1000 // calls/s, open loop, for latency below saturation
		paced   = 2000 // calls per open-loop run
	)
	// throughput runs calls with callers concurrent callers as fast as
	// they go.
	throughput := func(url, token string) float64 {
		work := make(chan struct{}, calls)
		for range calls {
			work <- struct{}{}
		}
		close(work)
		var wg sync.WaitGroup
		start := time.Now()
		for range callers {
			wg.Go(func() {
				for range work {
					if err := rig.call(url, token); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return calls / time.Since(start).Seconds()
	}
	// latency starts a call every 1/rate s, whatever the others do, and
	// returns the sorted latencies: what a caller sees at a steady load.
	latency := func(url, token string) []time.Duration {
		lat := make([]time.Duration, paced)
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		var wg sync.WaitGroup
		for i := range paced {
			<-tick.C
			wg.Go(func() {
				t := time.Now()
				if err := rig.call(url, token); err != nil {
					b.Error(err)
				}
				lat[i] = time.Since(t)
			})
		}
		wg.Wait()
		slices.Sort(lat)
		return lat
	}
	pct := func(l []time.Duration, p float64) time.Duration { return l[int(float64(len(l)-1)*p)] }
	for b.Loop() {
		direct, through := latency(rig.direct, ""), latency(rig.sidecar, rig.token)
		b.ReportMetric(float64((pct(through, .50) - pct(direct, .50)).Microseconds()), "added-p50-µs")
		b.ReportMetric(float64((pct(through, .99) - pct(direct, .99)).Microseconds()), "added-p99-µs")
		b.ReportMetric(throughput(rig.sidecar, rig.token), "calls/s")
		b.ReportMetric(throughput(rig.direct, ""), "direct-calls/s")
	}
}
