package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The Secret's namespace is the manager's, so a namespaced Role suffices:
// create cannot be limited by name, the rest is limited to the default
// Secret name. The webhook configurations are limited to the chart's names.
//
// +kubebuilder:rbac:groups="",namespace=airlock-system,resources=secrets,verbs=create
// +kubebuilder:rbac:groups="",namespace=airlock-system,resources=secrets,resourceNames=airlock-webhook-tls,verbs=get;update;patch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,resourceNames=airlock-mutating-webhook-configuration;airlock-validating-webhook-configuration,verbs=get;update;patch

// Options configure a Rotator. Zero durations take the defaults below.
type Options struct {
	// Namespace and SecretName locate the Secret every replica shares.
	Namespace  string
	SecretName string
	// DNSNames the serving certificate is for; see ServiceDNSNames.
	DNSNames []string
	// CertDir is the webhook server's certificate directory; tls.crt,
	// tls.key and ca.crt are written there.
	CertDir string
	// MutatingWebhooks and ValidatingWebhooks name the webhook
	// configurations whose caBundle is kept current.
	MutatingWebhooks   []string
	ValidatingWebhooks []string

	// CAValidity defaults to 10 years, CertValidity to 1 year.
	CAValidity   time.Duration
	CertValidity time.Duration
	// RefreshBefore is how long before expiry a certificate is replaced,
	// 30 days by default (at most half its lifetime).
	RefreshBefore time.Duration
	// ResyncInterval is how often the Secret, the files and the caBundles
	// are checked, 1 minute by default; that is also how soon a replica
	// picks up another replica's rotation.
	ResyncInterval time.Duration
	// Now is the clock; tests move it.
	Now func() time.Time
	Log logr.Logger
}

// Rotator keeps the webhook server's certificate: it is a manager Runnable
// on every replica (no leader election). Each pass reads the Secret, renews
// what is due, writes it back (conflicts with other replicas are retried),
// writes the files and patches the caBundles. The Secret is the single
// source, so all replicas serve certificates of the same CA.
type Rotator struct {
	client client.Client
	opts   Options

	readyOnce sync.Once
	ready     chan struct{}
}

// ServiceDNSNames are the names the API server may use for a Service.
func ServiceDNSNames(service, namespace string) []string {
	return []string{
		service + "." + namespace + ".svc",
		service + "." + namespace + ".svc.cluster.local",
	}
}

