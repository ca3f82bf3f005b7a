package mcp

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecodeAccepts(t *testing.T) {
	type want struct {
		kind          Kind
		id            string
		method        string
		target        string
		params        string
		arguments     string
		progressToken string
		result        string
		errCode       int
	}
	tests := []struct {
		name  string
		body  string
		batch bool
		want  []want
	}{
		{
			name: "tools/call with arguments and a progress token",
			body: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_all","arguments":{"force":true},"_meta":{"progressToken":"p1"}}}`,
			want: []want{{kind: KindRequest, id: `7`, method: "tools/call", target: "delete_all",
				params:        `{"name":"delete_all","arguments":{"force":true},"_meta":{"progressToken":"p1"}}`,
				arguments:     `{"force":true}`,
				progressToken: `"p1"`}},
		},
		{
			name: "string id, numeric progress token, space around",
			body: " \n\t{ \"jsonrpc\" : \"2.0\" , \"id\" : \"a-1\" , \"method\" : \"tools/call\" , \"params\" : { \"name\" : \"t\" , \"_meta\" : { \"progressToken\" : 12 } } }\r\n",
			want: []want{{kind: KindRequest, id: `"a-1"`, method: "tools/call", target: "t",
				params: `{ "name" : "t" , "_meta" : { "progressToken" : 12 } }`, progressToken: `12`}},
		},
		{
			name: "arguments null is no arguments",
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":null}}`,
			want: []want{{kind: KindRequest, id: `1`, method: "tools/call", target: "t", params: `{"name":"t","arguments":null}`}},
		},
		{
			name: "resources/read targets the uri",
			body: `{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}`,
			want: []want{{kind: KindRequest, id: `2`, method: "resources/read", target: "file:///etc/passwd", params: `{"uri":"file:///etc/passwd"}`}},
		},
		{
			name: "resources/subscribe targets the uri",
			body: `{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"file:///etc/passwd"}}`,
			want: []want{{kind: KindRequest, id: `2`, method: "resources/subscribe", target: "file:///etc/passwd", params: `{"uri":"file:///etc/passwd"}`}},
		},
		{
			name: "prompts/get targets the name",
			body: `{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"review","arguments":{"lang":"go"}}}`,
			want: []want{{kind: KindRequest, id: `3`, method: "prompts/get", target: "review",
				params: `{"name":"review","arguments":{"lang":"go"}}`, arguments: `{"lang":"go"}`}},
		},
		{
			name: "escapes in names and values are decoded",
			body: `{"jsonrpc":"2\u002e0","id":4,"me\u0074hod":"tools\/call","params":{"n\u0061me":"del\u0065te"}}`,
			want: []want{{kind: KindRequest, id: `4`, method: "tools/call", target: "delete", params: `{"n\u0061me":"del\u0065te"}`}},
		},
		{
			name: "unknown fields are tolerated",
			body: `{"jsonrpc":"2.0","id":5,"method":"tools/list","extra":{"method":"x"},"params":{"cursor":"c","other":[1,2]}}`,
			want: []want{{kind: KindRequest, id: `5`, method: "tools/list", params: `{"cursor":"c","other":[1,2]}`}},
		},
		{
			name: "notification without params",
			body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			want: []want{{kind: KindNotification, method: "notifications/initialized"}},
		},
		{
			name: "params null is no params",
			body: `{"jsonrpc":"2.0","id":6,"method":"tools/list","params":null}`,
			want: []want{{kind: KindRequest, id: `6`, method: "tools/list"}},
		},
		{
			name: "params may be an array for methods not policed",
			body: `{"jsonrpc":"2.0","id":6,"method":"custom/thing","params":[1,2]}`,
			want: []want{{kind: KindRequest, id: `6`, method: "custom/thing", params: `[1,2]`}},
		},
		{
			name: "progress token of a method not policed",
			body: `{"jsonrpc":"2.0","id":8,"method":"resources/list","params":{"_meta":{"progressToken":-3}}}`,
			want: []want{{kind: KindRequest, id: `8`, method: "resources/list", params: `{"_meta":{"progressToken":-3}}`, progressToken: `-3`}},
		},
		{
			name: "a notification with a policed method has a target",
			body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"t"}}`,
			want: []want{{kind: KindNotification, method: "tools/call", target: "t", params: `{"name":"t"}`}},
		},
		{
			name: "response",
			body: `{"jsonrpc":"2.0","id":9,"result":{"tools":[]}}`,
			want: []want{{kind: KindResponse, id: `9`, result: `{"tools":[]}`}},
		},
		{
			name: "error response",
			body: `{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no such method","data":{"m":1}}}`,
			want: []want{{kind: KindErrorResponse, id: `"x"`, errCode: -32601}},
		},
		{
			name: "error response with a null id",
			body: `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`,
			want: []want{{kind: KindErrorResponse, id: `null`, errCode: -32700}},
		},
		{
			name:  "batch of a request, a notification and a response",
			body:  ` [ {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}} , {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":0}},{"jsonrpc":"2.0","id":2,"result":{}} ] `,
			batch: true,
			want: []want{
				{kind: KindRequest, id: `1`, method: "tools/call", target: "a", params: `{"name":"a"}`},
				{kind: KindNotification, method: "notifications/cancelled", params: `{"requestId":0}`},
				{kind: KindResponse, id: `2`, result: `{}`},
			},
		},
		{
			name:  "batch of one",
			body:  `[{"jsonrpc":"2.0","method":"ping","id":1}]`,
			batch: true,
			want:  []want{{kind: KindRequest, id: `1`, method: "ping"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, batch, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if batch != tt.batch {
				t.Errorf("batch = %v, want %v", batch, tt.batch)
			}
			if len(msgs) != len(tt.want) {
				t.Fatalf("got %d messages, want %d", len(msgs), len(tt.want))
			}
			for i, m := range msgs {
				w := tt.want[i]
				var code int
				if m.Error != nil {
					code = m.Error.Code
				}
				got := want{m.Kind, string(m.ID), m.Method, m.Target(), string(m.Params), string(m.Arguments), string(m.ProgressToken), string(m.Result), code}
				if got != w {
					t.Errorf("message %d:\n got %+v\nwant %+v", i, got, w)
				}
				if !json.Valid(m.Raw) || !strings.Contains(tt.body, string(m.Raw)) {
					t.Errorf("message %d: Raw %q is not an exact part of the body", i, m.Raw)
				}
				if (w.id == "") != (m.ID == nil) {
					t.Errorf("message %d: ID = %#v", i, m.ID)
				}
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	const req = `"jsonrpc":"2.0","id":1`
	tests := []struct {
		name  string
		body  string
		code  int
		id    string // the id the error names, "" for none
		index int
	}{
		{"empty body", ``, CodeParseError, "", 0},
		{"only space", " \r\n\t", CodeParseError, "", 0},
		{"truncated JSON", `{"jsonrpc":"2.0","id":1,"method":"ping"`, CodeParseError, "", 0},
		{"trailing data", `{"jsonrpc":"2.0","id":1,"method":"ping"} {}`, CodeParseError, "", 0},
		{"not UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"a\xff\"}}", CodeParseError, "", 0},
		{"single quotes", `{'jsonrpc':'2.0'}`, CodeParseError, "", 0},
		{"a string", `"tools/call"`, CodeInvalidRequest, "", 0},
		{"a number", `42`, CodeInvalidRequest, "", 0},
		{"null", `null`, CodeInvalidRequest, "", 0},
		{"empty batch", `[ ]`, CodeInvalidRequest, "", 0},
		{"batch of a number", `[1]`, CodeInvalidRequest, "", 0},
		{"nested batch", `[[{` + req + `,"method":"ping"}]]`, CodeInvalidRequest, "", 0},
		{"bad second message", `[{` + req + `,"method":"ping"},{"jsonrpc":"2.0","id":2}]`, CodeInvalidRequest, "2", 1},
		{"no jsonrpc", `{"id":1,"method":"ping"}`, CodeInvalidRequest, "1", 0},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, CodeInvalidRequest, "1", 0},
		{"jsonrpc as a number", `{"jsonrpc":2.0,"id":1,"method":"ping"}`, CodeInvalidRequest, "1", 0},
		{"method a number", `{` + req + `,"method":1}`, CodeInvalidRequest, "1", 0},
		{"method empty", `{` + req + `,"method":""}`, CodeInvalidRequest, "1", 0},
		{"method a lone surrogate", `{` + req + `,"method":"\ud800"}`, CodeInvalidRequest, "1", 0},
		{"request id null", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, CodeInvalidRequest, "", 0},
		{"request id a boolean", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, CodeInvalidRequest, "", 0},
		{"request id an object", `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, CodeInvalidRequest, "", 0},
		{"request id an array", `{"jsonrpc":"2.0","id":[1],"method":"ping"}`, CodeInvalidRequest, "", 0},
		{"params a string", `{` + req + `,"method":"ping","params":"x"}`, CodeInvalidRequest, "1", 0},
		{"params a number", `{` + req + `,"method":"ping","params":3}`, CodeInvalidRequest, "1", 0},
		{"params a boolean", `{` + req + `,"method":"ping","params":false}`, CodeInvalidRequest, "1", 0},
		{"method and result", `{` + req + `,"method":"ping","result":{}}`, CodeInvalidRequest, "1", 0},
		{"result and error", `{` + req + `,"result":{},"error":{"code":1,"message":"m"}}`, CodeInvalidRequest, "1", 0},
		{"no method, result or error", `{` + req + `}`, CodeInvalidRequest, "1", 0},
		{"response without id", `{"jsonrpc":"2.0","result":{}}`, CodeInvalidRequest, "", 0},
		{"response with null id", `{"jsonrpc":"2.0","id":null,"result":{}}`, CodeInvalidRequest, "", 0},
		{"error response without id", `{"jsonrpc":"2.0","error":{"code":1,"message":"m"}}`, CodeInvalidRequest, "", 0},
		{"error not an object", `{` + req + `,"error":"bad"}`, CodeInvalidRequest, "1", 0},
		{"error code a string", `{` + req + `,"error":{"code":"1","message":"m"}}`, CodeInvalidRequest, "1", 0},
		{"error code a fraction", `{` + req + `,"error":{"code":1.5,"message":"m"}}`, CodeInvalidRequest, "1", 0},
		{"error without message", `{` + req + `,"error":{"code":1}}`, CodeInvalidRequest, "1", 0},
		{"duplicate method", `{` + req + `,"method":"tools/list","method":"tools/call","params":{"name":"x"}}`, CodeInvalidRequest, "", 0},
		{"duplicate id", `{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`, CodeInvalidRequest, "", 0},
		{"method in other case", `{` + req + `,"method":"tools/list","Method":"tools/call","params":{"name":"x"}}`, CodeInvalidRequest, "", 0},
		{"method in other case, escaped", `{` + req + `,"method":"tools/list","\u004dethod":"tools/call"}`, CodeInvalidRequest, "", 0},
		{"params in other case", `{` + req + `,"method":"ping","par\u0061ms":{},"PARAMS":{}}`, CodeInvalidRequest, "", 0},
		{"params spelled with a long s, which encoding/json reads as params", `{` + req + `,"method":"ping","paramſ":{"name":"x"}}`, CodeInvalidRequest, "", 0},
		{"arguments spelled with a long s", `{` + req + `,"method":"prompts/get","params":{"name":"a","argumentſ":{}}}`, CodeInvalidParams, "1", 0},
		{"tools/call without params", `{` + req + `,"method":"tools/call"}`, CodeInvalidParams, "1", 0},
		{"tools/call with params null", `{` + req + `,"method":"tools/call","params":null}`, CodeInvalidParams, "1", 0},
		{"tools/call with params an array", `{` + req + `,"method":"tools/call","params":["x"]}`, CodeInvalidParams, "1", 0},
		{"tools/call without name", `{` + req + `,"method":"tools/call","params":{"arguments":{}}}`, CodeInvalidParams, "1", 0},
		{"tools/call with name a number", `{` + req + `,"method":"tools/call","params":{"name":1}}`, CodeInvalidParams, "1", 0},
		{"tools/call with empty name", `{` + req + `,"method":"tools/call","params":{"name":""}}`, CodeInvalidParams, "1", 0},
		{"tools/call with a lone surrogate", `{` + req + `,"method":"tools/call","params":{"name":"a\udc00"}}`, CodeInvalidParams, "1", 0},
		{"tools/call with U+FFFD", `{` + req + `,"method":"tools/call","params":{"name":"a` + "\uFFFD" + `"}}`, CodeInvalidParams, "1", 0},
		{"tools/call with duplicate name", `{` + req + `,"method":"tools/call","params":{"name":"a","name":"b"}}`, CodeInvalidParams, "1", 0},
		{"tools/call with name in other case", `{` + req + `,"method":"tools/call","params":{"name":"a","NAME":"b"}}`, CodeInvalidParams, "1", 0},
		{"tools/call with arguments an array", `{` + req + `,"method":"tools/call","params":{"name":"a","arguments":[1]}}`, CodeInvalidParams, "1", 0},
		{"tools/call with arguments a string", `{` + req + `,"method":"tools/call","params":{"name":"a","arguments":"{}"}}`, CodeInvalidParams, "1", 0},
		{"tools/call with duplicate arguments", `{` + req + `,"method":"tools/call","params":{"name":"a","arguments":{},"arguments":{"x":1}}}`, CodeInvalidParams, "1", 0},
		{"tools/call with ambiguous progress token", `{` + req + `,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":1,"progresstoken":2}}}`, CodeInvalidParams, "1", 0},
		{"resources/read without uri", `{` + req + `,"method":"resources/read","params":{"name":"x"}}`, CodeInvalidParams, "1", 0},
		{"prompts/get without name", `{` + req + `,"method":"prompts/get","params":{}}`, CodeInvalidParams, "1", 0},
		{"policed notification without name", `{"jsonrpc":"2.0","method":"tools/call","params":{}}`, CodeInvalidParams, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, _, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", msgs)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is a %T, want *DecodeError", err, err)
			}
			if de.Code != tt.code || string(de.ID) != tt.id || de.Index != tt.index {
				t.Errorf("got code %d id %q index %d (%v), want code %d id %q index %d", de.Code, de.ID, de.Index, err, tt.code, tt.id, tt.index)
			}
			resp := de.Response()
			if !json.Valid(resp) {
				t.Errorf("Response() is not JSON: %s", resp)
			}
			if tt.body != "" && strings.Contains(err.Error(), "tools/call") {
				t.Errorf("error %q repeats message content", err)
			}
		})
	}
}

func TestDecodeAliasesBody(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"a":1}}}`)
	msgs, _, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	// Appending to a field must not overwrite the body behind it.
	_ = append(msgs[0].Arguments, 'x')
	if !json.Valid(body) {
		t.Fatalf("body changed: %s", body)
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		r       io.Reader
		limit   int64
		want    string
		wantErr error
	}{
		{"under the limit", strings.NewReader("abc"), 4, "abc", nil},
		{"at the limit", strings.NewReader("abcd"), 4, "abcd", nil},
		{"over the limit", strings.NewReader("abcde"), 4, "", ErrTooLarge},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("abcde")), 4, "", ErrTooLarge},
		{"empty with no limit", strings.NewReader(""), 0, "", nil},
		{"anything with no limit", strings.NewReader("a"), 0, "", ErrTooLarge},
		{"largest limit", strings.NewReader("abc"), math.MaxInt64, "abc", nil},
		{"http.MaxBytesReader", http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("abcde")), 2), 10, "", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadBody(tt.r, tt.limit)
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Errorf("ReadBody = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}

	boom := errors.New("connection reset")
	_, err := ReadBody(iotest.ErrReader(boom), 10)
	if !errors.Is(err, boom) || errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadBody of a failing reader = %v, want it to wrap %v", err, boom)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindRequest: "request", KindNotification: "notification", KindResponse: "response", KindErrorResponse: "error response", 0: "Kind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// TestDecodeAgreesWithEncodingJSON checks the property the strict member
// matching is for: on anything Decode accepts, a case-insensitive decoder
// (encoding/json) reads the same method and target.
func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"Name":"b"}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"u","name":"n"}}`,
	} {
		msgs, _, err := Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		checkAgreement(t, msgs[0])
	}
}

func checkAgreement(t *testing.T, m Message) {
	t.Helper()
	var v struct {
		Method string
		Params struct {
			Name string
			URI  string
		}
	}
	if err := json.Unmarshal(m.Raw, &v); err != nil {
		return // a type mismatch elsewhere: encoding/json would refuse it too
	}
	if v.Method != m.Method {
		t.Errorf("method: Decode %q, encoding/json %q in %s", m.Method, v.Method, m.Raw)
	}
	want := v.Params.Name
	if m.Method == MethodResourcesRead {
		want = v.Params.URI
	}
	if m.Target() != "" && m.Target() != want {
		t.Errorf("target: Decode %q, encoding/json %q in %s", m.Target(), want, m.Raw)
	}
}
