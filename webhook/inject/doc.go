// Package inject adds the Airlock sidecar to MCP server pods.
//
// The mutation is the pure function Inject: a pod, its MCPServer and a
// Config in, the mutated pod out. It never reads the cluster, never keeps
// state, and injecting an already injected pod returns it unchanged, so the
// result is the same however often the API server calls the webhook. The
// admission Handler only decodes the pod, looks up the MCPServer, calls
// Inject and answers with a JSON patch.
//
// What gets injected, for transport StreamableHTTP or SSE:
//
//   - a native sidecar (an init container with restartPolicy Always) named
//     airlock-sidecar, or a plain container when Config.NativeSidecars is
//     false (clusters before Kubernetes 1.29), listening on spec.listen.port
//     and forwarding to http://127.0.0.1:<upstream.port><upstream.path>;
//   - the projected volume airlock-token (its own service-account token, the
//     cluster CA and the namespace), mounted only into the sidecar.
//
// For transport Stdio the sidecar runs the MCP server as its child, so there
// is no second container: the init container airlock-install copies the
// sidecar binary into the emptyDir airlock-bin, and the MCP container's
// command becomes `/airlock/bin/sidecar <flags> -- <original command and
// args>`. The MCP container must therefore declare its command: the image's
// ENTRYPOINT is unknown to the webhook.
//
// The status annotation mcp.airlock.dev/injected records what was added.
package inject
