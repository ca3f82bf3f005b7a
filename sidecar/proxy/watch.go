package proxy

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
	"github.com/mcp-airlock/airlock/sidecar/credentials"
	"github.com/mcp-airlock/airlock/sidecar/mask"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// Watcher keeps a Proxy's Snapshot in step with the cluster: its MCPServer,
// the AccessPolicies in its namespace and the Secrets they name, each read
// through an informer (Secrets one by one, by name, so the sidecar's RBAC can
// be limited to them with resourceNames). Every change compiles a new
// Snapshot; the proxy never waits for it.
type Watcher struct {
	Config    *rest.Config
	Namespace string
	Name      string
	Proxy     *Proxy
	Log       logr.Logger
	// OnSnapshot, if set, is told of every snapshot swapped in (tests, logs).
	OnSnapshot func(*Snapshot)

	kube    kubernetes.Interface
	cache   cache.Cache
	authn   *authn.Cache
	changed chan struct{}

	mu      sync.Mutex
	secrets map[string]*secretWatch
}

type secretWatch struct {
	informer toolscache.SharedIndexInformer
	stop     context.CancelFunc
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	var err error
	if w.kube, err = kubernetes.NewForConfig(w.Config); err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	w.cache, err = cache.New(w.Config, cache.Options{
		Scheme:            scheme,
		DefaultNamespaces: map[string]cache.Config{w.Namespace: {}},
		ByObject: map[client.Object]cache.ByObject{
			&v1alpha1.MCPServer{}: {Field: fields.OneTermEqualSelector("metadata.name", w.Name)},
		},
	})
	if err != nil {
		return err
	}
	w.authn = authn.NewCache(authn.CacheOptions{})
	w.changed = make(chan struct{}, 1)
	w.secrets = map[string]*secretWatch{}
	for _, obj := range []client.Object{&v1alpha1.MCPServer{}, &v1alpha1.AccessPolicy{}} {
		inf, err := w.cache.GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		if _, err := inf.AddEventHandler(w.handler()); err != nil {
			return err
		}
	}
	go func() { _ = w.cache.Start(ctx) }()
	if !w.cache.WaitForCacheSync(ctx) {
		return errors.New("informers did not sync")
	}
	w.notify()
	for {
		select {
		case <-ctx.Done():
			w.stopSecrets(nil)
			return nil
		case <-w.changed:
			snap := w.build(ctx)
			w.Proxy.Update(snap)
			if snap.Err != nil {
				w.Log.Error(snap.Err, "configuration cannot be enforced; refusing every call until it is fixed", "server", snap.Server)
			} else {
				w.Log.Info("configuration loaded", "server", snap.Server, "generation", snap.Generation)
			}
			if w.OnSnapshot != nil {
				w.OnSnapshot(snap)
			}
		}
	}
}

func (w *Watcher) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *Watcher) handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.notify() },
		UpdateFunc: func(any, any) { w.notify() },
		DeleteFunc: func(any) { w.notify() },
	}
}

// build compiles a Snapshot from what the informers hold. Any failure gives
// a Snapshot with Err set: fail closed.
func (w *Watcher) build(ctx context.Context) *Snapshot {
	snap := &Snapshot{Server: w.Namespace + "/" + w.Name}
	server := &v1alpha1.MCPServer{}
	if err := w.cache.Get(ctx, types.NamespacedName{Namespace: w.Namespace, Name: w.Name}, server); err != nil {
		if apierrors.IsNotFound(err) {
			err = fmt.Errorf("MCPServer %s not found", snap.Server)
		}
		snap.Err = err
		return snap
	}
	snap.Generation = server.Generation
	snap.ServeTLS = server.Spec.Listen.TLSSecretRef != nil
	var list v1alpha1.AccessPolicyList
	if err := w.cache.List(ctx, &list, client.InNamespace(w.Namespace)); err != nil {
		snap.Err = err
		return snap
	}
	var bound []v1alpha1.AccessPolicy
	for _, p := range list.Items {
		if policy.Binds(&p, server) {
			bound = append(bound, p)
		}
	}
	slices.SortFunc(bound, func(a, b v1alpha1.AccessPolicy) int { return strings.Compare(a.Name, b.Name) })

	secretValue := w.secretValues(ctx, secretNames(server, bound))
	compiled, err := Compile(ctx, Inputs{
		Server:       server,
		Policies:     bound,
		Secret:       secretValue,
		AuthnOptions: []authn.Option{authn.WithCache(w.authn), authn.WithTokenReviews(w.kube.AuthenticationV1())},
	})
	if err != nil {
		snap.Err = err
		return snap
	}
	return compiled
}

