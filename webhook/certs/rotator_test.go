package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/mcp-airlock/airlock/webhook/certs"
)

const (
	secretName = "airlock-webhook-tls"
	mutating   = "airlock-mutating-webhook-configuration"
	validating = "airlock-validating-webhook-configuration"
	day        = 24 * time.Hour
)

var dnsNames = certs.ServiceDNSNames("airlock-webhook-service", namespace)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func newRotator(clk *clock, dir string) *certs.Rotator {
	r, err := certs.New(env.Client, certs.Options{
		Namespace:          namespace,
		SecretName:         secretName,
		DNSNames:           dnsNames,
		CertDir:            dir,
		MutatingWebhooks:   []string{mutating},
		ValidatingWebhooks: []string{validating},
		ResyncInterval:     100 * time.Millisecond,
		Now:                clk.Now,
		Log:                GinkgoLogr,
	})
	Expect(err).NotTo(HaveOccurred())
	return r
}

func secret() *corev1.Secret {
	s := &corev1.Secret{}
	Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: secretName}, s)).To(Succeed())
	return s
}

func bundles() (mutatingBundle, validatingBundle []byte) {
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: mutating}, m)).To(Succeed())
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: validating}, v)).To(Succeed())
	Expect(m.Webhooks[1].ClientConfig.CABundle).To(Equal(m.Webhooks[0].ClientConfig.CABundle), "every entry gets the bundle")
	return m.Webhooks[0].ClientConfig.CABundle, v.Webhooks[0].ClientConfig.CABundle
}

func parse(pemBytes []byte) *x509.Certificate {
	block, _ := pem.Decode(pemBytes)
	Expect(block).NotTo(BeNil())
	c, err := x509.ParseCertificate(block.Bytes)
	Expect(err).NotTo(HaveOccurred())
	return c
}

// verifies checks that the serving certificate in dir is trusted by bundle
// for the Service's name at now.
func verifies(dir string, bundle []byte, now time.Time) error {
	crt, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(filepath.Join(dir, "tls.key"))
	if err != nil {
		return err
	}
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		return fmt.Errorf("empty bundle")
	}
	_, err = parse(crt).Verify(x509.VerifyOptions{Roots: pool, DNSName: dnsNames[0], CurrentTime: now})
	return err
}

func webhookEntry(name string) admissionregistrationv1.MutatingWebhook {
	return admissionregistrationv1.MutatingWebhook{
		Name:                    name,
		ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/unused")},
		Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{"CREATE"}, Rule: admissionregistrationv1.Rule{APIGroups: []string{"example.com"}, APIVersions: []string{"v1"}, Resources: []string{"nothings"}}}},
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		AdmissionReviewVersions: []string{"v1"},
		FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
	}
}

