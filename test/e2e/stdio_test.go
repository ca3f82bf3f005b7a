package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
)

const (
	filesClientID     = "0oa-e2e-files"
	filesClientSecret = "e2e-files-secret"
	filesCredential   = "files-e2e-credential"
)

var _ = Describe("a stdio MCP server (server-filesystem) run by the sidecar binary", Ordered, func() {
	var (
		endpoint string
		token    string
		dir      string
		sidecar  *exec.Cmd
		log      *syncBuffer
	)

	BeforeAll(func() {
		idp.AddClient(filesClientID, filesClientSecret, []string{"mcp.read"}, nil)
		token = idp.ClientCredentialsToken(ctx, filesClientID, filesClientSecret, "mcp.read")

		dir = GinkgoT().TempDir()
		for name, content := range map[string]string{"hello.txt": "hello from the stdio server", "a.txt": "content of a", "b.txt": "content of b"} {
			Expect(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)).To(Succeed())
		}

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "files-upstream", Namespace: "default"},
			StringData: map[string]string{"token": filesCredential}}
		Expect(env.Client.Create(ctx, secret)).To(Succeed())
		cred := credentialFrom(secret.Name)
		cred.Env = "FILES_TOKEN"
		create(
			oktaServer("files", v1alpha1.Upstream{Transport: v1alpha1.TransportStdio, Credentials: []v1alpha1.UpstreamCredential{cred}}),
			policyFor("files-readers", "files", filesClientID,
				v1alpha1.Rule{Name: "reads", Tools: []string{"read_file", "read_text_file", "list_directory"}, Action: v1alpha1.ActionAllow},
				v1alpha1.Rule{Name: "no-writes", Tools: []string{"write_file"}, Action: v1alpha1.ActionDeny},
			),
		)

		listen, metrics := freePort(), freePort()
		log = &syncBuffer{}
		sidecar = exec.CommandContext(ctx, sidecarBin, "--server=default/files", "--kubeconfig="+kubeconfig,
			fmt.Sprintf("--listen=127.0.0.1:%d", listen), fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metrics), "--zap-log-level=debug",
			"--", bin("mcp-server-filesystem"), dir)
		sidecar.Env = append(os.Environ(), "AIRLOCK_E2E_SIDECAR_ONLY=not-for-the-child")
		sidecar.Stdout, sidecar.Stderr = GinkgoWriter, io.MultiWriter(GinkgoWriter, log)
		sidecar.WaitDelay = 5 * time.Second
		Expect(sidecar.Start()).To(Succeed())
		DeferCleanup(func() {
			_ = sidecar.Process.Signal(syscall.SIGTERM)
			_ = sidecar.Wait()
		})
		endpoint = fmt.Sprintf("http://127.0.0.1:%d/mcp", listen)
		// Ready means the configuration is enforceable and the child initialized.
		waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics), 200)
	})

	connect := func() *sdk.ClientSession {
		c := sdk.NewClient(&sdk.Implementation{Name: "e2e-files", Version: "v0"}, nil)
		cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: endpoint, HTTPClient: withToken(token)}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = cs.Close() })
		return cs
	}
	callText := func(cs *sdk.ClientSession, tool string, args map[string]any) (string, error) {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			return "", err
		}
		var text strings.Builder
		for _, c := range res.Content {
			if t, ok := c.(*sdk.TextContent); ok {
				text.WriteString(t.Text)
			}
		}
		if res.IsError {
			return "", fmt.Errorf("tool error: %s", text.String())
		}
		return text.String(), nil
	}

	It("lists only the tools the policy allows", func() {
		tools, err := connect().ListTools(ctx, nil)
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, t := range tools.Tools {
			names = append(names, t.Name)
		}
		Expect(names).To(ConsistOf("read_file", "read_text_file", "list_directory"))
	})

	It("reads a file and lists the directory", func() {
		cs := connect()
		Expect(callText(cs, "read_text_file", map[string]any{"path": filepath.Join(dir, "hello.txt")})).To(Equal("hello from the stdio server"))
		Expect(callText(cs, "list_directory", map[string]any{"path": dir})).To(And(
			ContainSubstring("[FILE] hello.txt"), ContainSubstring("[FILE] a.txt")))
	})

	It("refuses write_file with the rule's name and writes nothing", func() {
		target := filepath.Join(dir, "written.txt")
		_, err := callText(connect(), "write_file", map[string]any{"path": target, "content": "should not exist"})
		Expect(err).To(MatchError(ContainSubstring("blocked by rule no-writes in policy default/files-readers")))
		_, statErr := os.Stat(target)
		Expect(os.IsNotExist(statErr)).To(BeTrue(), "write_file reached the server: %v", statErr)
	})

	It("gives two concurrent callers their own answers", func() {
		callers := map[string]*sdk.ClientSession{"a.txt": connect(), "b.txt": connect()}
		var wg sync.WaitGroup
		for file, cs := range callers {
			for range 10 {
				wg.Go(func() {
					defer GinkgoRecover()
					Expect(callText(cs, "read_text_file", map[string]any{"path": filepath.Join(dir, file)})).To(Equal("content of " + strings.TrimSuffix(file, ".txt")))
				})
			}
		}
		wg.Wait()
	})

	It("gives the child its credential in its environment, and nothing of the sidecar's own", func() {
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", childOf(sidecar.Process.Pid)))
		Expect(err).NotTo(HaveOccurred())
		vars := strings.Split(string(environ), "\x00")
		Expect(vars).To(ContainElement("FILES_TOKEN=" + filesCredential))
		Expect(vars).NotTo(ContainElement(HavePrefix("AIRLOCK_E2E_SIDECAR_ONLY=")))
		Expect(vars).NotTo(ContainElement(HavePrefix("KUBEBUILDER_ASSETS=")))
		Expect(log.String()).NotTo(ContainSubstring(filesCredential))
	})

	It("answers a call in flight when the child is killed, then serves again from a new child", func() {
		cs := connect()
		pid := childOf(sidecar.Process.Pid)
		// Stopped, the child holds the call; killed, it never answers it.
		Expect(syscall.Kill(pid, syscall.SIGSTOP)).To(Succeed())
		DeferCleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
		const decision = `"msg":"call allowed"`
		decisions := strings.Count(log.String(), decision)
		errc := make(chan error, 1)
		go func() {
			_, err := callText(cs, "read_text_file", map[string]any{"path": filepath.Join(dir, "a.txt")})
			errc <- err
		}()
		// The sidecar logs the decision just before it forwards the call.
		Eventually(func() int { return strings.Count(log.String(), decision) }).Should(BeNumerically(">", decisions))
		time.Sleep(200 * time.Millisecond)
		Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
		var err error
		Eventually(errc).WithTimeout(30 * time.Second).Should(Receive(&err))
		Expect(err).To(MatchError(ContainSubstring("the MCP server process exited; restarting")))

		Eventually(func() (string, error) {
			return callText(cs, "read_text_file", map[string]any{"path": filepath.Join(dir, "hello.txt")})
		}).WithTimeout(60 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal("hello from the stdio server"))
		Expect(childOf(sidecar.Process.Pid)).NotTo(Equal(pid))
	})
})

// childOf is the pid of the one child process of parent.
func childOf(parent int) int {
	var children []int
	entries, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(parent) {
			children = append(children, pid)
		}
	}
	Expect(children).To(HaveLen(1), "children of the sidecar")
	return children[0]
}

// syncBuffer collects a process's output for the test to search.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
