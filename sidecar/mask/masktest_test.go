package mask

import (
	"strings"
	"testing"

	"github.com/mcp-airlock/airlock/sidecar/mask/masktest"
)

func TestBenchmarkDocuments(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	for _, tc := range []struct {
		name string
		doc  []byte
		hits int
	}{
		{"clean", masktest.Doc(64<<10, 0), 0},
		{"hits", masktest.Doc(64<<10, 20), 20},
		{"tools/call", masktest.ToolsCallResponse(), 4},
	} {
		out, stats, err := m.Message(nil, tc.doc)
		if err != nil || stats.Total() != tc.hits {
			t.Errorf("%s: %d hits (%v), want %d: %v", tc.name, stats.Total(), err, tc.hits, collect(stats))
		}
		for _, s := range masktest.Secrets {
			if strings.Contains(string(out), s) {
				t.Errorf("%s: %q survived", tc.name, s)
			}
		}
		assertSameShape(t, tc.doc, out)
	}
	if n := len(masktest.ToolsCallResponse()); n < 3500 || n > 5000 {
		t.Errorf("tools/call response is %d bytes, want about 4 KiB", n)
	}
}
