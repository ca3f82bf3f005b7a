package inject

import (
	"errors"
	"flag"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Config is what the operator decides about every injected sidecar; the
// MCPServer decides the rest.
type Config struct {
	// SidecarImage holds /sidecar, the Airlock proxy binary.
	SidecarImage string
	// ImagePullPolicy of the injected containers; empty leaves the default.
	ImagePullPolicy corev1.PullPolicy
	// NativeSidecars injects the sidecar as an init container with
	// restartPolicy Always (Kubernetes 1.29+); false adds a plain container.
	NativeSidecars bool
	// TokenAudience of the sidecar's projected service-account token; empty
	// means the API server's default audience.
	TokenAudience string
	// TokenExpirationSeconds of that token; the kubelet refreshes it.
	TokenExpirationSeconds int64
	// MetricsPort serves /metrics, /healthz and /readyz in the sidecar.
	MetricsPort int32
	// Resources of the injected containers.
	Resources corev1.ResourceRequirements
	// Version is recorded in the status annotation.
	Version string
}

// DefaultConfig returns the configuration the manager's flags default to.
func DefaultConfig() Config {
	return Config{
		SidecarImage:           "ghcr.io/mcp-airlock/airlock-sidecar:latest",
		ImagePullPolicy:        corev1.PullIfNotPresent,
		NativeSidecars:         true,
		TokenExpirationSeconds: 3600,
		MetricsPort:            9090,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("50m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("500m"),
				corev1.ResourceMemory: resource.MustParse("256Mi"),
			},
		},
		Version: "dev",
	}
}

// Validate reports a configuration Inject cannot work with.
func (c Config) Validate() error {
	var errs []error
	if c.SidecarImage == "" {
		errs = append(errs, errors.New("the sidecar image is empty: set --sidecar-image"))
	}
	if c.MetricsPort < 1 || c.MetricsPort > 65535 {
		errs = append(errs, fmt.Errorf("sidecar metrics port %d is not a port", c.MetricsPort))
	}
	if c.TokenExpirationSeconds < 600 {
		errs = append(errs, fmt.Errorf("sidecar token expiration %ds is below the API server's minimum of 600s", c.TokenExpirationSeconds))
	}
	return errors.Join(errs...)
}

// BindFlags registers the configuration as flags on fs, with c's values as
// defaults. Call it on a Config from DefaultConfig.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	fs.StringVar(&c.SidecarImage, "sidecar-image", c.SidecarImage, "Image of the injected Airlock sidecar; it must hold the binary /sidecar (and cp, for Stdio servers).")
	fs.Func("sidecar-image-pull-policy", fmt.Sprintf("Pull policy of the injected containers: Always, IfNotPresent or Never (default %q).", c.ImagePullPolicy), func(s string) error {
		switch p := corev1.PullPolicy(s); p {
		case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
			c.ImagePullPolicy = p
			return nil
		}
		return fmt.Errorf("%q is not Always, IfNotPresent or Never", s)
	})
	fs.BoolVar(&c.NativeSidecars, "native-sidecars", c.NativeSidecars, "Inject the sidecar as a native sidecar (init container with restartPolicy Always, Kubernetes 1.29+); false injects a plain container for older clusters.")
	fs.StringVar(&c.TokenAudience, "sidecar-token-audience", c.TokenAudience, "Audience of the sidecar's projected service-account token; empty means the API server's default audience.")
	fs.Int64Var(&c.TokenExpirationSeconds, "sidecar-token-expiration-seconds", c.TokenExpirationSeconds, "Lifetime of the sidecar's projected service-account token; the kubelet renews it.")
	fs.Func("sidecar-metrics-port", fmt.Sprintf("Port of the sidecar's /metrics, /healthz and /readyz (default %d).", c.MetricsPort), func(s string) error {
		var p int32
		if _, err := fmt.Sscan(s, &p); err != nil {
			return err
		}
		c.MetricsPort = p
		return nil
	})
	quantity := func(name string, list corev1.ResourceList, res corev1.ResourceName, usage string) {
		def := list[res]
		fs.Func(name, fmt.Sprintf("%s (default %s).", usage, def.String()), func(s string) error {
			q, err := resource.ParseQuantity(s)
			if err != nil {
				return err
			}
			if q.IsZero() {
				delete(list, res)
			} else {
				list[res] = q
			}
			return nil
		})
	}
	quantity("sidecar-cpu-request", c.Resources.Requests, corev1.ResourceCPU, "CPU request of the injected containers; 0 sets none")
	quantity("sidecar-memory-request", c.Resources.Requests, corev1.ResourceMemory, "Memory request of the injected containers; 0 sets none")
	quantity("sidecar-cpu-limit", c.Resources.Limits, corev1.ResourceCPU, "CPU limit of the injected containers; 0 sets none")
	quantity("sidecar-memory-limit", c.Resources.Limits, corev1.ResourceMemory, "Memory limit of the injected containers; 0 sets none")
}
