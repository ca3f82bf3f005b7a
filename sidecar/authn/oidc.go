package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// oidcIssuer verifies JWT access tokens of one configured OIDC issuer.
type oidcIssuer struct {
	name      string
	url       string
	audiences []string
	mappings  ClaimMappings
	remote    *remoteIssuer // shared through the Cache
}

func (i *oidcIssuer) verify(ctx context.Context, raw string, now time.Time) (*Identity, error) {
	v, err := i.remote.verifier(ctx)
	if err != nil {
		return nil, newError(ReasonIssuerUnavailable, err)
	}
	// go-oidc flattens the key set's errors into strings; the key set
	// reports its reason here instead.
	var sf sigFailure
	tok, err := v.Verify(context.WithValue(ctx, sigFailureKey{}, &sf), raw)
	if err != nil {
		if sf.reason != "" {
			return nil, newError(sf.reason, sf.err)
		}
		return nil, newError(ReasonMalformed, err)
	}

	// The verifier skips its own expiry check (no leeway on exp, five minutes
	// on nbf); both are checked here with the same small leeway.
	if tok.Expiry.IsZero() {
		return nil, claimError("exp")
	}
	if now.After(tok.Expiry.Add(leeway)) {
		return nil, newError(ReasonExpired, nil)
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return nil, newError(ReasonMalformed, err)
	}
	if v, ok := claims["nbf"]; ok {
		nbf, ok := v.(float64)
		if !ok {
			return nil, claimError("nbf")
		}
		if now.Add(leeway).Before(time.Unix(int64(nbf), 0)) {
			return nil, newError(ReasonNotYetValid, nil)
		}
	}
	// go-oidc's ClientID check accepts one audience; any configured one will do.
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(i.audiences, a) }) {
		return nil, newError(ReasonWrongAudience, nil)
	}
	return i.mappings.identity(i.name, claims)
}

// identity builds the Identity from verified claims.
func (m ClaimMappings) identity(issuer string, claims map[string]any) (*Identity, error) {
	sub, _ := claims[m.Subject].(string)
	if sub == "" {
		return nil, claimError(m.Subject)
	}
	groups, ok := stringList(claims[m.Groups], false)
	if !ok {
		return nil, claimError(m.Groups)
	}
	scopeClaim := m.Scopes
	if _, present := claims[scopeClaim]; !present {
		scopeClaim = "scope"
	}
	scopes, ok := stringList(claims[scopeClaim], true)
	if !ok {
		return nil, claimError(scopeClaim)
	}
	return &Identity{Issuer: issuer, Subject: sub, Groups: groups, Scopes: scopes, Claims: claims}, nil
}

// claimError names the claim (from configuration, not from the token).
func claimError(name string) *Error {
	e := newError(ReasonInvalidClaim, nil)
	e.Description = fmt.Sprintf("the access token has a missing or malformed %s claim", quotable(name))
	return e
}

// stringList reads a claim that is an array of strings or a single string
// (split on spaces when split is set). Absent is empty; any other shape is
// refused rather than ignored, since deny rules may match on it.
func stringList(v any, split bool) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		if split {
			return strings.Fields(v), true
		}
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	default:
		return nil, false
	}
}

// sigFailure carries the key set's verdict out of go-oidc's Verify.
type sigFailure struct {
	reason Reason
	err    error
}

type sigFailureKey struct{}

// failSignature records why signature verification failed and returns err.
func failSignature(ctx context.Context, r Reason, err error) error {
	if sf, ok := ctx.Value(sigFailureKey{}).(*sigFailure); ok {
		sf.reason, sf.err = r, err
	}
	if err == nil {
		err = errors.New(string(r))
	}
	return err
}
