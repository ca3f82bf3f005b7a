package controllers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/mcp-airlock/airlock/test/envtest"
)

// managerUser is who the manager runs as in the suite: it holds only the
// generated config/rbac/role.yaml, so a missing RBAC marker fails the tests.
const managerUser = "system:serviceaccount:airlock-system:airlock-manager"

var (
	env *envtest.Env
	k8s client.Client // an administrator, for arranging and inspecting
	ctx context.Context

	stopManager context.CancelFunc
	managerDone = make(chan struct{})
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers on a real API server")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, stopManager = context.WithCancel(context.Background())

	var err error
	env, err = envtest.Start()
	Expect(err).NotTo(HaveOccurred())
	k8s = env.Client

	grantManagerRole()

	user, err := env.AddUser(ctrlenvtest.User{Name: managerUser, Groups: []string{"system:authenticated"}}, env.Config)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(user.Config(), ctrl.Options{
		Scheme:                 env.Scheme,
		Cache:                  CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(SetupWithManager(mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		defer close(managerDone)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if stopManager != nil {
		stopManager()
		Eventually(managerDone).Should(BeClosed())
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// grantManagerRole installs the generated manager ClusterRole, binds it to
// managerUser, and installs the sidecar ClusterRole the chart ships.
func grantManagerRole() {
	data, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	obj, _, err := envtest.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	Expect(err).NotTo(HaveOccurred(), "config/rbac/role.yaml holds one ClusterRole")
	role := obj.(*rbacv1.ClusterRole)
	Expect(k8s.Create(ctx, role)).To(Succeed())
	Expect(k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "airlock-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: managerUser}},
	})).To(Succeed())
	Expect(k8s.Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: SidecarAuthClusterRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
			{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
		},
	})).To(Succeed())
}

// newNamespace creates a namespace for one test; envtest never deletes
// namespaces, so each test gets a fresh one.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "airlock-test-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// conditionOf fetches obj and returns its condition typ, for Eventually.
func conditionOf(obj client.Object, conds func() []metav1.Condition, typ string) func(Gomega) metav1.Condition {
	return func(g Gomega) metav1.Condition {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		for _, c := range conds() {
			if c.Type == typ {
				return c
			}
		}
		return metav1.Condition{}
	}
}

// haveCondition matches a condition's status and reason.
func haveCondition(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(
		HaveField("Status", status),
		HaveField("Reason", reason),
	)
}

// eventsFor lists the Events about the named object.
func eventsFor(namespace, name string) func(Gomega) []eventsv1.Event {
	return func(g Gomega) []eventsv1.Event {
		var list eventsv1.EventList
		g.Expect(k8s.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Name == name {
				out = append(out, e)
			}
		}
		return out
	}
}
