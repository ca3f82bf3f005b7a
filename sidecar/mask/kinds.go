package mask

import (
	"iter"
	"slices"
)

// kind identifies what a replacement stands for. Built-in kinds come first;
// custom patterns are numbered from numKinds on, in Config order.
type kind uint16

const (
	kAWSAccessKey kind = iota
	kAWSSecretKey
	kGitHubToken
	kGitLabToken
	kSlackToken
	kSlackWebhook
	kStripeKey
	kGoogleAPIKey
	kOpenAIKey
	kPrivateKey
	kJWT
	kBearerToken
	kBasicAuth
	kCredential
	kEmail
	kCreditCard
	kSSN
	kIBAN
	kPhone
	kIPAddress
	kField
	numKinds
)

// kindNames are the {kind} placeholder values and the Stats keys; the proxy
// uses them as the detector label, so they must stay few and stable.
var kindNames = [numKinds]string{
	kAWSAccessKey: "awsAccessKey",
	kAWSSecretKey: "awsSecretKey",
	kGitHubToken:  "githubToken",
	kGitLabToken:  "gitlabToken",
	kSlackToken:   "slackToken",
	kSlackWebhook: "slackWebhook",
	kStripeKey:    "stripeKey",
	kGoogleAPIKey: "googleAPIKey",
	kOpenAIKey:    "openAIKey",
	kPrivateKey:   "privateKey",
	kJWT:          "jwt",
	kBearerToken:  "bearerToken",
	kBasicAuth:    "basicAuth",
	kCredential:   "credential",
	kEmail:        "email",
	kCreditCard:   "creditCard",
	kSSN:          "ssn",
	kIBAN:         "iban",
	kPhone:        "phone",
	kIPAddress:    "ipAddress",
	kField:        "field",
}

// secretKinds make up the "secrets" detector group.
var secretKinds = []kind{
	kAWSAccessKey, kAWSSecretKey, kGitHubToken, kGitLabToken, kSlackToken,
	kSlackWebhook, kStripeKey, kGoogleAPIKey, kOpenAIKey, kPrivateKey, kJWT,
	kBearerToken, kBasicAuth, kCredential,
}

// detectorKinds resolves a Config.Detectors entry (case-insensitive): the
// group "secrets" or the name of any built-in kind except "field".
func detectorKinds(name string) ([]kind, bool) {
	for _, g := range []string{"secrets", "secret"} {
		if equalFold(name, g) {
			return secretKinds, true
		}
	}
	for k := range kField {
		if equalFold(name, kindNames[k]) {
			return []kind{k}, true
		}
	}
	return nil, false
}

// DetectorNames lists the names Config.Detectors accepts: the group
// "secrets" followed by every individual detector.
func DetectorNames() []string {
	names := []string{"secrets"}
	for k := range kField {
		names = append(names, kindNames[k])
	}
	return names
}

// Stats counts replacements by kind: a detector name (see DetectorNames),
// "field" for Config.Fields, or a custom Pattern's name. The zero value is
// empty and counting built-in kinds never allocates.
type Stats struct {
	builtin [numKinds]uint32
	custom  map[string]int // allocated on the first custom-pattern hit
}

// Total is the number of replacements.
func (s Stats) Total() int {
	n := 0
	for _, c := range s.builtin {
		n += int(c)
	}
	for _, c := range s.custom {
		n += c
	}
	return n
}

// Count is the number of replacements of one kind.
func (s Stats) Count(kind string) int {
	for k, name := range kindNames {
		if name == kind {
			return int(s.builtin[k])
		}
	}
	return s.custom[kind]
}

// All yields each kind with a non-zero count: built-in kinds in a fixed
// order, then custom patterns by name.
func (s Stats) All() iter.Seq2[string, int] {
	return func(yield func(string, int) bool) {
		for k, c := range s.builtin {
			if c != 0 && !yield(kindNames[k], int(c)) {
				return
			}
		}
		if len(s.custom) == 0 {
			return
		}
		names := make([]string, 0, len(s.custom))
		for name := range s.custom {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if !yield(name, s.custom[name]) {
				return
			}
		}
	}
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	for k, c := range o.builtin {
		s.builtin[k] += c
	}
	for name, c := range o.custom {
		if s.custom == nil {
			s.custom = make(map[string]int, len(o.custom))
		}
		s.custom[name] += c
	}
}

func (s *Stats) add(m *Masker, k kind) {
	if k < numKinds {
		s.builtin[k]++
		return
	}
	if s.custom == nil {
		s.custom = make(map[string]int, 1)
	}
	s.custom[m.patterns[k-numKinds].name]++
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