var _ = Describe("Rotator", Ordered, func() {
	var (
		clk   *clock
		dir   string
		rot   *certs.Rotator
		start time.Time
		ctx   = context.Background()
	)

	BeforeAll(func() {
		m := &admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: mutating},
			Webhooks:   []admissionregistrationv1.MutatingWebhook{webhookEntry("a.example.com"), webhookEntry("b.example.com")},
		}
		Expect(env.Client.Create(ctx, m)).To(Succeed())
		w := webhookEntry("c.example.com")
		v := &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: validating},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules, SideEffects: w.SideEffects,
				AdmissionReviewVersions: w.AdmissionReviewVersions, FailurePolicy: w.FailurePolicy,
			}},
		}
		Expect(env.Client.Create(ctx, v)).To(Succeed())
		start = time.Now()
		clk = &clock{now: start}
		dir = GinkgoT().TempDir()
		rot = newRotator(clk, dir)
	})

	It("is not ready before its first pass", func() {
		Expect(rot.ReadyCheck(nil)).To(MatchError(ContainSubstring("not in place")))
	})

	It("creates the Secret, writes the files and fills every caBundle", func() {
		Expect(rot.Sync(ctx)).To(Succeed())
		Expect(rot.ReadyCheck(nil)).To(Succeed())
		Expect(rot.Ready()).To(BeClosed())

		s := secret()
		Expect(s.Type).To(Equal(corev1.SecretTypeTLS))
		Expect(s.Data).To(HaveKey("ca.key"))
		ca := parse(s.Data["ca.crt"])
		Expect(ca.IsCA).To(BeTrue())
		Expect(ca.PublicKey.(*ecdsa.PublicKey).Curve).To(Equal(elliptic.P256()))
		Expect(ca.NotAfter).To(BeTemporally("~", start.Add(10*365*day), time.Minute))
		serving := parse(s.Data["tls.crt"])
		Expect(serving.DNSNames).To(ConsistOf(dnsNames))
		Expect(serving.NotAfter).To(BeTemporally("~", start.Add(365*day), time.Minute))

		for _, f := range []string{"tls.crt", "tls.key", "ca.crt"} {
			Expect(os.ReadFile(filepath.Join(dir, f))).To(Equal(s.Data[f]), f)
		}
		m, v := bundles()
		Expect(m).To(Equal(s.Data["ca.crt"]))
		Expect(v).To(Equal(s.Data["ca.crt"]))
		Expect(verifies(dir, m, start)).To(Succeed())
	})

	It("changes nothing while nothing is due", func() {
		before := secret().ResourceVersion
		clk.Set(start.Add(300 * day))
		Expect(rot.Sync(ctx)).To(Succeed())
		Expect(secret().ResourceVersion).To(Equal(before))
	})

	It("renews the serving certificate within 30 days of its expiry and keeps the CA", func() {
		old := secret()
		clk.Set(parse(old.Data["tls.crt"]).NotAfter.Add(-29 * day))
		Expect(rot.Sync(ctx)).To(Succeed())

		s := secret()
		Expect(s.Data["tls.crt"]).NotTo(Equal(old.Data["tls.crt"]))
		Expect(s.Data["ca.crt"]).To(Equal(old.Data["ca.crt"]))
		m, _ := bundles()
		Expect(m).To(Equal(old.Data["ca.crt"]))
		Expect(os.ReadFile(filepath.Join(dir, "tls.crt"))).To(Equal(s.Data["tls.crt"]))
		Expect(verifies(dir, m, clk.Now())).To(Succeed())
	})

	It("rotates the CA near its expiry, changing the caBundle, and trusts the old CA until it expires", func() {
		old := secret()
		oldCA := parse(old.Data["ca.crt"])
		clk.Set(oldCA.NotAfter.Add(-10 * day))
		Expect(rot.Sync(ctx)).To(Succeed())

		s := secret()
		Expect(s.Data["ca.crt"]).NotTo(Equal(old.Data["ca.crt"]))
		Expect(s.Data["tls.crt"]).NotTo(Equal(old.Data["tls.crt"]))
		m, v := bundles()
		Expect(m).NotTo(Equal(old.Data["ca.crt"]))
		Expect(m).To(Equal(append(append([]byte{}, s.Data["ca.crt"]...), old.Data["ca.crt"]...)))
		Expect(v).To(Equal(m))
		Expect(verifies(dir, m, clk.Now())).To(Succeed())

		By("dropping the old CA once it has expired")
		clk.Set(oldCA.NotAfter.Add(time.Hour))
		Expect(rot.Sync(ctx)).To(Succeed())
		Expect(secret().Data).NotTo(HaveKey("ca-previous.crt"))
		m, _ = bundles()
		Expect(m).To(Equal(s.Data["ca.crt"]))
		Expect(verifies(dir, m, clk.Now())).To(Succeed())
	})

	It("reissues the serving certificate when someone replaced the CA in the Secret", func() {
		other := GinkgoT().TempDir()
		otherRot, err := certs.New(env.Client, certs.Options{Namespace: namespace, SecretName: "elsewhere", DNSNames: dnsNames, CertDir: other, Now: clk.Now})
		Expect(err).NotTo(HaveOccurred())
		Expect(otherRot.Sync(ctx)).To(Succeed())
		foreign := &corev1.Secret{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "elsewhere"}, foreign)).To(Succeed())

		s := secret()
		s.Data["ca.crt"], s.Data["ca.key"] = foreign.Data["ca.crt"], foreign.Data["ca.key"]
		Expect(env.Client.Update(ctx, s)).To(Succeed())
		Expect(rot.Sync(ctx)).To(Succeed())

		s = secret()
		Expect(s.Data["ca.crt"]).To(Equal(foreign.Data["ca.crt"]))
		Expect(s.Data["tls.crt"]).NotTo(Equal(foreign.Data["tls.crt"]))
		m, _ := bundles()
		Expect(m).To(HavePrefix(string(foreign.Data["ca.crt"])))
		Expect(verifies(dir, m, clk.Now())).To(Succeed())
	})

	It("puts back a caBundle that was reset, as by a helm upgrade", func() {
		m := &admissionregistrationv1.MutatingWebhookConfiguration{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Name: mutating}, m)).To(Succeed())
		m.Webhooks[0].ClientConfig.CABundle = nil
		Expect(env.Client.Update(ctx, m)).To(Succeed())

		Expect(rot.Sync(ctx)).To(Succeed())
		bundle, _ := bundles()
		Expect(bundle).To(HavePrefix(string(secret().Data["ca.crt"])))
	})

	It("fails, and says which, when a named webhook configuration is missing", func() {
		r, err := certs.New(env.Client, certs.Options{Namespace: namespace, SecretName: secretName, DNSNames: dnsNames, CertDir: dir,
			MutatingWebhooks: []string{"missing"}, Now: clk.Now})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Sync(ctx)).To(MatchError(ContainSubstring("MutatingWebhookConfiguration missing")))
		Expect(r.ReadyCheck(nil)).NotTo(Succeed())
	})

	It("lets several replicas converge on one Secret", func() {
		Expect(env.Client.Delete(ctx, secret())).To(Succeed())
		dirs := make([]string, 4)
		errs := make([]error, len(dirs))
		var wg sync.WaitGroup
		for i := range dirs {
			dirs[i] = GinkgoT().TempDir()
			r := newRotator(clk, dirs[i])
			wg.Go(func() { errs[i] = r.Sync(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		s := secret()
		m, _ := bundles()
		Expect(m).To(Equal(s.Data["ca.crt"]))
		for _, d := range dirs {
			Expect(os.ReadFile(filepath.Join(d, "tls.crt"))).To(Equal(s.Data["tls.crt"]), "replica with %s", d)
			Expect(verifies(d, m, clk.Now())).To(Succeed())
		}
	})

	It("holds the webhook server back until the certificates are in place, then serves them", func(ctx SpecContext) {
		Expect(env.Client.Delete(ctx, secret())).To(Succeed())
		clk.Set(time.Now())
		certDir := GinkgoT().TempDir()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		port := l.Addr().(*net.TCPAddr).Port
		Expect(l.Close()).To(Succeed())

		r := newRotator(clk, certDir)
		server := certs.Gate(webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir}), r.Ready())
		runCtx, cancel := context.WithCancel(ctx)
		DeferCleanup(cancel)
		serverDone := make(chan error, 1)
		go func() { serverDone <- server.Start(runCtx) }()

		Consistently(serverDone, 300*time.Millisecond).ShouldNot(Receive(), "the server must wait, not fail on missing files")
		Expect(server.StartedChecker()(nil)).NotTo(Succeed())

		go func() { _ = r.Start(runCtx) }()
		Eventually(func() error { return server.StartedChecker()(nil) }).Should(Succeed())
		m, _ := bundles()
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(m)).To(BeTrue())
		conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{RootCAs: pool, ServerName: dnsNames[0]})
		Expect(err).NotTo(HaveOccurred(), "the server presents the Secret's certificate")
		Expect(conn.Close()).To(Succeed())

		cancel()
		Eventually(serverDone).Should(Receive(BeNil()))
	}, SpecTimeout(time.Minute))

	AfterAll(func() {
		for _, o := range []client.Object{
			&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: mutating}},
			&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: validating}},
		} {
			if err := env.Client.Delete(context.Background(), o); err != nil && !apierrors.IsNotFound(err) {
				Expect(err).NotTo(HaveOccurred())
			}
		}
	})
})
