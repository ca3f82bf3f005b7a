package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/controllers"
	"github.com/mcp-airlock/airlock/test/envtest"
	oidctest "github.com/mcp-airlock/airlock/test/oidc"
)

// 1. kube-apiserver and etcd with the CRDs, the controllers, the IdP and
// server-everything.
func (d *demo) startAll(ctx context.Context) error {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		dir, err := script(ctx, "envtest.sh")
		if err != nil {
			return err
		}
		_ = os.Setenv("KUBEBUILDER_ASSETS", dir)
	}
	if d.npmDir == "" {
		dir, err := script(ctx, "npm-peers.sh")
		if err != nil {
			return err
		}
		d.npmDir = dir
	}

	d.n.say("MCP peers from npm (server-everything, the Inspector CLI): %s/node_modules/.bin", d.npmDir)
	d.n.say("kube-apiserver and etcd, built from Go module sources by hack/envtest.sh: %s", os.Getenv("KUBEBUILDER_ASSETS"))
	env, err := envtest.Start()
	if err != nil {
		return err
	}
	d.env = env
	d.cleanups.Cleanup(func() {
		_ = env.Stop()
		d.stopped = append(d.stopped, "kube-apiserver and etcd")
	})
	var crds apiextensionsv1.CustomResourceDefinitionList
	if err := env.Client.List(ctx, &crds); err != nil {
		return err
	}
	var rows []string
	for _, c := range crds.Items {
		if c.Spec.Group == v1alpha1.GroupVersion.Group {
			rows = append(rows, fmt.Sprintf("%-40s %s", c.Name, strings.Join(c.Spec.Names.ShortNames, ",")))
		}
	}
	if len(rows) != 3 {
		return fmt.Errorf("want the 3 Airlock CRDs installed, found %d", len(rows))
	}
	d.n.cmd("kubectl get crd")
	d.n.out(fmt.Sprintf("%-40s %s\n%s", "NAME", "SHORTNAMES", strings.Join(rows, "\n")))
	d.n.ok("API server at %s with the Airlock CRDs", env.Config.Host)

	if err := d.startControllers(); err != nil {
		return err
	}
	d.n.ok("controllers running in this process (controllers.SetupWithManager; metrics and probes off)")

	d.idp = oidctest.Start(&d.cleanups, oidctest.Options{})
	d.cleanups.Cleanup(func() { d.stopped = append(d.stopped, "the IdP") }) // runs just before the IdP's own
	d.idp.AddClient(clientID, clientSecret, []string{"mcp.read"}, nil)
	d.n.ok("Okta-shaped OIDC issuer %s (/v1/keys, /v1/token), client %s with scope mcp.read", d.idp.Issuer(), clientID)

	port, err := freePort()
	if err != nil {
		return err
	}
	d.n.cmd(fmt.Sprintf("PORT=%d mcp-server-everything streamableHttp &", port))
	if d.upstream, err = d.start("server-everything", d.npmBin("mcp-server-everything"), []string{"PORT=" + strconv.Itoa(port)}, "streamableHttp"); err != nil {
		return err
	}
	d.upstreamPort = port
	d.upstreamMCP = fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	// A GET without a session gets 400 once it serves.
	if _, err := waitHTTP(ctx, d.upstream, d.upstreamMCP, http.StatusBadRequest); err != nil {
		return err
	}
	d.n.ok("@modelcontextprotocol/server-everything serves %s, with no authentication of its own", d.upstreamMCP)
	return nil
}

func (d *demo) startControllers() error {
	f, err := os.Create(filepath.Join(d.logDir, "controllers.log"))
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(f)))
	mgr, err := ctrl.NewManager(d.env.Config, ctrl.Options{
		Scheme:                 d.env.Scheme,
		Cache:                  controllers.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	if err := controllers.SetupWithManager(mgr); err != nil {
		return err
	}
	mctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(mctx); err != nil {
			_, _ = fmt.Fprintf(f, "manager stopped: %v\n", err)
		}
	}()
	d.cleanups.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
		}
		_ = f.Close()
		d.stopped = append(d.stopped, "the controllers")
	})
	return nil
}

