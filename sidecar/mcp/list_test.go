package mcp

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func keepNames(names ...string) func(ListItem) bool {
	return func(it ListItem) bool {
		for _, n := range names {
			if it.Name == n || it.URI == n {
				return true
			}
		}
		return false
	}
}

func TestFilterList(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		field string
		keep  func(ListItem) bool
		want  string // "" means: msg unchanged
	}{
		{
			name:  "removes a tool and keeps every other byte",
			msg:   "{\"jsonrpc\":\"2.0\", \"id\":3,\n \"result\":{ \"nextCursor\":\"c2\", \"tools\" : [ {\"name\":\"read\",\"inputSchema\":{\"type\":\"object\"}} , {\"name\":\"delete_all\"},{\"name\":\"write\",\"annotations\":{\"readOnlyHint\":false}} ], \"_meta\":{\"tools\":[1]}}, \"x\":[\"tools\"]}\n",
			field: "tools",
			keep:  keepNames("read", "write"),
			want:  "{\"jsonrpc\":\"2.0\", \"id\":3,\n \"result\":{ \"nextCursor\":\"c2\", \"tools\" : [{\"name\":\"read\",\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"write\",\"annotations\":{\"readOnlyHint\":false}}], \"_meta\":{\"tools\":[1]}}, \"x\":[\"tools\"]}\n",
		},
		{
			name:  "keeps everything",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"tools":[ {"name":"a"}, {"name":"b"} ]}}`,
			field: "tools",
			keep:  keepNames("a", "b"),
		},
		{
			name:  "removes everything",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"},{"name":"b"}],"nextCursor":"n"}}`,
			field: "tools",
			keep:  keepNames(),
			want:  `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"nextCursor":"n"}}`,
		},
		{
			name:  "empty list",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`,
			field: "tools",
			keep:  keepNames(),
		},
		{
			name:  "result without the field",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{}}`,
			field: "tools",
			keep:  keepNames(),
		},
		{
			name:  "null list",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"tools":null}}`,
			field: "tools",
			keep:  keepNames(),
		},
		{
			name:  "error response",
			msg:   `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"boom"}}`,
			field: "tools",
			keep:  keepNames(),
		},
		{
			name:  "drops entries without a usable name",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"},{"title":"no name"},{"name":7},{"name":""},"a",null,{"name":"a","name":"b"},{"name":"a","NAME":"b"},{"name":"\ud800"}]}}`,
			field: "tools",
			keep:  func(ListItem) bool { return true },
			want:  `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}]}}`,
		},
		{
			name:  "resources by uri",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"file:///a","name":"a"},{"uri":"file:///secret","name":"s"},{"name":"no uri"}]}}`,
			field: "resources",
			keep:  keepNames("file:///a"),
			want:  `{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"file:///a","name":"a"}]}}`,
		},
		{
			name:  "resource templates by uriTemplate",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"resourceTemplates":[{"uriTemplate":"db://{table}","name":"t"},{"uriTemplate":"file:///{path}","name":"f"}]}}`,
			field: "resourceTemplates",
			keep:  keepNames("db://{table}"),
			want:  `{"jsonrpc":"2.0","id":1,"result":{"resourceTemplates":[{"uriTemplate":"db://{table}","name":"t"}]}}`,
		},
		{
			name:  "prompts by name",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"prompts":[{"name":"a"},{"name":"b","arguments":[{"name":"a"}]}]}}`,
			field: "prompts",
			keep:  keepNames("b"),
			want:  `{"jsonrpc":"2.0","id":1,"result":{"prompts":[{"name":"b","arguments":[{"name":"a"}]}]}}`,
		},
		{
			name:  "by annotations",
			msg:   `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm","annotations":{"destructiveHint":true}},{"name":"ls","annotations":{"readOnlyHint":true}},{"name":"unknown"}]}}`,
			field: "tools",
			keep:  func(it ListItem) bool { return !it.Annotations.Destructive() },
			want:  `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls","annotations":{"readOnlyHint":true}}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FilterList([]byte(tt.msg), tt.field, tt.keep)
			if err != nil {
				t.Fatalf("FilterList: %v", err)
			}
			want := tt.want
			if want == "" {
				want = tt.msg
			}
			if string(got) != want {
				t.Errorf("FilterList:\n got %s\nwant %s", got, want)
			}
			if !json.Valid(got) {
				t.Errorf("result is not JSON")
			}
		})
	}
}

func TestFilterListRefuses(t *testing.T) {
	tests := []struct {
		name, msg, field string
	}{
		{"not JSON", `{"result":`, "tools"},
		{"not an object", `[{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}]`, "tools"},
		{"neither result nor error", `{"jsonrpc":"2.0","id":1}`, "tools"},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, "tools"},
		{"result not an object", `{"jsonrpc":"2.0","id":1,"result":[]}`, "tools"},
		{"list not an array", `{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"a"}}}`, "tools"},
		{"duplicate result", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"result":{"tools":[{"name":"a"}]}}`, "tools"},
		{"duplicate list", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"tools":[{"name":"a"}]}}`, "tools"},
		{"list in other case", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"Tools":[{"name":"a"}]}}`, "tools"},
		{"unknown field", `{"jsonrpc":"2.0","id":1,"result":{}}`, "names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := FilterList([]byte(tt.msg), tt.field, keepNames("a")); err == nil {
				t.Errorf("FilterList accepted it: %s", got)
			}
		})
	}
}

func TestFilterListDoesNotCopyWhenKeepingAll(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"}]}}`)
	got, err := FilterList(msg, "tools", keepNames("a"))
	if err != nil || &got[0] != &msg[0] {
		t.Errorf("FilterList copied or failed: %v", err)
	}
}

