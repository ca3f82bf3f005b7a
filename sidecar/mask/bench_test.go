package mask

import (
	"testing"

	"github.com/mcp-airlock/airlock/sidecar/mask/masktest"
)

// go test -run x -bench . -benchmem -cpu 1 ./sidecar/mask/

func benchMasker(b *testing.B) *Masker {
	return mustNew(b, Config{Detectors: allDetectors, Fields: []string{"password", "user.ssn"}})
}

func benchJSON(b *testing.B, doc []byte, wantHits int, msg bool) {
	m := benchMasker(b)
	dst := make([]byte, 0, 2*len(doc))
	if _, stats, err := m.walk(dst, doc, msg); err != nil || stats.Total() != wantHits {
		b.Fatalf("%d hits (%v), want %d", stats.Total(), err, wantHits)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, _, _ = m.walk(dst, doc, msg)
	}
}

func BenchmarkJSON64KClean(b *testing.B) { benchJSON(b, masktest.Doc(64<<10, 0), 0, false) }

func BenchmarkJSON64KHits(b *testing.B) { benchJSON(b, masktest.Doc(64<<10, 20), 20, false) }

func BenchmarkMessageToolsCall4K(b *testing.B) {
	benchJSON(b, masktest.ToolsCallResponse(), 4, true)
}

func BenchmarkText64KClean(b *testing.B) {
	m := benchMasker(b)
	doc := masktest.Doc(64<<10, 0)
	var text []byte // the same prose as plain text: the JSON strings' contents
	_, _, _ = m.JSON(nil, doc)
	for _, c := range doc {
		if c != '"' {
			text = append(text, c)
		}
	}
	dst := make([]byte, 0, 2*len(text))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Text(dst, text)
	}
}
