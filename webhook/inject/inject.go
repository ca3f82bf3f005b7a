package inject

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
)

// Names of what Inject adds, and where.
const (
	// ContainerAnnotation names the MCP container of a pod with several
	// containers; without it the first container is the MCP container.
	ContainerAnnotation = "mcp.airlock.dev/container"

	SidecarContainer = "airlock-sidecar"
	InstallContainer = "airlock-install"
	TokenVolume      = "airlock-token"
	BinVolume        = "airlock-bin"
	PortName         = "airlock"
	MetricsPortName  = "airlock-metrics"

	// TokenDir holds the sidecar's own service-account token (token), the
	// cluster CA (ca.crt) and the pod's namespace (namespace).
	TokenDir  = "/var/run/secrets/airlock/serviceaccount"
	TokenFile = TokenDir + "/token"
	// SidecarBinary is the proxy binary in the sidecar image.
	SidecarBinary = "/sidecar"
	// BinDir is where Stdio MCP containers find the copied binary.
	BinDir        = "/airlock/bin"
	StdioLauncher = BinDir + "/sidecar"

	defaultListenPort = 9443
	defaultPath       = "/mcp"
	sidecarUser       = 65532
)

// SkipReason says why a pod that names an MCPServer is admitted without the
// sidecar, or is empty when the pod can be injected. Inject returns such a
// pod unchanged; the Handler warns about it.
func SkipReason(pod *corev1.Pod) string {
	if pod.Spec.HostNetwork {
		return "pod uses hostNetwork: Airlock does not inject its sidecar, because on the node's network the MCP server's port " +
			"is reachable around the proxy and a NetworkPolicy cannot fence it; the pod runs WITHOUT Airlock protection " +
			"(remove hostNetwork, or remove the annotation " + v1alpha1.ServerAnnotation + ")"
	}
	return ""
}

// Inject returns a copy of pod with the Airlock sidecar for server added; a
// pod that SkipReason skips comes back unchanged. The error is written for
// the person creating the pod.
//
// Inject first removes whatever an earlier injection added, found by name
// rather than by trusting the status annotation (which a pod's author can
// forge), and then injects afresh. So an injected pod comes back unchanged,
// and a pod re-created from a dump of an injected one, its sidecar edited or
// its status annotation stale, gets exactly the sidecar the operator
// configures now.
func Inject(pod *corev1.Pod, server *v1alpha1.MCPServer, cfg Config) (*corev1.Pod, error) {
	out := pod.DeepCopy()
	if SkipReason(pod) != "" {
		return out, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("airlock injector misconfigured: %w", err)
	}
	removeInjected(out)

	idx, err := mcpContainer(out)
	if err != nil {
		return nil, err
	}
	st := status{Version: cfg.Version, Server: server.Name, Volumes: []string{TokenVolume}}
	if out.Spec.ServiceAccountName == "" && out.Spec.DeprecatedServiceAccount == "" {
		// A projected token needs a named service account. The API server's
		// ServiceAccount admission plugin, which runs before webhooks, names
		// "default" the same way; only clusters without it get here.
		out.Spec.ServiceAccountName = "default"
	}
	out.Spec.Volumes = append(out.Spec.Volumes, tokenVolume(cfg))

	up := server.Spec.Upstream
	if up.Transport == v1alpha1.TransportStdio {
		if err := wrapStdio(out, idx, server, cfg); err != nil {
			return nil, err
		}
		out.Spec.InitContainers = append(out.Spec.InitContainers, installContainer(cfg))
		out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{
			Name:         BinVolume,
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}},
		})
		st.InitContainers = []string{InstallContainer}
		st.Volumes = append(st.Volumes, BinVolume)
		st.WrappedContainer = out.Spec.Containers[idx].Name
	} else {
		if up.Port == 0 {
			return nil, fmt.Errorf("MCPServer %s has no spec.upstream.port: set the port the MCP server listens on", server.Name)
		}
		sidecar := sidecarContainer(server, cfg)
		if cfg.NativeSidecars {
			sidecar.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
			out.Spec.InitContainers = append(out.Spec.InitContainers, sidecar)
			st.InitContainers = []string{SidecarContainer}
		} else {
			out.Spec.Containers = append(out.Spec.Containers, sidecar)
			st.Containers = []string{SidecarContainer}
		}
	}
	if err := checkPorts(out, server, cfg); err != nil {
		return nil, err
	}
	if err := writeStatus(out, st); err != nil {
		return nil, err
	}
	return out, nil
}

