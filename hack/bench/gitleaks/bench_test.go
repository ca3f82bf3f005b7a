package gitleaks

import (
	"testing"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"

	"github.com/mcp-airlock/airlock/sidecar/mask"
	"github.com/mcp-airlock/airlock/sidecar/mask/masktest"
)

func init() { logging.Logger = zerolog.Nop() }

var inputs = []struct {
	name string
	doc  []byte
}{
	{"JSON64KClean", masktest.Doc(64<<10, 0)},
	{"JSON64KHits", masktest.Doc(64<<10, 20)},
	{"ToolsCall4K", masktest.ToolsCallResponse()},
}

func newGitleaks(tb testing.TB) *detect.Detector {
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func newMasker(tb testing.TB, detectors ...string) *mask.Masker {
	if len(detectors) == 0 {
		detectors = []string{"secrets", "email", "creditCard", "phone", "ssn", "iban", "ipAddress"}
	}
	m, err := mask.New(mask.Config{Detectors: detectors})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkGitleaks runs gitleaks' default rules (DetectBytes, library
// defaults: no decoding passes) over each document. It only finds; it
// does not rewrite.
func BenchmarkGitleaks(b *testing.B) {
	d := newGitleaks(b)
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.doc)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(d.DetectBytes(in.doc))
			}
			b.ReportMetric(float64(n), "findings")
		})
	}
}

// BenchmarkAirlock runs mask.Message (find and rewrite) over the same
// documents, with every detector and with secrets only (gitleaks' scope).
func BenchmarkAirlock(b *testing.B) {
	for _, set := range []struct {
		name      string
		detectors []string
	}{{"all", nil}, {"secrets", []string{"secrets"}}} {
		m := newMasker(b, set.detectors...)
		for _, in := range inputs {
			b.Run(set.name+"/"+in.name, func(b *testing.B) {
				dst := make([]byte, 0, 2*len(in.doc))
				b.SetBytes(int64(len(in.doc)))
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					_, stats, err := m.Message(dst, in.doc)
					if err != nil {
						b.Fatal(err)
					}
					n = stats.Total()
				}
				b.ReportMetric(float64(n), "findings")
			})
		}
	}
}

// TestFindings logs which planted values each tool reports.
func TestFindings(t *testing.T) {
	d := newGitleaks(t)
	m := newMasker(t)
	for _, in := range inputs {
		var rules []string
		for _, f := range d.DetectBytes(in.doc) {
			rules = append(rules, f.RuleID)
		}
		_, stats, err := m.Message(nil, in.doc)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for k, n := range stats.All() {
			kinds[k] = n
		}
		t.Logf("%s: gitleaks %d %v; airlock %d %v", in.name, len(rules), rules, stats.Total(), kinds)
	}
}
