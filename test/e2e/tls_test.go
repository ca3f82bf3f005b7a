package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/test/mcpserver"
)

// selfSigned returns a PEM certificate and key for 127.0.0.1.
func selfSigned() (certPEM, keyPEM []byte, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "airlock-e2e"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	keyDER, err := x509.MarshalECPrivateKey(key)
	Expect(err).NotTo(HaveOccurred())
	cert, err := x509.ParseCertificate(der)
	Expect(err).NotTo(HaveOccurred())
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), pool
}

var _ = Describe("A sidecar with listen.tlsSecretRef", func() {
	It("serves callers over TLS with the certificate from the Secret, held in memory", func() {
		upstream := mcpserver.Start(mcpserver.Options{})
		DeferCleanup(upstream.Close)
		u, _ := url.Parse(upstream.URL)
		port, _ := strconv.Atoi(u.Port())
		certPEM, keyPEM, pool := selfSigned()
		Expect(env.Client.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "tls-tools-serving", Namespace: "default"},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
		})).To(Succeed())
		server := oktaServer("tls-tools", v1alpha1.Upstream{Port: int32(port)})
		server.Spec.Listen.TLSSecretRef = &v1alpha1.LocalObjectReference{Name: "tls-tools-serving"}
		create(server, policyFor("tls-callers", "tls-tools", clientID,
			v1alpha1.Rule{Name: "echo", Tools: []string{"echo"}, Action: v1alpha1.ActionAllow}))
		listen := startSidecar("tls-tools")

		token := idp.ClientCredentialsToken(ctx, clientID, clientSecret, "mcp.read")
		base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		client := &http.Client{Transport: tokenTransport{token: token, base: base}}
		var cs *sdk.ClientSession
		Eventually(func() error { // the listener opens once the MCPServer is read
			var err error
			cs, err = sdk.NewClient(&sdk.Implementation{Name: "e2e", Version: "v0"}, nil).Connect(ctx,
				&sdk.StreamableClientTransport{Endpoint: fmt.Sprintf("https://127.0.0.1:%d/mcp", listen), HTTPClient: client}, nil)
			return err
		}).Should(Succeed())
		defer func() { _ = cs.Close() }()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "over tls"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Content[0].(*sdk.TextContent).Text).To(Equal("over tls"))

		// Plain HTTP is not served: Go's TLS server answers it with a bare 400.
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/mcp", listen), "application/json", nil)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
		Expect(upstream.Calls("echo")).To(BeEquivalentTo(1))
	})
})