// mcpContainer finds the index of the container the MCP server runs in.
func mcpContainer(pod *corev1.Pod) (int, error) {
	if len(pod.Spec.Containers) == 0 {
		return 0, errors.New("pod has no containers")
	}
	name, ok := pod.Annotations[ContainerAnnotation]
	if !ok {
		return 0, nil
	}
	for i, c := range pod.Spec.Containers {
		if c.Name == name {
			return i, nil
		}
	}
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return 0, fmt.Errorf("annotation %s names container %q, but the pod's containers are %v", ContainerAnnotation, name, names)
}

// flags are the sidecar's command-line flags shared by both transports.
func flags(server *v1alpha1.MCPServer, cfg Config) []string {
	return []string{
		"--server=$(POD_NAMESPACE)/" + server.Name,
		"--listen=:" + strconv.Itoa(int(listenPort(server))),
		"--metrics-addr=:" + strconv.Itoa(int(cfg.MetricsPort)),
		"--token-file=" + TokenFile,
	}
}

func sidecarContainer(server *v1alpha1.MCPServer, cfg Config) corev1.Container {
	up := server.Spec.Upstream
	path := up.Path
	if path == "" {
		path = defaultPath
	}
	args := flags(server, cfg)
	// --upstream goes after --listen, where a reader of `kubectl get pod -o yaml` looks for it.
	args = slices.Insert(args, 2, fmt.Sprintf("--upstream=http://127.0.0.1:%d%s", up.Port, path))
	return corev1.Container{
		Name:            SidecarContainer,
		Image:           cfg.SidecarImage,
		ImagePullPolicy: cfg.ImagePullPolicy,
		Command:         []string{SidecarBinary},
		Args:            args,
		Env:             downwardEnv(),
		Ports:           ports(server, cfg),
		Resources:       *cfg.Resources.DeepCopy(),
		LivenessProbe:   probe("/healthz", cfg),
		ReadinessProbe:  probe("/readyz", cfg),
		VolumeMounts: []corev1.VolumeMount{
			{Name: TokenVolume, MountPath: TokenDir, ReadOnly: true},
		},
		SecurityContext: restricted(),
	}
}

// wrapStdio turns the MCP container into the sidecar running the server's
// command as its child.
func wrapStdio(pod *corev1.Pod, idx int, server *v1alpha1.MCPServer, cfg Config) error {
	c := &pod.Spec.Containers[idx]
	if len(c.Command) == 0 {
		return fmt.Errorf("container %q has no command: MCPServer %s uses transport Stdio, so the Airlock sidecar starts "+
			"the MCP server as its child and needs the full command line; the image's ENTRYPOINT is unknown to the webhook, "+
			"so set command (and args) on the container", c.Name, server.Name)
	}
	cmd := append([]string{StdioLauncher}, flags(server, cfg)...)
	if pass := childEnv(c); pass != "" {
		// The sidecar gives its child a minimal environment: pass on what the
		// owner declared for the server.
		cmd = append(cmd, "--child-env="+pass)
	}
	cmd = append(cmd, "--")
	cmd = append(cmd, c.Command...)
	c.Command = append(cmd, c.Args...)
	c.Args = nil
	for _, e := range downwardEnv() {
		if !slices.ContainsFunc(c.Env, func(x corev1.EnvVar) bool { return x.Name == e.Name }) {
			c.Env = append(c.Env, e)
		}
	}
	c.Ports = append(c.Ports, ports(server, cfg)...)
	c.VolumeMounts = append(c.VolumeMounts,
		corev1.VolumeMount{Name: BinVolume, MountPath: BinDir, ReadOnly: true},
		corev1.VolumeMount{Name: TokenVolume, MountPath: TokenDir, ReadOnly: true},
	)
	// Keep the owner's probes: they know their server. Without them, the
	// sidecar's endpoints tell whether the proxy is up.
	if c.LivenessProbe == nil {
		c.LivenessProbe = probe("/healthz", cfg)
	}
	if c.ReadinessProbe == nil {
		c.ReadinessProbe = probe("/readyz", cfg)
	}
	return nil
}

func installContainer(cfg Config) corev1.Container {
	return corev1.Container{
		Name:            InstallContainer,
		Image:           cfg.SidecarImage,
		ImagePullPolicy: cfg.ImagePullPolicy,
		Command:         []string{SidecarBinary, "install", StdioLauncher},
		Resources:       *cfg.Resources.DeepCopy(),
		VolumeMounts:    []corev1.VolumeMount{{Name: BinVolume, MountPath: BinDir}},
		SecurityContext: restricted(),
	}
}

