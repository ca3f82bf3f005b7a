package certs

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cert := func(notBefore, notAfter time.Time) *x509.Certificate {
		return &x509.Certificate{NotBefore: notBefore, NotAfter: notAfter}
	}
	cases := []struct {
		name string
		cert *x509.Certificate
		want bool
	}{
		{"a year left", cert(now.Add(-day), now.Add(365*day)), false},
		{"31 days left", cert(now.Add(-300*day), now.Add(31*day)), false},
		{"29 days left", cert(now.Add(-300*day), now.Add(29*day)), true},
		{"expired", cert(now.Add(-300*day), now.Add(-time.Second)), true},
		{"not yet valid", cert(now.Add(time.Hour), now.Add(365*day)), true},
		{"a 10-day certificate at day 4 (renewed at half its life)", cert(now.Add(-4*day), now.Add(6*day)), false},
		{"a 10-day certificate at day 6", cert(now.Add(-6*day), now.Add(4*day)), true},
	}
	for _, tc := range cases {
		if got := due(tc.cert, now, 30*day); got != tc.want {
			t.Errorf("%s: due = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRenewLeavesAFreshSecretAlone(t *testing.T) {
	r, err := New(nil, Options{Namespace: "ns", SecretName: "s", CertDir: t.TempDir(), DNSNames: ServiceDNSNames("svc", "ns")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	data, why, err := r.renew(nil, now)
	if err != nil || why != "no valid CA" {
		t.Fatalf("renew(nil) = %q, %v", why, err)
	}
	if _, why, _ := r.renew(data, now.Add(time.Hour)); why != "" {
		t.Errorf("renewing a fresh Secret changed it: %s", why)
	}
	data[KeyKey] = []byte("garbage")
	if _, why, _ := r.renew(data, now); why != "no valid serving certificate" {
		t.Errorf("a broken key: %q", why)
	}
}