// 2. The Secret, MCPServer and AccessPolicy, and their status once reconciled.
func (d *demo) applyPolicy(ctx context.Context) error {
	// The sidecar's ports now: its URL is the resource callers hold tokens for.
	var err error
	if d.listenPort, err = freePort(); err != nil {
		return err
	}
	if d.metricsPort, err = freePort(); err != nil {
		return err
	}
	d.endpoint = fmt.Sprintf("http://127.0.0.1:%d/mcp", d.listenPort)
	text, err := renderManifests(manifestValues{UpstreamPort: d.upstreamPort, Resource: d.endpoint, Issuer: d.idp.Issuer(), Audience: d.idp.Audience(), ClientID: clientID})
	if err != nil {
		return err
	}
	d.n.cmd("kubectl apply -f - <<EOF")
	d.n.out(text + "EOF")
	created, err := apply(ctx, d.env.Client, text)
	if err != nil {
		return err
	}
	d.n.out(strings.Join(created, "\n"))

	server := &v1alpha1.MCPServer{}
	policy := &v1alpha1.AccessPolicy{}
	if err := d.waitReconciled(ctx, server, policy, 1); err != nil {
		return err
	}
	d.n.cmd("kubectl get mcps,ap -n " + namespace)
	d.n.out(getTable(server, policy))
	d.n.ok("the controllers reconciled both: the server is Ready with 1 policy, the policy compiled (Valid)")
	return nil
}

// waitReconciled waits until the controllers have seen generation gen of the
// policy and the server is Ready with it bound.
func (d *demo) waitReconciled(ctx context.Context, server *v1alpha1.MCPServer, policy *v1alpha1.AccessPolicy, gen int64) error {
	return poll(ctx, 60*time.Second, 50*time.Millisecond, "the controllers to reconcile", func() (bool, error) {
		if err := d.env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "everything"}, server); err != nil {
			return false, err
		}
		if err := d.env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "agents"}, policy); err != nil {
			return false, err
		}
		valid := meta.FindStatusCondition(policy.Status.Conditions, v1alpha1.ConditionValid)
		if valid != nil && valid.Status == metav1.ConditionFalse {
			return false, permanent{fmt.Errorf("AccessPolicy agents is not valid: %s", valid.Message)}
		}
		ready := meta.FindStatusCondition(server.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || server.Status.ObservedGeneration != server.Generation {
			return false, fmt.Errorf("MCPServer everything not Ready yet: %v", ready)
		}
		if policy.Generation != gen || policy.Status.ObservedGeneration != gen || valid == nil || valid.Status != metav1.ConditionTrue {
			return false, errors.New("AccessPolicy agents not reconciled yet")
		}
		return server.Status.BoundPolicies == 1 && slices.Contains(policy.Status.BoundServers, "everything"), nil
	})
}

// getTable prints what `kubectl get mcps,ap` prints, from the status.
func getTable(server *v1alpha1.MCPServer, policy *v1alpha1.AccessPolicy) string {
	cond := func(conds []metav1.Condition, t string) string {
		if c := meta.FindStatusCondition(conds, t); c != nil {
			return string(c.Status)
		}
		return ""
	}
	age := func(o metav1.Object) string {
		return time.Since(o.GetCreationTimestamp().Time).Round(time.Second).String()
	}
	servers, _ := json.Marshal(policy.Status.BoundServers)
	return fmt.Sprintf("%-40s %-6s %-9s %-5s %s\n%-40s %-6s %-9d %-5d %s\n\n%-40s %-6s %-15s %s\n%-40s %-6s %-15s %s",
		"NAME", "READY", "POLICIES", "PODS", "AGE",
		"mcpserver.mcp.airlock.dev/"+server.Name, cond(server.Status.Conditions, v1alpha1.ConditionReady),
		server.Status.BoundPolicies, server.Status.InjectedPods, age(server),
		"NAME", "VALID", "SERVERS", "AGE",
		"accesspolicy.mcp.airlock.dev/"+policy.Name, cond(policy.Status.Conditions, v1alpha1.ConditionValid), servers, age(policy))
}

