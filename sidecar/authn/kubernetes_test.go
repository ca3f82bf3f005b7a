package authn_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fakeauthenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// saToken looks like a bound service-account token. Its signature is never
// checked here: the fake API server answers whatever the spec says.
func saToken(claims map[string]any) string {
	seg := func(v any) string {
		b, err := json.Marshal(v)
		Expect(err).NotTo(HaveOccurred())
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return seg(map[string]any{"alg": "RS256", "kid": "cluster-key"}) + "." + seg(claims) + ".c2lnbmF0dXJl"
}

// Pure logic only: a fake TokenReview client stands in for the API server, so
// these specs cover how a review's answer is mapped and checked, not whether
// real tokens verify (that is the envtest suite's job, with TokenRequest tokens).
var _ = Describe("Kubernetes issuer (pure logic, fake TokenReview client)", Label("pure-logic"), func() {
	var (
		ctx     context.Context
		fake    *fakeauthenticationv1.FakeAuthenticationV1
		reviews []authenticationv1.TokenReviewSpec
		answer  authenticationv1.TokenReviewStatus
		apiErr  error
		a       *authn.Authenticator
		tok     string
	)

	BeforeEach(func() {
		ctx = context.Background()
		reviews, apiErr = nil, nil
		answer = authenticationv1.TokenReviewStatus{
			Authenticated: true,
			Audiences:     []string{"https://mcp.example.com/mcp"},
			User: authenticationv1.UserInfo{
				Username: "system:serviceaccount:ci:deployer",
				UID:      "5b0c…",
				Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"},
				Extra: map[string]authenticationv1.ExtraValue{
					"authentication.kubernetes.io/pod-name": {"deployer-7d9f"},
				},
			},
		}
		fake = &fakeauthenticationv1.FakeAuthenticationV1{Fake: &k8stesting.Fake{}}
		fake.PrependReactor("create", "tokenreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
			tr := action.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
			reviews = append(reviews, tr.Spec)
			if apiErr != nil {
				return true, nil, apiErr
			}
			out := tr.DeepCopy()
			out.Status = answer
			return true, out, nil
		})
		var err error
		a, err = authn.New(ctx, authn.Config{
			Resource: "https://mcp.example.com/mcp",
			Issuers:  []authn.IssuerConfig{{Name: "cluster", Kubernetes: &authn.KubernetesConfig{}}},
		}, authn.WithTokenReviews(fake))
		Expect(err).NotTo(HaveOccurred())
		tok = saToken(map[string]any{
			"iss":           "https://kubernetes.default.svc.cluster.local",
			"sub":           "system:serviceaccount:ci:deployer",
			"aud":           []string{"https://mcp.example.com/mcp"},
			"kubernetes.io": map[string]any{"namespace": "ci"},
		})
	})

	It("maps the reviewed user to an Identity and asks for the resource as audience", func() {
		id, err := a.Authenticate(ctx, bearer(tok))
		Expect(err).NotTo(HaveOccurred())
		Expect(reviews).To(HaveLen(1))
		Expect(reviews[0].Token).To(Equal(tok))
		Expect(reviews[0].Audiences).To(Equal([]string{"https://mcp.example.com/mcp"}))

		Expect(id.Issuer).To(Equal("cluster"))
		Expect(id.Subject).To(Equal("system:serviceaccount:ci:deployer"))
		Expect(id.Groups).To(ConsistOf("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"))
		Expect(id.Scopes).To(BeEmpty())
		Expect(id.Claims).To(HaveKeyWithValue("sub", "system:serviceaccount:ci:deployer"))
		Expect(id.Claims).To(HaveKeyWithValue("uid", "5b0c…"))
		Expect(id.Claims).To(HaveKeyWithValue("extra", HaveKeyWithValue("authentication.kubernetes.io/pod-name", ConsistOf("deployer-7d9f"))))
		for _, v := range id.Claims {
			Expect(v).NotTo(Equal(tok))
		}
	})

	It("routes legacy service-account tokens to TokenReview too", func() {
		_, err := a.Authenticate(ctx, bearer(saToken(map[string]any{"iss": "kubernetes/serviceaccount", "sub": "x"})))
		Expect(err).NotTo(HaveOccurred())
		Expect(reviews).To(HaveLen(1))
	})

	It("refuses a token the API server does not authenticate, without quoting it", func() {
		answer = authenticationv1.TokenReviewStatus{Error: "[invalid bearer token, service account token has expired]"}
		_, err := a.Authenticate(ctx, bearer(tok))
		Expect(reasonOf(err)).To(Equal(authn.ReasonUnauthenticated))
		Expect(err.Error()).NotTo(ContainSubstring(tok))
	})

	It("refuses when the reviewed audiences do not include a configured one", func() {
		answer.Audiences = []string{"https://kubernetes.default.svc"}
		_, err := a.Authenticate(ctx, bearer(tok))
		Expect(reasonOf(err)).To(Equal(authn.ReasonWrongAudience))
	})

	It("refuses when the API server returns no audiences at all", func() {
		answer.Audiences = nil
		_, err := a.Authenticate(ctx, bearer(tok))
		Expect(reasonOf(err)).To(Equal(authn.ReasonWrongAudience))
	})

	It("refuses an authenticated review without a username", func() {
		answer.User.Username = ""
		_, err := a.Authenticate(ctx, bearer(tok))
		Expect(reasonOf(err)).To(Equal(authn.ReasonInvalidClaim))
	})

	It("fails closed when the TokenReview call fails", func() {
		apiErr = errors.New("connection refused")
		_, err := a.Authenticate(ctx, bearer(tok))
		Expect(reasonOf(err)).To(Equal(authn.ReasonIssuerUnavailable))
	})

	It("does not send tokens of other issuers to the API server", func() {
		_, err := a.Authenticate(ctx, bearer(saToken(map[string]any{"iss": "https://elsewhere.example", "sub": "x"})))
		Expect(reasonOf(err)).To(Equal(authn.ReasonUnknownIssuer))
		Expect(reviews).To(BeEmpty())
	})

	It("refuses to build without a TokenReview client", func() {
		_, err := authn.New(ctx, authn.Config{
			Resource: "https://mcp.example.com/mcp",
			Issuers:  []authn.IssuerConfig{{Name: "cluster", Kubernetes: &authn.KubernetesConfig{}}},
		})
		Expect(err).To(MatchError(ContainSubstring("TokenReview")))
	})
})
