// Package controllers holds the Airlock reconcilers, one file per kind.
//
// The MCPServer reconciler reports whether a server is ready to serve
// (credentials, policies, injected pods) and owns what its sidecars need: a
// Role and RoleBinding limited by resourceNames, a ClusterRoleBinding for
// TokenReviews, and a NetworkPolicy that leaves only the sidecar reachable.
// The AccessPolicy reconciler compiles policies and reports where they bind.
//
// Reconcilers here never read a Secret's values: they check that a key
// exists, through the API reader, so the manager keeps no Secret data in its
// cache, and never log or record more than Secret and key names.
package controllers
