// Package credentials holds the credentials an MCP server expects, read from
// Kubernetes Secrets through the API, and injects them into upstream calls.
//
// Values live in process memory only. This package never logs a value, never
// writes one to disk, and never returns one to a caller of the proxy: the only
// way out is the upstream request (a header) or a Stdio child's environment.
package credentials
