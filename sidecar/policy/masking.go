package policy

import (
	"slices"

	"github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// Masking returns the redaction for the caller's responses: the masking of
// every policy that covers the caller (or may cover it: a subject
// expression that fails turns masking on), merged as the union of their
// detectors, fields and patterns, with the replacement and hash key of the
// first policy (by name) that sets them. It returns nil when no masking
// applies, and the policy's own value, without copying, when one policy
// contributes: the result must not be modified.
func (s *Set) Masking(id *authn.Identity) *v1alpha1.Masking {
	if s == nil || id == nil {
		return nil
	}
	ev := evaluator{id: id}
	ev.init(len(s.policies))
	defer ev.release()
	var first, merged *v1alpha1.Masking
	for _, p := range s.policies {
		if p.masking == nil {
			continue
		}
		if c, _ := ev.covers(p); c == covNo {
			continue
		}
		switch {
		case first == nil:
			first = p.masking
		case merged == nil:
			merged = first.DeepCopy()
			fallthrough
		default:
			mergeMasking(merged, p.masking)
		}
	}
	if merged != nil {
		return merged
	}
	return first
}

func mergeMasking(dst, src *v1alpha1.Masking) {
	for _, d := range src.Detectors {
		if !slices.Contains(dst.Detectors, d) {
			dst.Detectors = append(dst.Detectors, d)
		}
	}
	for _, f := range src.Fields {
		if !slices.Contains(dst.Fields, f) {
			dst.Fields = append(dst.Fields, f)
		}
	}
	for _, p := range src.Patterns {
		if !slices.Contains(dst.Patterns, p) {
			dst.Patterns = append(dst.Patterns, p)
		}
	}
	if dst.Replacement == "" {
		dst.Replacement = src.Replacement
	}
	if dst.HashKeySecretRef == nil && src.HashKeySecretRef != nil {
		ref := *src.HashKeySecretRef
		dst.HashKeySecretRef = &ref
	}
}