// Inputs are what a Snapshot is compiled from.
type Inputs struct {
	Server       *v1alpha1.MCPServer
	Policies     []v1alpha1.AccessPolicy
	Secret       credentials.SecretValue
	AuthnOptions []authn.Option
}

// Compile builds the Snapshot of one MCPServer and the policies bound to it.
func Compile(ctx context.Context, in Inputs) (*Snapshot, error) {
	s := in.Server
	snap := &Snapshot{Server: s.Namespace + "/" + s.Name, Generation: s.Generation}
	cfg := authnConfig(s)
	var err error
	if snap.Authn, err = authn.New(ctx, cfg, in.AuthnOptions...); err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}
	if snap.Policy, err = policy.Compile(s, in.Policies); err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	if snap.Credentials, err = credentials.Build(s.Spec.Upstream.Credentials, in.Secret, identityMatcher); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if snap.Masker, err = masker(in.Policies, in.Secret); err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	if ref := s.Spec.Listen.TLSSecretRef; ref != nil {
		snap.ServeTLS = true
		if snap.TLS, err = listenCertificate(ref.Name, in.Secret); err != nil {
			return nil, err
		}
	}
	snap.Metadata = authn.ProtectedResourceMetadata(cfg.Resource, cfg.AuthorizationServers())
	snap.Upstream = &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(s.Spec.Upstream.Port))), Path: cmp.Or(s.Spec.Upstream.Path, "/mcp")}
	snap.Transport = cmp.Or(s.Spec.Upstream.Transport, v1alpha1.TransportStreamableHTTP)
	return snap, nil
}

func identityMatcher(expr string) (credentials.Matcher, error) {
	m, err := policy.CompileIdentityMatcher(expr)
	if err != nil {
		return nil, err
	}
	return credentials.Matcher(m), nil
}

func authnConfig(s *v1alpha1.MCPServer) authn.Config {
	cfg := authn.Config{Resource: s.Spec.Authentication.Resource}
	for _, is := range s.Spec.Authentication.Issuers {
		ic := authn.IssuerConfig{Name: is.Name}
		if o := is.OIDC; o != nil {
			ic.OIDC = &authn.OIDCConfig{
				IssuerURL: o.IssuerURL,
				Audiences: o.Audiences,
				ClaimMappings: authn.ClaimMappings{
					Subject: o.ClaimMappings.Subject,
					Groups:  o.ClaimMappings.Groups,
					Scopes:  o.ClaimMappings.Scopes,
				},
			}
		}
		if k := is.Kubernetes; k != nil {
			ic.Kubernetes = &authn.KubernetesConfig{Audiences: k.Audiences}
		}
		cfg.Issuers = append(cfg.Issuers, ic)
	}
	return cfg
}

// masker compiles the union of the masking of every bound policy: what any
// policy asks to hide is hidden from every caller of the server.
func masker(policies []v1alpha1.AccessPolicy, secret credentials.SecretValue) (*mask.Masker, error) {
	var cfg mask.Config
	masks := false
	for _, p := range policies {
		m := p.Spec.Masking
		if m == nil {
			continue
		}
		masks = true
		for _, d := range m.Detectors {
			if !slices.Contains(cfg.Detectors, string(d)) {
				cfg.Detectors = append(cfg.Detectors, string(d))
			}
		}
		cfg.Fields = append(cfg.Fields, m.Fields...)
		for _, pt := range m.Patterns {
			cfg.Patterns = append(cfg.Patterns, mask.Pattern{Name: pt.Name, Regex: pt.Regex})
		}
		if cfg.Replacement == "" {
			cfg.Replacement = m.Replacement
		}
		if ref := m.HashKeySecretRef; ref != nil && cfg.HashKey == nil {
			key, err := secret(ref.Name, ref.Key)
			if err != nil {
				return nil, fmt.Errorf("policy %s hash key: %w", p.Name, err)
			}
			cfg.HashKey = key
		}
	}
	if !masks {
		return nil, nil
	}
	return mask.New(cfg)
}

