// Package stdio serves an MCP server that speaks stdio — newline-delimited
// JSON-RPC on its stdin and stdout — to many callers over Streamable HTTP.
//
// Its Transport is an http.RoundTripper: the proxy forwards allowed messages
// to it exactly as to an HTTP MCP server, so authentication, policy, masking
// and recording are the same for both. Behind it, the Transport runs the MCP
// server's command as a child process and owns its MCP lifecycle: the child
// is one MCP session, initialized by the Transport, shared by every caller.
// Callers get their own session ids; request ids and progress tokens are
// rewritten to unique ones on the way in and back to the caller's exact bytes
// on the way out, so two callers that both send id 1 get their own answers.
// A child that exits is restarted with exponential backoff and re-initialized;
// calls it leaves unanswered get a JSON-RPC error (mcp.CodeUpstreamUnavailable).
//
// What it must never do: log a payload (stdout lines, bodies, arguments,
// results) or a credential, at any level — only methods, sizes, pids and the
// child's own stderr lines are logged; and write a credential anywhere but
// the child's environment, which is built in memory for each start and never
// touches the disk. New credentials (a rotated Secret) restart the child,
// since a process's environment cannot be changed from outside. The child's
// environment is otherwise minimal: see InheritEnv.
//
// Not supported, by design: requests from the child to callers (sampling,
// roots, elicitation) — there is no caller stream to deliver them to
// reliably, so the child gets a JSON-RPC error; notifications from the child
// other than progress (logs, list changes), which have no standalone stream
// to go to; and server/discover (MCP 2026-07-28), which is refused so that
// clients fall back to initialize.
package stdio
