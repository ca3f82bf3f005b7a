package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-airlock/airlock/test/envtest"
)

// manifests is what step 2 applies, exactly as printed.
var manifests = template.Must(template.New("manifests").Parse(`apiVersion: v1
kind: Secret
metadata: {name: everything-upstream, namespace: default}
stringData: {token: demo-upstream-credential}  # what the MCP server expects; callers never see it
---
apiVersion: mcp.airlock.dev/v1alpha1
kind: MCPServer
metadata: {name: everything, namespace: default}
spec:
  upstream:
    port: {{.UpstreamPort}}  # server-everything, on 127.0.0.1 like in a pod
    path: /mcp
    credentials:
      - name: upstream
        secretRef: {name: everything-upstream, key: token}
        header: Authorization
        format: "Bearer {value}"
  authentication:
    resource: {{.Resource}}  # the sidecar's URL: what callers hold tokens for
    issuers:
      - name: okta
        oidc:
          issuerURL: {{.Issuer}}
          audiences: ["{{.Audience}}"]
---
apiVersion: mcp.airlock.dev/v1alpha1
kind: AccessPolicy
metadata: {name: agents, namespace: default}
spec:
  targetRefs: [{name: everything}]
  subjects:
    - issuer: okta
      claims: {cid: {{.ClientID}}}  # an Okta client-credentials app
  rules:
    - name: everyday-tools
      tools: [echo, get-sum, get-structured-content, trigger-long-running-operation]
      action: Allow
    - name: block-env
      tools: [get-env]
      action: Deny
    - name: no-sql-in-echo
      tools: [echo]
      when: "request.arguments.message.contains('DROP TABLE')"
      action: Deny
    - name: big-sums-need-approval
      tools: [get-sum]
      when: "double(request.arguments.a) > 100.0"
      action: RequireApproval
      approval: {approverGroups: [ml-leads], timeout: 10m}
  masking:
    detectors: [secrets, email]
`))

type manifestValues struct {
	UpstreamPort int
	Resource     string
	Issuer       string
	Audience     string
	ClientID     string
}

func renderManifests(v manifestValues) (string, error) {
	var b bytes.Buffer
	if err := manifests.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// apply creates every object of a multi-document YAML, like kubectl apply
// on a fresh cluster, and returns kubectl's lines ("secret/x created").
func apply(ctx context.Context, c client.Client, yamlText string) ([]string, error) {
	var lines []string
	for doc := range strings.SplitSeq(yamlText, "\n---\n") {
		obj, gvk, err := envtest.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			return lines, fmt.Errorf("decoding manifest: %w", err)
		}
		o, ok := obj.(client.Object)
		if !ok {
			return lines, fmt.Errorf("%s is not an object", gvk)
		}
		if err := c.Create(ctx, o); err != nil {
			return lines, fmt.Errorf("creating %s %s: %w", gvk.Kind, o.GetName(), err)
		}
		lines = append(lines, kubectlName(*gvk, o.GetName())+" created")
	}
	return lines, nil
}

// kubectlName is how kubectl names an object: secret/x, mcpserver.mcp.airlock.dev/x.
func kubectlName(gvk schema.GroupVersionKind, name string) string {
	kind := strings.ToLower(gvk.Kind)
	if gvk.Group == "" {
		return kind + "/" + name
	}
	return kind + "." + gvk.Group + "/" + name
}
