// Package webhook holds Airlock's admission webhooks and their serving
// certificates, one subpackage per concern:
//
//   - inject: the pod mutating webhook that adds the Airlock sidecar;
//   - certs: the CA and serving certificate of the webhook server, kept in a
//     Secret, written to the server's certificate directory and published as
//     the caBundle of the webhook configurations.
package webhook