// 3. The real sidecar binary, configured from the API server.
func (d *demo) startSidecar(ctx context.Context) error {
	if d.sidecarBin == "" {
		d.sidecarBin = filepath.Join(d.logDir, "sidecar")
		d.n.cmd("go build -o " + d.sidecarBin + " ./cmd/sidecar")
		build := exec.CommandContext(ctx, "go", "build", "-o", d.sidecarBin, "./cmd/sidecar")
		build.Dir = envtest.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building the sidecar: %w\n%s", err, out)
		}
	}
	user, err := d.env.AddUser(ctrlenvtest.User{Name: "airlock-demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(d.logDir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	args := []string{"--server=" + namespace + "/everything", "--kubeconfig=" + kubeconfig,
		fmt.Sprintf("--listen=127.0.0.1:%d", d.listenPort), fmt.Sprintf("--metrics-addr=127.0.0.1:%d", d.metricsPort)}
	shown := d.sidecarBin
	if rel, err := filepath.Rel(envtest.RepoRoot(), d.sidecarBin); err == nil && !strings.HasPrefix(rel, "..") {
		shown = rel
	}
	d.n.say("the envtest admin's kubeconfig is in %s; in a pod the sidecar uses its own service-account token", kubeconfig)
	d.n.cmd(shown+" "+strings.Join(args[:2], " ")+" \\", strings.Join(args[2:], " ")+" &")
	if d.sidecar, err = d.start("sidecar", d.sidecarBin, nil, args...); err != nil {
		return err
	}
	d.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", d.metricsPort)
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", d.metricsPort)
	body, err := waitHTTP(ctx, d.sidecar, readyz, http.StatusOK)
	if err != nil {
		return err
	}
	d.n.cmd("curl -s " + readyz)
	d.n.out(body)
	d.n.ok("the sidecar compiled the MCPServer, the policy and the Secret it names; callers reach %s", d.endpoint)
	return nil
}

// 4. A token from the IdP's token endpoint, as a CI job would get it.
func (d *demo) getToken(ctx context.Context) error {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"mcp.read"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.idp.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token endpoint: %s: %s", resp.Status, raw)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return err
	}
	tok, _ := body["access_token"].(string)
	if tok == "" || len(tok) < 12 {
		return fmt.Errorf("token endpoint answered without an access token: %s", raw)
	}
	d.token = tok
	body["access_token"] = short(tok)
	shown, _ := json.Marshal(body)

	d.n.cmd(`curl -s -u "`+clientID+`:$CLIENT_SECRET" -d grant_type=client_credentials -d scope=mcp.read \`, d.idp.TokenURL())
	d.n.out(string(shown))
	alg, claims, err := jwtClaims(tok)
	if err != nil {
		return err
	}
	if alg != "RS256" {
		return fmt.Errorf("want an RS256 token, got alg %q", alg)
	}
	d.n.say("its claims (the payload, decoded; the demo never prints a token):")
	d.n.out(claims)
	d.n.cmd(`TOKEN=$(curl … | jq -r .access_token)   # ` + short(tok))
	d.n.ok("a short-lived RS256 access token for %s, signed by the IdP", d.idp.Audience())
	return nil
}

// short is what the demo shows of a token: its first 12 characters.
func short(token string) string { return token[:12] + "…" }

// jwtClaims returns a JWT's algorithm and prints the interesting claims of
// its payload.
func jwtClaims(token string) (string, string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", errors.New("the access token is not a JWT")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	var c map[string]any
	for i, v := range []any{&h, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return "", "", fmt.Errorf("decoding the token: %w", err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return "", "", fmt.Errorf("decoding the token: %w", err)
		}
	}
	var b strings.Builder
	for _, k := range []string{"iss", "sub", "cid", "scp", "aud", "exp"} {
		v, _ := json.Marshal(c[k])
		if exp, ok := c[k].(float64); ok && k == "exp" {
			v = fmt.Appendf(nil, "%s (in %s)", v, time.Until(time.Unix(int64(exp), 0)).Round(time.Second))
		}
		fmt.Fprintf(&b, "%-4s %s\n", k, v)
	}
	return h.Alg, b.String(), nil
}

