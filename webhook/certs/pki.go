package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// Keys of the Secret. tls.crt and tls.key make it a kubernetes.io/tls Secret
// that cert-manager would write too; ca.crt is the current CA and
// ca-previous.crt the CA it replaced, trusted until it expires so that a
// replica still serving a certificate of the old CA keeps working.
const (
	KeyCACert     = "ca.crt"
	KeyCAKey      = "ca.key"
	KeyCert       = "tls.crt"
	KeyKey        = "tls.key"
	KeyPreviousCA = "ca-previous.crt"
)

// backdate covers clocks a little behind ours.
const backdate = time.Hour

// keyPair is a certificate with its private key, parsed and in PEM.
type keyPair struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

func newCA(now time.Time, validity time.Duration) (*keyPair, error) {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "airlock-webhook-ca", Organization: []string{"Airlock"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return sign(tmpl, nil)
}

func newServingCert(ca *keyPair, dnsNames []string, now time.Time, validity time.Duration) (*keyPair, error) {
	notAfter := now.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: dnsNames[0]},
		DNSNames:    dnsNames,
		NotBefore:   now.Add(-backdate),
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return sign(tmpl, ca)
}

// sign issues tmpl with a fresh P-256 key, signed by parent or by itself.
func sign(tmpl *x509.Certificate, parent *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &keyPair{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// parseKeyPair reads a PEM certificate and its matching ECDSA key.
func parseKeyPair(certPEM, keyPEM []byte) (*keyPair, error) {
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return nil, errors.New("missing")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not ECDSA", pair.PrivateKey)
	}
	return &keyPair{cert: pair.Leaf, key: key, certPEM: certPEM, keyPEM: keyPEM}, nil
}

func parseCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// due reports whether cert should be replaced at now: it is not yet or no
// longer valid, or it is within before of expiry. Certificates living less
// than twice before are renewed at half their lifetime instead, so a short
// validity does not renew on every pass.
func due(cert *x509.Certificate, now time.Time, before time.Duration) bool {
	if now.Before(cert.NotBefore) || !now.Before(cert.NotAfter) {
		return true
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); before > life/2 {
		before = life / 2
	}
	return !now.Before(cert.NotAfter.Add(-before))
}

// servesFor reports whether cert is signed by ca and names every DNS name.
func servesFor(cert *x509.Certificate, ca *x509.Certificate, dnsNames []string) bool {
	if cert.CheckSignatureFrom(ca) != nil || !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return false
	}
	for _, n := range dnsNames {
		if !slices.Contains(cert.DNSNames, n) {
			return false
		}
	}
	return true
}

// Bundle is the caBundle the webhook configurations need for data, a
// Secret's data: the current CA, then the previous one while it is valid.
func Bundle(data map[string][]byte, now time.Time) []byte {
	bundle := slices.Clone(data[KeyCACert])
	if prev, err := parseCert(data[KeyPreviousCA]); err == nil && now.Before(prev.NotAfter) {
		bundle = append(bundle, data[KeyPreviousCA]...)
	}
	return bundle
}