func TestFilterListGivesRawEntries(t *testing.T) {
	msg := `{"jsonrpc":"2.0","id":1,"result":{"tools":[ {"name":"a", "x":[1]} ]}}`
	var raw []string
	if _, err := FilterList([]byte(msg), "tools", func(it ListItem) bool {
		raw = append(raw, string(it.Raw))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || raw[0] != `{"name":"a", "x":[1]}` {
		t.Errorf("Raw = %q", raw)
	}
}

func ptr(b bool) *bool { return &b }

func TestTools(t *testing.T) {
	msg := `{"jsonrpc":"2.0","id":1,"result":{"tools":[
		{"name":"rm","title":"Remove","annotations":{"title":"rm -rf","readOnlyHint":false,"destructiveHint":true,"idempotentHint":true,"openWorldHint":false},"inputSchema":{"type":"object"}},
		{"name":"ls","annotations":{"title":"List","readOnlyHint":true,"destructiveHint":true}},
		{"name":"odd","annotations":{"readOnlyHint":"yes","openWorldHint":null}},
		{"name":"lying","annotations":{"readOnlyHint":true,"READONLYHINT":false}},
		{"title":"nameless"}
	]}}`
	tools, err := Tools([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	type hints struct{ readOnly, destructive, idempotent, openWorld bool }
	want := []struct {
		name, title string
		ann         ToolAnnotations
		hints       hints
		schema      string
	}{
		{"rm", "Remove", ToolAnnotations{Title: "rm -rf", ReadOnlyHint: ptr(false), DestructiveHint: ptr(true), IdempotentHint: ptr(true), OpenWorldHint: ptr(false)}, hints{false, true, true, false}, `{"type":"object"}`},
		{"ls", "List", ToolAnnotations{Title: "List", ReadOnlyHint: ptr(true), DestructiveHint: ptr(true)}, hints{true, false, false, true}, ""},
		{"odd", "", ToolAnnotations{}, hints{false, true, false, true}, ""},
		{"lying", "", ToolAnnotations{}, hints{false, true, false, true}, ""},
	}
	if len(tools) != len(want) {
		t.Fatalf("got %d tools, want %d: %+v", len(tools), len(want), tools)
	}
	for i, w := range want {
		tl := tools[i]
		a := tl.Annotations
		got := hints{a.ReadOnly(), a.Destructive(), a.Idempotent(), a.OpenWorld()}
		if tl.Name != w.name || tl.Title != w.title || got != w.hints || string(tl.InputSchema) != w.schema || !sameAnnotations(a, w.ann) {
			t.Errorf("tool %d = %+v %+v, want %+v", i, tl, got, w)
		}
	}

	if tools, err := Tools([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}`)); err != nil || tools != nil {
		t.Errorf("Tools of an error response = %v, %v", tools, err)
	}
	if _, err := Tools([]byte(`{"jsonrpc":"2.0","id":1}`)); err == nil {
		t.Errorf("Tools accepted a message without result")
	}
}

func sameAnnotations(a, b ToolAnnotations) bool {
	eq := func(x, y *bool) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Title == b.Title && eq(a.ReadOnlyHint, b.ReadOnlyHint) && eq(a.DestructiveHint, b.DestructiveHint) &&
		eq(a.IdempotentHint, b.IdempotentHint) && eq(a.OpenWorldHint, b.OpenWorldHint)
}

func TestListField(t *testing.T) {
	for method, want := range map[string]string{
		MethodToolsList: "tools", MethodResourcesList: "resources",
		MethodResourcesTemplatesList: "resourceTemplates", MethodPromptsList: "prompts", MethodToolsCall: "",
	} {
		if got, ok := ListField(method); got != want || ok != (want != "") {
			t.Errorf("ListField(%q) = %q, %v", method, got, ok)
		}
	}
}

// A batch response is filtered message by message and joined again.
func TestFilterListOfABatch(t *testing.T) {
	body := []byte(`[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a"},{"name":"b"}]}},{"jsonrpc":"2.0","id":2,"result":{}}]`)
	msgs, batch, err := Decode(body)
	if err != nil || !batch {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		f, err := FilterList(m.Raw, "tools", keepNames("b"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	want := `[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"b"}]}},{"jsonrpc":"2.0","id":2,"result":{}}]`
	if got := Batch(out...); !bytes.Equal(got, []byte(want)) {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if strings.Contains(string(body), `"tools":[{"name":"b"}]`) {
		t.Errorf("FilterList wrote into the body")
	}
}

func TestListFields(t *testing.T) {
	tests := []struct {
		result  string
		want    []string
		wantErr bool
	}{
		{`{"tools":[{"name":"a"}],"nextCursor":"x"}`, []string{"tools"}, false},
		{`{"resources":[],"resourceTemplates":[]}`, []string{"resources", "resourceTemplates"}, false},
		{`{"prompts":null}`, nil, false},
		{`{"content":[{"type":"text","text":"tools"}]}`, nil, false},
		{`{"structuredContent":{"tools":[{"name":"a"}]}}`, nil, false}, // only top-level members are lists
		{`[]`, nil, false},
		{`"x"`, nil, false},
		{`{"tools":"a"}`, nil, true},
		{`{"tools":[],"tools":[]}`, nil, true},
		{`{"Tools":[]}`, nil, true},
	}
	for _, tt := range tests {
		got, err := ListFields(json.RawMessage(tt.result))
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ListFields(%s) = %v, %v; want %v, error %v", tt.result, got, err, tt.want, tt.wantErr)
		}
	}
}
