package stdio

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", 11)
	for _, tc := range []struct {
		name, in string
		lines    []string
		tooLong  []int
	}{
		{"newline-delimited", "a\nbb\n", []string{"a", "bb"}, nil},
		{"last line without newline", "a\nbb", []string{"a", "bb"}, nil},
		{"CRLF and empty lines", "a\r\n\r\n\nb\n", []string{"a", "b"}, nil},
		{"exactly the limit", "0123456789\n0123456789", []string{"0123456789", "0123456789"}, nil},
		{"over the limit, then on", long + "\nok\n", []string{"ok"}, []int{12}},
		{"over the limit at the end", "ok\n" + long, []string{"ok"}, []int{11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, small := range []bool{false, true} {
				var lines []string
				var tooLong []int
				var rd io.Reader = strings.NewReader(tc.in)
				if small {
					rd = iotest.OneByteReader(rd)
				}
				err := readLines(rd, 10, func(l []byte) { lines = append(lines, string(l)) }, func(n int, _, _ []byte) { tooLong = append(tooLong, n) })
				if err != nil || !slices.Equal(lines, tc.lines) || !slices.Equal(tooLong, tc.tooLong) {
					t.Fatalf("one byte at a time %v: lines %q, too long %v, err %v; want %q, %v", small, lines, tooLong, err, tc.lines, tc.tooLong)
				}
			}
		})
	}
}

func TestReadLinesSkipsAHugeLineKeepingOnlyItsEdges(t *testing.T) {
	huge := `{"jsonrpc":"2.0","id":7,"result":"` + strings.Repeat("y", 1<<20) + `"}`
	in := huge + "\r\nafter\n"
	var lines, heads, tails []string
	var tooLong []int
	if err := readLines(strings.NewReader(in), 1<<10, func(l []byte) { lines = append(lines, string(l)) }, func(n int, head, tail []byte) {
		tooLong = append(tooLong, n)
		heads, tails = append(heads, string(head)), append(tails, string(tail))
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines, []string{"after"}) || !slices.Equal(tooLong, []int{len(huge) + 2}) {
		t.Fatalf("lines %q, too long %v", lines, tooLong)
	}
	// The tail is the last edgeBytes of the line with its CRLF.
	if heads[0] != huge[:edgeBytes] || tails[0] != huge[len(huge)-edgeBytes+2:] {
		t.Fatalf("edges %q … %q", heads[0], tails[0])
	}
}

func FuzzReadLines(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), 2)
	f.Add([]byte(strings.Repeat("z", 100)+"\n"), 10)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		var got [][]byte
		skipped := 0
		err := readLines(bytes.NewReader(in), max, func(l []byte) {
			if len(l) > max || len(l) == 0 || bytes.ContainsRune(l, '\n') {
				t.Fatalf("line %q breaks the limit %d or the framing", l, max)
			}
			got = append(got, bytes.Clone(l))
		}, func(n int, head, tail []byte) {
			if len(head) > edgeBytes || len(tail) > edgeBytes || n <= max {
				t.Fatalf("too long: %d bytes, edges %q %q", n, head, tail)
			}
			skipped++
		})
		if err != nil {
			t.Fatal(err)
		}
		// Every short, non-empty line of the input comes out, in order.
		var want [][]byte
		long := 0
		for _, l := range bytes.Split(in, []byte("\n")) {
			l = bytes.TrimSuffix(l, []byte("\r"))
			switch {
			case len(l) > max:
				long++
			case len(l) > 0:
				want = append(want, l)
			}
		}
		if len(got) != len(want) {
			// A line of exactly max bytes plus a CR is skipped as too long.
			if len(got)+skipped-long != len(want) {
				t.Fatalf("got %d lines and skipped %d, want %d lines (%d long)", len(got), skipped, len(want), long)
			}
			return
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("line %d = %q, want %q", i, got[i], want[i])
			}
		}
	})
}

func TestInheritEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "HOME=/home/u", "LC_ALL=C", "AWS_SECRET_ACCESS_KEY=s", "NODE_OPTIONS=--x", "NODE_ENV=production", "GITHUB_TOKEN=t", "bad"}
	if got := InheritEnv(environ, nil); !slices.Equal(got, []string{"PATH=/bin", "HOME=/home/u", "LC_ALL=C"}) {
		t.Fatalf("default: %q", got)
	}
	if got := InheritEnv(environ, []string{"NODE_*", "GITHUB_TOKEN"}); !slices.Equal(got, []string{"PATH=/bin", "HOME=/home/u", "LC_ALL=C", "NODE_OPTIONS=--x", "NODE_ENV=production", "GITHUB_TOKEN=t"}) {
		t.Fatalf("with extra names: %q", got)
	}
	if got := InheritEnv(environ, []string{"*"}); len(got) != len(environ)-1 {
		t.Fatalf("everything: %q", got)
	}
}

func TestCredentialsOverrideInheritedVariables(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "API_KEY=old", "HOME=/h"}, []string{"API_KEY=new"})
	if !slices.Equal(got, []string{"PATH=/bin", "HOME=/h", "API_KEY=new"}) {
		t.Fatalf("%q", got)
	}
}

func TestSetMemberKeepsEverythingElse(t *testing.T) {
	in := []byte(`{"jsonrpc":"2.0","id":"caller",
  "method":"tools/call","params":{"name":"x","arguments":{"html":"<b>&</b>","n":1.50}}}`)
	out, err := setMember(in, internalID(42), "params", "_meta", "progressToken")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"caller","jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"progressToken":42},"arguments":{"html":"<b>&</b>","n":1.50},"name":"x"}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestOversizeFindsTheIDAtEitherEdge(t *testing.T) {
	for _, tc := range []struct {
		head, tail string
		want       string
	}{
		{`{"jsonrpc":"2.0","id":12,"result":{"content":[`, `xx"}]}}`, "12"},
		{`{"id":"12","jsonrpc":"2.0","result"`, `}`, "12"},
		{`{"result":{"content":[{"text":"`, `"}]},"jsonrpc":"2.0","id":12}`, "12"},
		{`{"result":{"content":[{"text":"`, `{"id":12}}}`, ""},
		{`{"result":{"id":12,"x":"`, `"}}`, ""},
	} {
		var got string
		if m := idFirst.FindStringSubmatch(tc.head); m != nil {
			got = m[1]
		} else if m := idLast.FindStringSubmatch(tc.tail); m != nil {
			got = m[1]
		}
		if got != tc.want {
			t.Errorf("%s … %s: id %q, want %q", tc.head, tc.tail, got, tc.want)
		}
	}
}