// inspect runs the MCP Inspector CLI against url, printing the command
// first. With auth, it presents the token (shown as $TOKEN).
func (d *demo) inspect(ctx context.Context, target string, auth bool, args ...string) (string, error) {
	first := "mcp-inspector --cli " + target + " --transport http"
	all := []string{"--cli", target, "--transport", "http"}
	if auth {
		first += ` --header "Authorization: Bearer $TOKEN"`
		all = append(all, "--header", "Authorization: Bearer "+d.token)
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	d.n.cmd(first+" \\", strings.Join(quoted, " "))
	return runCommand(ctx, 60*time.Second, d.npmBin("mcp-inspector"), append(all, args...)...)
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\!*?&;|<>()") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// toolNames reads the names out of the Inspector's tools/list output.
func toolNames(out string) ([]string, error) {
	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("reading the Inspector's tools/list output: %w\n%s", err, out)
	}
	names := make([]string, 0, len(list.Tools))
	for _, t := range list.Tools {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names, nil
}

// toolSummary is the tool names of a tools/list output, wrapped.
func toolSummary(names []string) string {
	var b strings.Builder
	line := fmt.Sprintf("%d tools (output trimmed to the names):", len(names))
	for i, n := range names {
		if i < len(names)-1 {
			n += ","
		}
		if len(line)+1+len(n) > 76 {
			b.WriteString(line + "\n")
			line = "  " + n
			continue
		}
		line += " " + n
	}
	b.WriteString(line)
	return b.String()
}

// 5. Listing and calling tools through the sidecar.
func (d *demo) callTools(ctx context.Context) error {
	d.n.say("straight to server-everything, with no airlock, a caller sees every tool:")
	out, err := d.inspect(ctx, d.upstreamMCP, false, "--method", "tools/list")
	if err != nil {
		return fmt.Errorf("inspector: %w\n%s", err, out)
	}
	upstream, err := toolNames(out)
	if err != nil {
		return err
	}
	d.n.out(toolSummary(upstream))
	if !slices.Contains(upstream, "get-env") {
		return errors.New("server-everything no longer offers get-env: update the demo")
	}

	d.n.say("through the sidecar, with the token:")
	out, err = d.inspect(ctx, d.endpoint, true, "--method", "tools/list")
	if err != nil {
		return fmt.Errorf("inspector: %w\n%s", err, out)
	}
	names, err := toolNames(out)
	if err != nil {
		return err
	}
	d.n.out(toolSummary(names))
	want := []string{"echo", "get-structured-content", "get-sum", "trigger-long-running-operation"}
	if !slices.Equal(names, want) {
		return fmt.Errorf("want exactly the allowed tools %v listed, got %v", want, names)
	}
	d.n.ok("only the 4 allowed tools are listed: get-env is hidden (rule block-env), and so is every tool no rule allows")

	out, err = d.inspect(ctx, d.endpoint, true, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello through the airlock")
	d.n.out(out)
	if err != nil {
		return fmt.Errorf("want the echo call to work: %w", err)
	}
	if !strings.Contains(out, "Echo: hello through the airlock") {
		return errors.New("want the echo call to work")
	}
	d.n.ok("an allowed call goes through to server-everything and back")

	out, err = d.inspect(ctx, d.endpoint, true, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=DROP TABLE models")
	d.n.out(out)
	if err := refused(out, err, "blocked by rule no-sql-in-echo in policy default/agents"); err != nil {
		return err
	}
	d.n.say("the same call as plain JSON-RPC, to see the whole error:")
	status, _, body, err := d.post(ctx, true, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"DROP TABLE models"}}}`)
	if err != nil {
		return err
	}
	d.n.out(fmt.Sprintf("HTTP %d\n%s", status, body))
	ref, err := checkRPCError(body, -32080, "no-sql-in-echo")
	if err != nil {
		return err
	}
	d.n.ok("blocked by the sidecar with the rule's name and an audit reference; server-everything never saw the call")
	line, err := d.sidecarLogLine(ctx, ref)
	if err != nil {
		return err
	}
	d.n.say("the reference finds the decision in the sidecar's log (identity, rule; never the token or the arguments):")
	d.n.cmd("grep " + ref + " sidecar.log")
	d.n.out(line)
	if err := d.checkSidecarLog(); err != nil {
		return err
	}

	out, err = d.inspect(ctx, d.endpoint, false, "--method", "tools/list")
	d.n.outMax(out, 12)
	if err := refused(out, err, "auth_required"); err != nil {
		return err
	}
	status, hdr, _, err := d.post(ctx, false, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if err != nil {
		return err
	}
	challenge := hdr.Get("WWW-Authenticate")
	d.n.out(fmt.Sprintf("HTTP %d\nWWW-Authenticate: %s", status, challenge))
	_, metadataURL, _ := strings.Cut(challenge, `resource_metadata="`)
	metadataURL, _, _ = strings.Cut(metadataURL, `"`)
	if status != http.StatusUnauthorized || metadataURL == "" {
		return fmt.Errorf("want 401 with a WWW-Authenticate resource_metadata, got %d %q", status, challenge)
	}
	d.n.cmd("curl -s " + metadataURL)
	metadata, err := get(ctx, metadataURL)
	if err != nil {
		return err
	}
	d.n.out(metadata)
	if !strings.Contains(metadata, d.idp.Issuer()) {
		return fmt.Errorf("want the protected-resource metadata to name the issuer %s", d.idp.Issuer())
	}
	d.n.ok("no token: 401, pointing at the RFC 9728 metadata that names the IdP; the Inspector reports auth required")
	return nil
}

// refused checks that the Inspector failed, saying want.
func refused(out string, err error, want string) error {
	if err == nil {
		return fmt.Errorf("want the Inspector to fail with %q; it succeeded", want)
	}
	if !strings.Contains(out, want) {
		return fmt.Errorf("want the Inspector to fail with %q; it failed otherwise: %w", want, err)
	}
	return nil
}

// post sends one JSON-RPC message to the sidecar, printing the curl
// equivalent, and returns the status, headers and body.
func (d *demo) post(ctx context.Context, auth bool, msg string) (int, http.Header, string, error) {
	line := "curl -s"
	if !auth {
		line = "curl -si"
	}
	line += " " + d.endpoint + " -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'"
	if auth {
		line += ` -H "Authorization: Bearer $TOKEN"`
	}
	d.n.cmd(line+" \\", "-d '"+msg+"'")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint, strings.NewReader(msg))
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, strings.TrimSpace(string(b)), err
}

// sidecarLogLine waits for the sidecar's log line carrying reference.
func (d *demo) sidecarLogLine(ctx context.Context, reference string) (string, error) {
	var found string
	err := poll(ctx, 10*time.Second, 20*time.Millisecond, "reference "+reference+" in the sidecar's log", func() (bool, error) {
		b, err := os.ReadFile(d.sidecar.log)
		if err != nil {
			return false, permanent{err}
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if strings.Contains(l, reference) {
				found = l
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// checkSidecarLog fails when the sidecar logged a token, the upstream
// credential, a call's arguments or an unmasked reply.
func (d *demo) checkSidecarLog() error {
	logged, err := os.ReadFile(d.sidecar.log)
	if err != nil {
		return err
	}
	for _, secret := range []string{d.token, "demo-upstream-credential", "DROP TABLE", "AKIAIOSFODNN7EXAMPLE", "ops@example.com"} {
		if strings.Contains(string(logged), secret) {
			return fmt.Errorf("the sidecar's log contains %q", secret[:min(len(secret), 12)])
		}
	}
	return nil
}

// checkRPCError checks a JSON-RPC error's code and rule, and returns the
// reference it carries.
func checkRPCError(body string, code int, rule string) (string, error) {
	var msg struct {
		Error *struct {
			Code int `json:"code"`
			Data struct {
				Reference string `json:"reference"`
				Rule      string `json:"rule"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Error == nil {
		return "", fmt.Errorf("want a JSON-RPC error, got %s", body)
	}
	if msg.Error.Code != code || msg.Error.Data.Rule != rule || msg.Error.Data.Reference == "" {
		return "", fmt.Errorf("want error %d naming rule %s with a reference, got %s", code, rule, body)
	}
	return msg.Error.Data.Reference, nil
}

// 6. Masking of what the server returns.
func (d *demo) masking(ctx context.Context) error {
	const message = "message=use AKIAIOSFODNN7EXAMPLE and tell ops@example.com"
	d.n.say("server-everything has no tool that leaks a secret, so have it echo one: AWS's example access key and an e-mail address.")
	d.n.say("straight to server-everything, with no airlock:")
	out, err := d.inspect(ctx, d.upstreamMCP, false, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", message)
	d.n.out(out)
	if err != nil {
		return fmt.Errorf("inspector: %w", err)
	}
	if !strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") {
		return errors.New("want server-everything to echo the key")
	}
	d.n.say("through the sidecar:")
	out, err = d.inspect(ctx, d.endpoint, true, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", message)
	d.n.out(out)
	if err != nil {
		return fmt.Errorf("inspector: %w", err)
	}
	if strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(out, "ops@example.com") {
		return errors.New("want the key and the address masked in the reply")
	}
	if !strings.Contains(out, "[REDACTED:") {
		return errors.New("want [REDACTED:…] in the reply")
	}
	d.n.ok("the sidecar masked the server's reply before the caller saw it; the reply is still valid MCP")
	hits, err := d.metricLines(ctx, "airlock_mask_hits_total")
	if err != nil {
		return err
	}
	d.n.cmd("curl -s " + d.metricsURL + " | grep airlock_mask_hits_total")
	d.n.out(strings.Join(hits, "\n"))
	return nil
}

// get fetches url, which must answer 200.
func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// metricLines are the sidecar's samples of one metric.
func (d *demo) metricLines(ctx context.Context, name string) ([]string, error) {
	b, err := get(ctx, d.metricsURL)
	if err != nil {
		return nil, err
	}
	var lines []string
	for l := range strings.SplitSeq(b, "\n") {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// 7. A policy change, enforced on the next call without a restart.
func (d *demo) livePolicyChange(ctx context.Context) error {
	c := sdk.NewClient(&sdk.Implementation{Name: "airlock-demo", Version: "v0"}, nil)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: d.endpoint, HTTPClient: &http.Client{Transport: bearer(d.token)}}, nil)
	if err != nil {
		return fmt.Errorf("connecting an MCP client to the sidecar: %w", err)
	}
	defer func() { _ = cs.Close() }()
	echo := func() error {
		_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "still allowed?"}})
		return err
	}
	if err := echo(); err != nil {
		return fmt.Errorf("want echo allowed before the change: %w", err)
	}
	d.n.say("an MCP client (go-sdk) calls echo in a loop; meanwhile the security team denies echo altogether:")
	patch := `[{"op":"add","path":"/spec/rules/-","value":{"name":"no-echo","tools":["echo"],"action":"Deny"}}]`
	d.n.cmd("kubectl patch accesspolicy agents -n "+namespace+" --type=json \\", "-p '"+patch+"'")
	policy := &v1alpha1.AccessPolicy{}
	policy.Name, policy.Namespace = "agents", namespace
	t0 := time.Now()
	if err := d.env.Client.Patch(ctx, policy, client.RawPatch(types.JSONPatchType, []byte(patch))); err != nil {
		return err
	}
	written := time.Since(t0)
	d.n.out("accesspolicy.mcp.airlock.dev/agents patched")
	calls := 0
	var refusal error
	err = poll(ctx, 30*time.Second, 2*time.Millisecond, "the sidecar to deny echo", func() (bool, error) {
		calls++
		refusal = echo()
		return refusal != nil && strings.Contains(refusal.Error(), "no-echo"), nil
	})
	if err != nil {
		return err
	}
	d.policyLatency = time.Since(t0)
	if err := d.sidecar.exited(); err != nil {
		return err
	}
	d.n.say("what the looping client got back:")
	d.n.out(refusal.Error())
	d.n.ok("the sidecar refused echo %s after the patch was sent (the API write itself took %s; %d %s in the loop): no restart, and the client's MCP session stayed open",
		d.policyLatency.Round(100*time.Microsecond), written.Round(100*time.Microsecond), calls, map[bool]string{true: "call", false: "calls"}[calls == 1])

	out, err := d.inspect(ctx, d.endpoint, true, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello again")
	d.n.out(out)
	if err := refused(out, err, "not found"); err != nil {
		return err
	}
	d.n.ok("the Inspector lists the tools before calling: echo is no longer listed, so it reports the tool not found")
	server := &v1alpha1.MCPServer{}
	if err := d.waitReconciled(ctx, server, policy, 2); err != nil {
		return err
	}
	d.n.cmd("kubectl get ap agents -n " + namespace)
	table := getTable(server, policy)
	d.n.out(table[strings.Index(table, "\n\n")+2:])
	d.n.ok("the controllers compiled the changed policy (generation 2) too")
	return nil
}

type bearer string

func (t bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(t))
	return http.DefaultTransport.RoundTrip(r)
}

// 8. RequireApproval as it is today.
func (d *demo) approvals(ctx context.Context) error {
	out, err := d.inspect(ctx, d.endpoint, true, "--method", "tools/call", "--tool-name", "get-sum", "--tool-arg", "a=2", "--tool-arg", "b=3")
	d.n.out(out)
	if err != nil {
		return fmt.Errorf("want get-sum with small numbers allowed: %w", err)
	}
	if !strings.Contains(out, "The sum of 2 and 3 is 5") {
		return errors.New("want get-sum with small numbers allowed")
	}
	d.n.ok("small sums are allowed (rule everyday-tools)")

	out, err = d.inspect(ctx, d.endpoint, true, "--method", "tools/call", "--tool-name", "get-sum", "--tool-arg", "a=150", "--tool-arg", "b=1")
	d.n.out(out)
	if err := refused(out, err, "requires approval (rule big-sums-need-approval in policy default/agents)"); err != nil {
		return err
	}
	status, _, body, err := d.post(ctx, true, `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"get-sum","arguments":{"a":150,"b":1}}}`)
	if err != nil {
		return err
	}
	d.n.out(fmt.Sprintf("HTTP %d\n%s", status, body))
	if _, err := checkRPCError(body, -32081, "big-sums-need-approval"); err != nil {
		return err
	}
	d.n.ok("a = 150 needs a human: the sidecar answers -32081 approval required, and the server never sees the call")

	var ars v1alpha1.ApprovalRequestList
	if err := d.env.Client.List(ctx, &ars, client.InNamespace(namespace)); err != nil {
		return err
	}
	d.n.cmd("kubectl get approvalrequests -n " + namespace)
	if len(ars.Items) != 0 {
		return fmt.Errorf("found %d ApprovalRequests: holding calls for approval has landed, update the demo", len(ars.Items))
	}
	d.n.out("No resources found in " + namespace + " namespace.")
	d.n.coming("holding the call until a human decides — an ApprovalRequest, `kubectl airlock approve NAME`, the call then proceeding once;")
	d.n.coming("the tamper-evident session recording — `kubectl airlock sessions replay/verify`.")
	d.n.say("Neither is built yet, so the demo shows neither.")

	if err := d.checkSidecarLog(); err != nil {
		return err
	}
	d.n.ok("the sidecar's log holds no token, no credential, no arguments and no unmasked reply")

	if d.metrics, err = d.metricLines(ctx, "airlock_requests_total"); err != nil {
		return err
	}
	for i, l := range d.metrics {
		// airlock_requests_total{decision="allowed"} 45 → allowed 45
		l = strings.TrimPrefix(l, "airlock_requests_total")
		if _, v, ok := strings.Cut(l, `decision="`); ok {
			l = strings.Replace(v, `"} `, " ", 1)
		}
		d.metrics[i] = l
	}
	return nil
}
