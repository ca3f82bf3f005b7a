// Package certs keeps the admission webhooks' serving certificate without
// cert-manager: a CA (ECDSA P-256, 10 years) and a serving certificate for
// the webhook Service (1 year) live in one Secret that all replicas share;
// each replica writes them to its webhook server's certificate directory and
// keeps the caBundle of the webhook configurations current. Certificates
// are renewed before they expire; a replaced CA stays trusted until it
// expires, so replicas that have not yet picked up the new certificate keep
// serving.
//
// It never logs key material and writes keys nowhere but the Secret and the
// certificate directory.
package certs
