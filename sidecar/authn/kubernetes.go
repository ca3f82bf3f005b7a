package authn

import (
	"context"
	"errors"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
)

// kubeIssuer asks the API server, with a TokenReview, whether a
// service-account token is valid for one of its audiences.
type kubeIssuer struct {
	name      string
	audiences []string
	reviews   authenticationv1client.TokenReviewInterface
}

func (k *kubeIssuer) review(ctx context.Context, raw string) (*Identity, error) {
	tr, err := k.reviews.Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: raw, Audiences: k.audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, newError(ReasonIssuerUnavailable, err)
	}
	st := tr.Status
	if !st.Authenticated {
		var cause error
		if st.Error != "" {
			cause = errors.New(st.Error)
		}
		return nil, newError(ReasonUnauthenticated, cause)
	}
	// An API server that ignores spec.audiences (or a token bound to none of
	// ours) returns no matching audience: refuse rather than trust it.
	if !slices.ContainsFunc(st.Audiences, func(a string) bool { return slices.Contains(k.audiences, a) }) {
		return nil, newError(ReasonWrongAudience, nil)
	}
	if st.User.Username == "" {
		return nil, claimError("username")
	}
	claims := map[string]any{
		"sub":    st.User.Username,
		"aud":    toAny(st.Audiences),
		"groups": toAny(st.User.Groups),
	}
	if st.User.UID != "" {
		claims["uid"] = st.User.UID
	}
	if len(st.User.Extra) > 0 {
		extra := make(map[string]any, len(st.User.Extra))
		for key, v := range st.User.Extra {
			extra[key] = toAny(v)
		}
		claims["extra"] = extra
	}
	return &Identity{
		Issuer:  k.name,
		Subject: st.User.Username,
		Groups:  slices.Clone(st.User.Groups),
		Claims:  claims,
	}, nil
}

// toAny shapes a string list like a decoded JSON claim, so policies see
// Kubernetes and OIDC claims alike.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