// New returns a Rotator. c must read without a cache: the Rotator runs
// before the manager's caches start, and may only read its own Secret.
func New(c client.Client, opts Options) (*Rotator, error) {
	if opts.Namespace == "" || opts.SecretName == "" || opts.CertDir == "" || len(opts.DNSNames) == 0 {
		return nil, errors.New("certs: Namespace, SecretName, CertDir and DNSNames are required")
	}
	if opts.CAValidity == 0 {
		opts.CAValidity = 10 * 365 * 24 * time.Hour
	}
	if opts.CertValidity == 0 {
		opts.CertValidity = 365 * 24 * time.Hour
	}
	if opts.RefreshBefore == 0 {
		opts.RefreshBefore = 30 * 24 * time.Hour
	}
	if opts.ResyncInterval == 0 {
		opts.ResyncInterval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Log = opts.Log.WithValues("secret", opts.Namespace+"/"+opts.SecretName)
	return &Rotator{client: c, opts: opts, ready: make(chan struct{})}, nil
}

// Ready is closed once the certificate files are in place and the
// caBundles are patched.
func (r *Rotator) Ready() <-chan struct{} { return r.ready }

// ReadyCheck is a healthz.Checker for Ready.
func (r *Rotator) ReadyCheck(_ *http.Request) error {
	select {
	case <-r.ready:
		return nil
	default:
		return errors.New("webhook certificates are not in place yet")
	}
}

// NeedLeaderElection is false: every replica serves webhooks.
func (r *Rotator) NeedLeaderElection() bool { return false }

// Start runs Sync now and then every ResyncInterval, retrying failures with
// backoff, until ctx ends.
func (r *Rotator) Start(ctx context.Context) error {
	delay := time.Second
	for {
		wait := r.opts.ResyncInterval
		err := r.Sync(ctx)
		select {
		case <-ctx.Done():
			return nil // the error, if any, is the cancellation's
		default:
		}
		if err != nil {
			r.opts.Log.Error(err, "syncing webhook certificates", "retryIn", delay)
			wait, delay = delay, min(2*delay, r.opts.ResyncInterval)
		} else {
			delay = time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Sync makes one pass: Secret, files, caBundles.
func (r *Rotator) Sync(ctx context.Context) error {
	data, err := r.ensureSecret(ctx)
	if err != nil {
		return err
	}
	if err := r.writeFiles(data); err != nil {
		return err
	}
	bundle := Bundle(data, r.opts.Now())
	var errs []error
	for _, name := range r.opts.MutatingWebhooks {
		errs = append(errs, r.injectCABundle(ctx, "MutatingWebhookConfiguration", &admissionregistrationv1.MutatingWebhookConfiguration{}, name, bundle))
	}
	for _, name := range r.opts.ValidatingWebhooks {
		errs = append(errs, r.injectCABundle(ctx, "ValidatingWebhookConfiguration", &admissionregistrationv1.ValidatingWebhookConfiguration{}, name, bundle))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.readyOnce.Do(func() {
		r.opts.Log.Info("webhook certificates in place")
		close(r.ready)
	})
	return nil
}

// ensureSecret returns the Secret's data after renewing what is due,
// creating the Secret if it is missing.
func (r *Rotator) ensureSecret(ctx context.Context) (map[string][]byte, error) {
	var data map[string][]byte
	retriable := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	err := retry.OnError(retry.DefaultRetry, retriable, func() error {
		secret := &corev1.Secret{}
		err := r.client.Get(ctx, client.ObjectKey{Namespace: r.opts.Namespace, Name: r.opts.SecretName}, secret)
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading Secret %s/%s: %w", r.opts.Namespace, r.opts.SecretName, err)
		}
		missing := err != nil
		fresh, why, err := r.renew(secret.Data, r.opts.Now())
		if err != nil {
			return err
		}
		switch {
		case missing:
			secret = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: r.opts.Namespace,
					Name:      r.opts.SecretName,
					Labels:    map[string]string{"app.kubernetes.io/managed-by": "airlock"},
				},
				Type: corev1.SecretTypeTLS,
				Data: fresh,
			}
			if err := r.client.Create(ctx, secret); err != nil {
				return err
			}
			r.opts.Log.Info("created webhook certificates")
		case why != "":
			secret.Data = fresh
			if err := r.client.Update(ctx, secret); err != nil {
				return err
			}
			r.opts.Log.Info("rotated webhook certificates", "reason", why)
		}
		data = fresh
		return nil
	})
	return data, err
}

// renew returns old with whatever is missing, invalid or due replaced, and
// why it changed ("" for not at all).
func (r *Rotator) renew(old map[string][]byte, now time.Time) (map[string][]byte, string, error) {
	data := maps.Clone(old)
	if data == nil {
		data = map[string][]byte{}
	}
	var why string
	ca, err := parseKeyPair(data[KeyCACert], data[KeyCAKey])
	switch {
	case err != nil || !ca.cert.IsCA:
		why = "no valid CA"
		delete(data, KeyPreviousCA)
	case due(ca.cert, now, r.opts.RefreshBefore):
		why = "CA expires " + ca.cert.NotAfter.UTC().Format(time.RFC3339)
		data[KeyPreviousCA] = ca.certPEM
	}
	if why != "" {
		if ca, err = newCA(now, r.opts.CAValidity); err != nil {
			return nil, "", err
		}
		data[KeyCACert], data[KeyCAKey] = ca.certPEM, ca.keyPEM
	}

	serving, err := parseKeyPair(data[KeyCert], data[KeyKey])
	reissue := ""
	switch {
	case err != nil:
		reissue = "no valid serving certificate"
	case !servesFor(serving.cert, ca.cert, r.opts.DNSNames):
		reissue = "serving certificate is not from the current CA or not for " + r.opts.DNSNames[0]
	case due(serving.cert, now, r.opts.RefreshBefore):
		reissue = "serving certificate expires " + serving.cert.NotAfter.UTC().Format(time.RFC3339)
	}
	if reissue != "" {
		if serving, err = newServingCert(ca, r.opts.DNSNames, now, r.opts.CertValidity); err != nil {
			return nil, "", err
		}
		data[KeyCert], data[KeyKey] = serving.certPEM, serving.keyPEM
		if why == "" {
			why = reissue
		}
	}

	if prev, err := parseCert(data[KeyPreviousCA]); data[KeyPreviousCA] != nil && (err != nil || !now.Before(prev.NotAfter)) {
		delete(data, KeyPreviousCA)
		if why == "" {
			why = "previous CA expired"
		}
	}
	return data, why, nil
}

// writeFiles puts the certificate where the webhook server reads it. Each
// file is replaced by a rename, so the server never reads half a file.
func (r *Rotator) writeFiles(data map[string][]byte) error {
	if err := os.MkdirAll(r.opts.CertDir, 0o700); err != nil {
		return err
	}
	// The key first: the server's certificate watcher reloads on the
	// certificate's change and then needs the matching key.
	for _, name := range []string{KeyKey, KeyCert, KeyCACert} {
		path := filepath.Join(r.opts.CertDir, name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data[name]) {
			continue
		}
		tmp, err := os.CreateTemp(r.opts.CertDir, "."+name+"-*")
		if err != nil {
			return err
		}
		_, werr := tmp.Write(data[name])
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr); err != nil {
			_ = os.Remove(tmp.Name())
			return err
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			_ = os.Remove(tmp.Name())
			return err
		}
	}
	return nil
}

// injectCABundle sets bundle on every webhook of the named configuration.
func (r *Rotator) injectCABundle(ctx context.Context, kind string, obj client.Object, name string, bundle []byte) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := r.client.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
			return err
		}
		changed := false
		set := func(cc *admissionregistrationv1.WebhookClientConfig) {
			if !bytes.Equal(cc.CABundle, bundle) {
				cc.CABundle, changed = bundle, true
			}
		}
		switch c := obj.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			for i := range c.Webhooks {
				set(&c.Webhooks[i].ClientConfig)
			}
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			for i := range c.Webhooks {
				set(&c.Webhooks[i].ClientConfig)
			}
		}
		if !changed {
			return nil
		}
		if err := r.client.Update(ctx, obj); err != nil {
			return err
		}
		r.opts.Log.Info("updated caBundle", "kind", kind, "name", name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("setting the caBundle of %s %s: %w", kind, name, err)
	}
	return nil
}
