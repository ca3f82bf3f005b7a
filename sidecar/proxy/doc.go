// Package proxy is the sidecar's HTTP handler: the one place where the whole
// request path reads top to bottom — authenticate, decode, decide, forward,
// mask, relay — each step delegated to the package named for its concern.
//
// It fails closed: with no usable configuration, on an internal error, or
// when the upstream answers with something it cannot police, the caller gets
// an error and the upstream sees nothing. It never logs a token, a credential
// or a payload; decisions are logged with an audit reference instead.
package proxy
