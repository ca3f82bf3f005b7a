package mask

import (
	"bytes"
	"encoding/json"
	"testing"
)

func fuzzMaskers(t testing.TB) (full, detectorsOnly *Masker) {
	full = mustNew(t, Config{
		Detectors: allDetectors,
		Fields:    []string{"password", "user.ssn", "items.*.token", "$.a.0", "/b/c"},
		Patterns:  []Pattern{{Name: "ticket", Regex: `T-\d{3,}`}, {Name: "dot", Regex: `x(\.)`}},
		HashKey:   []byte("fuzzing key of 16+ bytes"),
	})
	detectorsOnly = mustNew(t, Config{Detectors: allDetectors})
	return full, detectorsOnly
}

func addSeeds(f *testing.F) {
	for _, tc := range textCases {
		f.Add([]byte(tc.in))
		doc, _ := json.Marshal(map[string]any{"v": tc.in, "n": []any{1.5, true, nil, tc.in}})
		f.Add(doc)
	}
	f.Add([]byte(mcpResult))
	f.Add([]byte(`{"t":"{\"inner\":\"{\\\"pw\\\":1}\"}","password":[1,{"a":2}],"a":[3],"b":{"c":null}}`))
	f.Add([]byte(`"\ud800\udc00\u0000\\\"" `))
}

// FuzzMaskJSON: JSON and Message never panic, accept exactly what
// json.Valid accepts, always produce valid JSON, keep the document's shape
// when no field rule applies, and grow by at most MaxGrowth()+8 per byte.
func FuzzMaskJSON(f *testing.F) {
	addSeeds(f)
	full, det := fuzzMaskers(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		valid := json.Valid(in)
		for _, m := range []*Masker{full, det} {
			for _, msg := range []bool{false, true} {
				out, stats, err := m.walk(nil, in, msg)
				if (err == nil) != valid {
					t.Fatalf("json.Valid = %v but err = %v", valid, err)
				}
				if err != nil {
					continue
				}
				if !json.Valid(out) {
					t.Fatalf("invalid output %q from %q", out, in)
				}
				if bound := (m.MaxGrowth() + 8) * len(in); len(out) > bound {
					t.Fatalf("output %d bytes > bound %d", len(out), bound)
				}
				if (stats.Total() == 0) != bytes.Equal(out, in) {
					t.Fatalf("%d hits but output changed = %v", stats.Total(), !bytes.Equal(out, in))
				}
				if m == det {
					assertSameShape(t, in, out)
				}
			}
		}
	})
}

// FuzzMaskText: Text never panics, changes the input exactly when it
// reports hits and grows by at most MaxGrowth() per byte; SSEEvent never
// panics on arbitrary bytes.
func FuzzMaskText(f *testing.F) {
	addSeeds(f)
	full, det := fuzzMaskers(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, m := range []*Masker{full, det} {
			out, stats := m.Text(nil, in)
			if len(out) > m.MaxGrowth()*len(in) {
				t.Fatalf("output %d bytes > bound %d", len(out), m.MaxGrowth()*len(in))
			}
			if (stats.Total() == 0) != bytes.Equal(out, in) {
				t.Fatalf("%d hits but output changed = %v", stats.Total(), !bytes.Equal(out, in))
			}
			ev, _ := m.SSEEvent(nil, in)
			if len(ev) > 0 && len(in) == 0 {
				t.Fatalf("SSEEvent made something of nothing")
			}
		}
	})
}