// listenCertificate reads the sidecar's serving certificate from a
// kubernetes.io/tls Secret.
func listenCertificate(secret string, value credentials.SecretValue) (*tls.Certificate, error) {
	crt, err := value(secret, corev1.TLSCertKey)
	if err != nil {
		return nil, fmt.Errorf("listen TLS: %w", err)
	}
	key, err := value(secret, corev1.TLSPrivateKeyKey)
	if err != nil {
		return nil, fmt.Errorf("listen TLS: %w", err)
	}
	cert, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("listen TLS: secret %s does not hold a usable certificate and key: %w", secret, err)
	}
	return &cert, nil
}

// secretNames are the Secrets a server and its policies need.
func secretNames(s *v1alpha1.MCPServer, policies []v1alpha1.AccessPolicy) []string {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, c := range s.Spec.Upstream.Credentials {
		add(c.SecretRef.Name)
	}
	if ref := s.Spec.Listen.TLSSecretRef; ref != nil {
		add(ref.Name)
	}
	for _, p := range policies {
		if m := p.Spec.Masking; m != nil && m.HashKeySecretRef != nil {
			add(m.HashKeySecretRef.Name)
		}
	}
	return names
}

// secretValues makes sure exactly the named Secrets are watched and returns
// a reader over their informers' memory.
func (w *Watcher) secretValues(ctx context.Context, names []string) credentials.SecretValue {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopSecrets(names)
	for _, name := range names {
		if _, ok := w.secrets[name]; ok {
			continue
		}
		lw := toolscache.NewListWatchFromClient(w.kube.CoreV1().RESTClient(), "secrets", w.Namespace,
			fields.OneTermEqualSelector("metadata.name", name))
		inf := toolscache.NewSharedIndexInformer(lw, &corev1.Secret{}, 0, toolscache.Indexers{})
		// Keep only the data: no managed fields or annotations in memory.
		_ = inf.SetTransform(func(obj any) (any, error) {
			if s, ok := obj.(*corev1.Secret); ok {
				return &corev1.Secret{ObjectMeta: s.ObjectMeta, Data: s.Data}, nil
			}
			return obj, nil
		})
		_, _ = inf.AddEventHandler(w.handler())
		sctx, stop := context.WithCancel(ctx)
		go inf.Run(sctx.Done())
		w.secrets[name] = &secretWatch{informer: inf, stop: stop}
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		toolscache.WaitForCacheSync(wait.Done(), inf.HasSynced)
		cancel()
	}
	watches := w.secrets
	return func(name, key string) ([]byte, error) {
		sw, ok := watches[name]
		if !ok || !sw.informer.HasSynced() {
			return nil, fmt.Errorf("secret %s is not readable yet: %w", name, credentials.ErrMissing)
		}
		obj, ok, _ := sw.informer.GetStore().GetByKey(w.Namespace + "/" + name)
		if !ok {
			return nil, fmt.Errorf("secret %s not found: %w", name, credentials.ErrMissing)
		}
		v, ok := obj.(*corev1.Secret).Data[key]
		if !ok {
			return nil, fmt.Errorf("secret %s has no key %s: %w", name, key, credentials.ErrMissing)
		}
		return v, nil
	}
}

// stopSecrets stops the watches of Secrets not in keep. Callers hold w.mu,
// except at shutdown.
func (w *Watcher) stopSecrets(keep []string) {
	for name, sw := range w.secrets {
		if !slices.Contains(keep, name) {
			sw.stop()
			delete(w.secrets, name)
		}
	}
}
