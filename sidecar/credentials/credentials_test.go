package credentials

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

func secrets(data map[string]string) SecretValue {
	return func(name, key string) ([]byte, error) {
		v, ok := data[name+"/"+key]
		if !ok {
			return nil, fmt.Errorf("secret %s key %s: %w", name, key, ErrMissing)
		}
		return []byte(v), nil
	}
}

func inGroup(g string) func(string) (Matcher, error) {
	return func(string) (Matcher, error) {
		return func(id *authn.Identity) bool { return slices.Contains(id.Groups, g) }, nil
	}
}

func TestApplyPicksTheFirstMatchingCredential(t *testing.T) {
	spec := []v1alpha1.UpstreamCredential{
		{Name: "admin", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "admin"}, When: "'admins' in identity.groups"},
		{Name: "reader", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "reader"}, Header: "X-Api-Key", Format: "{value}"},
	}
	set, err := Build(spec, secrets(map[string]string{"s/admin": "admin-token\n", "s/reader": "reader-token"}), inGroup("admins"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if got := set.Apply(h, &authn.Identity{Groups: []string{"admins"}}); got != "admin" {
		t.Fatalf("admin caller got credential %q", got)
	}
	if got := h.Get("Authorization"); got != "Bearer admin-token" {
		t.Fatalf("Authorization = %q, want the trimmed, formatted secret", got)
	}
	h = http.Header{}
	if got := set.Apply(h, &authn.Identity{}); got != "reader" {
		t.Fatalf("other caller got credential %q", got)
	}
	if h.Get("X-Api-Key") != "reader-token" || h.Get("Authorization") != "" {
		t.Fatalf("headers = %v", h)
	}
	if hs := set.Headers(); !slices.Equal(hs, []string{"Authorization", "X-Api-Key"}) {
		t.Fatalf("Headers() = %v", hs)
	}
}

func TestBuildRefusesMissingSecretsWithoutValues(t *testing.T) {
	spec := []v1alpha1.UpstreamCredential{{Name: "c", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "k"}}}
	_, err := Build(spec, secrets(nil), nil)
	if err == nil || !strings.Contains(err.Error(), "credential c") {
		t.Fatalf("err = %v, want one naming the credential", err)
	}
}

func TestBuildRefusesHeaderInjection(t *testing.T) {
	spec := []v1alpha1.UpstreamCredential{{Name: "c", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "k"}}}
	_, err := Build(spec, secrets(map[string]string{"s/k": "a\r\nX-Evil: 1"}), nil)
	if err == nil || strings.Contains(err.Error(), "Evil") {
		t.Fatalf("err = %v, want a refusal that does not echo the value", err)
	}
}

func TestCredentialNeverPrintsItsValue(t *testing.T) {
	spec := []v1alpha1.UpstreamCredential{{Name: "c", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "k"}, Env: "API_KEY"}}
	set, err := Build(spec, secrets(map[string]string{"s/k": "hunter2"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := set.For(&authn.Identity{})
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v", *c), fmt.Sprintf("%s", c)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("printed %q", s)
		}
	}
	if env := set.Env(); !slices.Equal(env, []string{"API_KEY=hunter2"}) {
		t.Fatalf("Env() = %v", env)
	}
	// The API server defaults header to Authorization even for env credentials.
	spec[0].Header = "Authorization"
	set, err = Build(spec, secrets(map[string]string{"s/k": "hunter2"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	set.Apply(h, &authn.Identity{})
	if len(h) != 0 || len(set.Headers()) != 0 {
		t.Fatalf("an env credential went into a header: %v", h)
	}
}
