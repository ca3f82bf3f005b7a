package authn

import (
	"errors"
	"net/http"
	"strings"
)

// Reason says why a request was not authenticated. Values are stable and
// few, so they suit metric labels and tests.
type Reason string

const (
	ReasonMissingToken         Reason = "missing_token"
	ReasonUnsupportedScheme    Reason = "unsupported_scheme"
	ReasonInvalidRequest       Reason = "invalid_request"
	ReasonMalformed            Reason = "malformed"
	ReasonUnsupportedAlgorithm Reason = "unsupported_algorithm"
	ReasonUnknownIssuer        Reason = "unknown_issuer"
	ReasonUnknownKey           Reason = "unknown_key"
	ReasonBadSignature         Reason = "bad_signature"
	ReasonExpired              Reason = "expired"
	ReasonNotYetValid          Reason = "not_yet_valid"
	ReasonWrongAudience        Reason = "wrong_audience"
	ReasonInvalidClaim         Reason = "invalid_claim"
	ReasonUnauthenticated      Reason = "unauthenticated"
	ReasonIssuerUnavailable    Reason = "issuer_unavailable"
	ReasonInsufficientScope    Reason = "insufficient_scope"
)

// RFC 6750 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

var descriptions = map[Reason]string{
	ReasonMissingToken:         "no bearer token was presented",
	ReasonUnsupportedScheme:    "the Authorization header must use the Bearer scheme",
	ReasonInvalidRequest:       "the request carries more than one Authorization header",
	ReasonMalformed:            "the access token is not a well-formed signed JWT",
	ReasonUnsupportedAlgorithm: "the access token is signed with an algorithm that is not accepted",
	ReasonUnknownIssuer:        "the access token was issued by an issuer this server does not trust",
	ReasonUnknownKey:           "the access token is signed with a key the issuer does not publish",
	ReasonBadSignature:         "the access token signature is invalid",
	ReasonExpired:              "the access token expired",
	ReasonNotYetValid:          "the access token is not valid yet",
	ReasonWrongAudience:        "the access token was not issued for this resource",
	ReasonInvalidClaim:         "the access token has a missing or malformed claim",
	ReasonUnauthenticated:      "the service account token was rejected",
	ReasonIssuerUnavailable:    "the token issuer cannot be reached; try again later",
	ReasonInsufficientScope:    "the access token lacks a required scope",
}

// Error is why a request was refused. Description and Error never contain
// the token.
type Error struct {
	Reason Reason
	// Description is a short sentence for the caller (error_description).
	Description string
	// Scope lists the scopes required, space separated (insufficient_scope only).
	Scope string
	cause error
}

func newError(r Reason, cause error) *Error {
	return &Error{Reason: r, Description: descriptions[r], cause: cause}
}

// InsufficientScope is the error for a verified caller whose token lacks the
// scopes an operation requires.
func InsufficientScope(scopes ...string) *Error {
	return &Error{Reason: ReasonInsufficientScope, Description: descriptions[ReasonInsufficientScope], Scope: strings.Join(scopes, " ")}
}

func (e *Error) Error() string {
	msg := "authn: " + string(e.Reason) + ": " + e.Description
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the internal cause, for logs; it is not for the caller.
func (e *Error) Unwrap() error { return e.cause }

// Code is the RFC 6750 error code, or "" when the request carried no bearer
// token at all (RFC 6750 §3.1: then no error code is sent).
func (e *Error) Code() string {
	switch e.Reason {
	case ReasonMissingToken, ReasonUnsupportedScheme:
		return ""
	case ReasonInvalidRequest:
		return CodeInvalidRequest
	case ReasonInsufficientScope:
		return CodeInsufficientScope
	default:
		return CodeInvalidToken
	}
}

// HTTPStatus is the status the proxy should answer with.
func (e *Error) HTTPStatus() int {
	switch e.Reason {
	case ReasonInvalidRequest:
		return http.StatusBadRequest
	case ReasonInsufficientScope:
		return http.StatusForbidden
	case ReasonIssuerUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusUnauthorized
	}
}

// WWWAuthenticate builds the WWW-Authenticate header for a refused request:
//
//	Bearer resource_metadata="…", error="invalid_token", error_description="…"
//
// metadataURL is the RFC 9728 metadata URL of this resource. An err that is
// not an *Error is reported as a generic invalid_token.
func WWWAuthenticate(metadataURL string, err error) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		sep = ", "
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quotable(value))
		b.WriteString(`"`)
	}
	if metadataURL != "" {
		param("resource_metadata", metadataURL)
	}
	var e *Error
	if err != nil && !errors.As(err, &e) {
		e = &Error{Reason: ReasonMalformed, Description: "the access token could not be verified"}
	}
	if e == nil || e.Code() == "" {
		return b.String()
	}
	param("error", e.Code())
	if e.Description != "" {
		param("error_description", e.Description)
	}
	if e.Scope != "" {
		param("scope", e.Scope)
	}
	return b.String()
}

// quotable drops what RFC 6750 does not allow inside its quoted values
// (%x20-21 / %x23-5B / %x5D-7E): no quote, no backslash, no control bytes.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