// tokenVolume is the sidecar's own credential for the API server, apart
// from whatever the MCP container mounts: a short-lived token, plus the CA
// and namespace so that it works with automountServiceAccountToken false.
func tokenVolume(cfg Config) corev1.Volume {
	return corev1.Volume{
		Name: TokenVolume,
		VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
					Audience:          cfg.TokenAudience,
					ExpirationSeconds: ptr.To(cfg.TokenExpirationSeconds),
					Path:              "token",
				}},
				{ConfigMap: &corev1.ConfigMapProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
					Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
				}},
				{DownwardAPI: &corev1.DownwardAPIProjection{
					Items: []corev1.DownwardAPIVolumeFile{{
						Path:     "namespace",
						FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
					}},
				}},
			},
		}},
	}
}

func downwardEnv() []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path},
		}}
	}
	return []corev1.EnvVar{field("POD_NAMESPACE", "metadata.namespace"), field("POD_NAME", "metadata.name")}
}

func ports(server *v1alpha1.MCPServer, cfg Config) []corev1.ContainerPort {
	return []corev1.ContainerPort{
		{Name: PortName, ContainerPort: listenPort(server), Protocol: corev1.ProtocolTCP},
		{Name: MetricsPortName, ContainerPort: cfg.MetricsPort, Protocol: corev1.ProtocolTCP},
	}
}

func probe(path string, cfg Config) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   path,
			Port:   intstr.FromInt32(cfg.MetricsPort),
			Scheme: corev1.URISchemeHTTP,
		}},
		PeriodSeconds:    10,
		TimeoutSeconds:   1,
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}
}

// restricted satisfies the Pod Security "restricted" profile.
func restricted() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To[int64](sidecarUser),
		RunAsGroup:               ptr.To[int64](sidecarUser),
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func listenPort(server *v1alpha1.MCPServer) int32 {
	if p := server.Spec.Listen.Port; p != 0 {
		return p
	}
	return defaultListenPort
}

// checkPorts refuses a pod whose own containers already declare a port the
// sidecar needs: the sidecar would crash-loop on bind.
func checkPorts(pod *corev1.Pod, server *v1alpha1.MCPServer, cfg Config) error {
	want := map[int32]string{
		listenPort(server): fmt.Sprintf("spec.listen.port of MCPServer %s", server.Name),
		cfg.MetricsPort:    "the sidecar's metrics port (manager flag --sidecar-metrics-port)",
	}
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		for _, p := range c.Ports {
			if p.Name == PortName || p.Name == MetricsPortName {
				continue
			}
			if what, clash := want[p.ContainerPort]; clash && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
				return fmt.Errorf("container %q declares port %d, which is %s: choose another port for one of them", c.Name, p.ContainerPort, what)
			}
		}
	}
	return nil
}

// removeInjected strips what an earlier injection left, so that Inject
// starts from the owner's pod.
// childEnv lists the environment variables the owner declared on the MCP
// container, for the sidecar's --child-env; "*" when some come from envFrom,
// whose names the webhook cannot know.
func childEnv(c *corev1.Container) string {
	if len(c.EnvFrom) > 0 {
		return "*"
	}
	var names []string
	for _, e := range c.Env {
		if !slices.ContainsFunc(downwardEnv(), func(d corev1.EnvVar) bool { return d.Name == e.Name }) {
			names = append(names, e.Name)
		}
	}
	return strings.Join(names, ",")
}

func removeInjected(pod *corev1.Pod) {
	ours := func(c corev1.Container) bool { return c.Name == SidecarContainer || c.Name == InstallContainer }
	pod.Spec.InitContainers = slices.DeleteFunc(pod.Spec.InitContainers, ours)
	pod.Spec.Containers = slices.DeleteFunc(pod.Spec.Containers, ours)
	pod.Spec.Volumes = slices.DeleteFunc(pod.Spec.Volumes, func(v corev1.Volume) bool {
		return v.Name == TokenVolume || v.Name == BinVolume
	})
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if len(c.Command) > 0 && c.Command[0] == StdioLauncher {
			if j := slices.Index(c.Command, "--"); j >= 0 {
				c.Command = slices.Clone(c.Command[j+1:])
			}
		}
		c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == TokenVolume || m.Name == BinVolume
		})
		c.Ports = slices.DeleteFunc(c.Ports, func(p corev1.ContainerPort) bool {
			return p.Name == PortName || p.Name == MetricsPortName
		})
	}
	delete(pod.Annotations, v1alpha1.InjectedStatusAnnotation)
}
