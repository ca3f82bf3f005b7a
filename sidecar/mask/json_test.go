package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestJSONFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []string
		in     string
		want   string
	}{
		{"name at any depth, any case", []string{"password"},
			`{"a":{"b":[{"Password":"x"}]},"password":"y"}`,
			`{"a":{"b":[{"Password":"[REDACTED:field]"}]},"password":"[REDACTED:field]"}`},
		{"non-string values become strings; null and empty stay", []string{"pin"},
			`[{"pin":1234},{"pin":true},{"pin":{"a":[1,2]}},{"pin":null},{"pin":""}]`,
			`[{"pin":"[REDACTED:field]"},{"pin":"[REDACTED:field]"},{"pin":"[REDACTED:field]"},{"pin":null},{"pin":""}]`},
		{"dotted path is a suffix", []string{"user.ssn"},
			`{"ssn":"keep","user":{"ssn":"1"},"x":{"user":{"ssn":"2"}},"user2":{"ssn":"keep"}}`,
			`{"ssn":"keep","user":{"ssn":"[REDACTED:field]"},"x":{"user":{"ssn":"[REDACTED:field]"}},"user2":{"ssn":"keep"}}`},
		{"wildcard over array elements", []string{"items.*.token"},
			`{"items":[{"token":"a","id":1},{"token":"b"}],"token":"keep"}`,
			`{"items":[{"token":"[REDACTED:field]","id":1},{"token":"[REDACTED:field]"}],"token":"keep"}`},
		{"wildcard over object members", []string{"users.*.phone"},
			`{"users":{"alice":{"phone":"1"},"bob":{"phone":"2"}}}`,
			`{"users":{"alice":{"phone":"[REDACTED:field]"},"bob":{"phone":"[REDACTED:field]"}}}`},
		{"array index", []string{"items.1"},
			`{"items":["a","b","c"]}`,
			`{"items":["a","[REDACTED:field]","c"]}`},
		{"anchored path", []string{"$.a.b"},
			`{"a":{"b":1},"x":{"a":{"b":2}}}`,
			`{"a":{"b":"[REDACTED:field]"},"x":{"a":{"b":2}}}`},
		{"json pointer", []string{"/a~1b/0"},
			`{"a/b":[1,2],"x":{"a/b":[3]}}`,
			`{"a/b":["[REDACTED:field]",2],"x":{"a/b":[3]}}`},
		{"escaped key", []string{"secretAnswer"},
			`{"secret\u0041nswer":"blue"}`,
			`{"secret\u0041nswer":"[REDACTED:field]"}`},
		{"inside JSON in a string", []string{"user.ssn", "items.*.token"},
			`{"content":[{"type":"text","text":"{\"user\":{\"ssn\":\"078-05-1120\",\"name\":\"Al\"},\"items\":[{\"token\":7}]}"}]}`,
			`{"content":[{"type":"text","text":"{\"user\":{\"ssn\":\"[REDACTED:field]\",\"name\":\"Al\"},\"items\":[{\"token\":\"[REDACTED:field]\"}]}"}]}`},
		{"two levels of JSON in strings", []string{"pw"},
			`{"t":"{\"inner\":\"{\\\"pw\\\":1}\"}"}`,
			`{"t":"{\"inner\":\"{\\\"pw\\\":\\\"[REDACTED:field]\\\"}\"}"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustNew(t, Config{Fields: tc.fields})
			got, _, err := m.JSON(nil, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON: %s", got)
			}
		})
	}
}

func TestJSONCredentialMembers(t *testing.T) {
	m := mustNew(t, Config{Detectors: []string{"secrets"}})
	in := `{"password":"hunter2","apiKey":"k-123","client_secret":"s","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",` +
		`"nextToken":"abc","tokens":12,"token":null,"secret":true,"password2":"","name":"password=x"}`
	want := `{"password":"[REDACTED:credential]","apiKey":"[REDACTED:credential]","client_secret":"[REDACTED:credential]","SecretAccessKey":"[REDACTED:awsSecretKey]",` +
		`"nextToken":"abc","tokens":12,"token":null,"secret":true,"password2":"","name":"password=[REDACTED:credential]"}`
	got, _, err := m.JSON(nil, []byte(in))
	if err != nil || string(got) != want {
		t.Errorf("\n got %s (%v)\nwant %s", got, err, want)
	}
}

// mcpResult is a tools/call response whose text content is JSON.
const mcpResult = `{"jsonrpc":"2.0","id":"req-7","result":{"content":[` +
	`{"type":"text","text":"{\n  \"customer\": {\"email\": \"jane.doe@example.com\", \"card\": \"4111 1111 1111 1111\"},\n  \"note\": \"ok\"\n}"},` +
	`{"type":"resource","resource":{"uri":"file:///etc/app.env","mimeType":"text/plain","text":"DB_PASSWORD=s3cr3t\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"}}],` +
	`"structuredContent":{"customer":{"email":"jane.doe@example.com","balance":12.5,"active":true,"tags":null}},"isError":false}}`

func TestMessageToolsCall(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	got, stats, err := m.Message(nil, []byte(mcpResult))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"jsonrpc":"2.0","id":"req-7","result":{"content":[` +
		`{"type":"text","text":"{\n  \"customer\": {\"email\": \"[REDACTED:email]\", \"card\": \"[REDACTED:creditCard]\"},\n  \"note\": \"ok\"\n}"},` +
		`{"type":"resource","resource":{"uri":"file:///etc/app.env","mimeType":"text/plain","text":"DB_PASSWORD=[REDACTED:credential]\nAWS_ACCESS_KEY_ID=[REDACTED:awsAccessKey]\n"}}],` +
		`"structuredContent":{"customer":{"email":"[REDACTED:email]","balance":12.5,"active":true,"tags":null}},"isError":false}}`
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if n := collect(stats); n["email"] != 2 || n["creditCard"] != 1 || n["credential"] != 1 || n["awsAccessKey"] != 1 {
		t.Errorf("stats %v", n)
	}
	assertSameShape(t, []byte(mcpResult), got)
}

func TestMessageLeavesEnvelopeAlone(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors, Fields: []string{"id", "method"}})
	for _, tc := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","id":"a@example.com","error":{"code":-32000,"message":"no access for a@example.com","data":{"ip":"10.0.0.1"}}}`,
			`{"jsonrpc":"2.0","id":"a@example.com","error":{"code":-32000,"message":"no access for [REDACTED:email]","data":{"ip":"[REDACTED:ipAddress]"}}}`},
		{`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"login by a@example.com"}}`,
			`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"login by [REDACTED:email]"}}`},
		{`[{"jsonrpc":"2.0","id":1,"result":{"x":"a@example.com"}},{"jsonrpc":"2.0","id":"b@example.com","result":{}}]`,
			`[{"jsonrpc":"2.0","id":1,"result":{"x":"[REDACTED:email]"}},{"jsonrpc":"2.0","id":"b@example.com","result":{}}]`},
		{`{"jsonrpc":"2.0","id":1,"res\u0075lt":"a@example.com"}`, // an escaped name does not dodge masking
			`{"jsonrpc":"2.0","id":1,"res\u0075lt":"[REDACTED:email]"}`},
		{`{"jsonrpc":"2.0","id":1,"result":{"id":"x"}}`, `{"jsonrpc":"2.0","id":1,"result":{"id":"[REDACTED:field]"}}`},
	} {
		got, _, err := m.Message(nil, []byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("Message(%s)\n got %s (%v)\nwant %s", tc.in, got, err, tc.want)
		}
	}
	anchored := mustNew(t, Config{Fields: []string{"$.result.structuredContent.ssn"}})
	got, _, _ := anchored.Message(nil, []byte(`{"id":1,"result":{"structuredContent":{"ssn":"1","x":{"ssn":"2"}}}}`))
	if want := `{"id":1,"result":{"structuredContent":{"ssn":"[REDACTED:field]","x":{"ssn":"2"}}}}`; string(got) != want {
		t.Errorf("anchored path in a message:\n got %s\nwant %s", got, want)
	}
}

func TestJSONKeepsEverythingButStrings(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	in := ` { "a@example.com" : [ -0.5e+10 , 0 , true , false , null , "\u00e9\"\\\/\b\f\n\r\t" ] ,
	  "10.0.0.1": {"n": 4111111111111111, "s": "x\ty a@example.com \ud83d\ude00 \ud800"} } `
	got, _, err := m.JSON(nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := ` { "a@example.com" : [ -0.5e+10 , 0 , true , false , null , "\u00e9\"\\\/\b\f\n\r\t" ] ,
	  "10.0.0.1": {"n": 4111111111111111, "s": "x\ty [REDACTED:email] 😀 ` + "\ufffd" + `"} } `
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	assertSameShape(t, []byte(in), got)
}

func TestJSONRejectsInvalid(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	for _, in := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `-`, `1.`, `1e`, `.5`, `+1`,
		`tru`, `nul`, `"abc`, `"a\x"`, `"\u12"`, "\"a\x01\"", `{"a":1}x`, `{a:1}`, `'a'`, `[}`, deep,
	} {
		dst := []byte("keep")
		got, stats, err := m.JSON(dst, []byte(in))
		if !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("JSON(%q): err = %v, want ErrInvalidJSON", in, err)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("test case %q is valid JSON", in)
		}
		if string(got) != "keep" || stats.Total() != 0 {
			t.Errorf("JSON(%q) on error returned %q, %d hits", in, got, stats.Total())
		}
	}
	// Errors never quote the input.
	_, _, err := m.JSON(nil, []byte(`{"password":"hunter2"`))
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "password") {
		t.Errorf("error %v", err)
	}
}

func TestJSONAppendsToDst(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	got, _, _ := m.JSON([]byte("prefix:"), []byte(`"a@example.com"`))
	if string(got) != `prefix:"[REDACTED:email]"` {
		t.Errorf("got %s", got)
	}
	got, _, _ = m.JSON([]byte("prefix:"), []byte(`"clean"`))
	if string(got) != `prefix:"clean"` {
		t.Errorf("got %s", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors, Fields: []string{"user.ssn"}, HashKey: []byte("0123456789abcdef")})
	want, _, _ := m.Message(nil, []byte(mcpResult))
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				if got, _, _ := m.Message(nil, []byte(mcpResult)); !bytes.Equal(got, want) {
					err = fmt.Errorf("run %d differs", i)
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// assertSameShape checks that out has in's structure: the same delimiters,
// member names, numbers, booleans and nulls, in the same order (only string
// values may differ).
func assertSameShape(t testing.TB, in, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("output is not valid JSON: %q", out)
	}
	a, b := tokens(t, in), tokens(t, out)
	if len(a) != len(b) {
		t.Fatalf("token count %d, want %d", len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("token %d is %q, want %q", i, b[i], a[i])
		}
	}
}

// tokens lists doc's tokens, member names verbatim and string values as
// "string".
func tokens(t testing.TB, doc []byte) []string {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var toks []string
	var inObject []bool // per open container: is it an object
	wantKey := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return toks
		}
		if err != nil {
			t.Fatalf("tokens: %v", err)
		}
		isKey := false
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				inObject = append(inObject, v == '{')
			default:
				inObject = inObject[:len(inObject)-1]
			}
			toks = append(toks, v.String())
		case string:
			if wantKey {
				toks = append(toks, "key:"+v)
				isKey = true
			} else {
				toks = append(toks, "string")
			}
		default:
			toks = append(toks, fmt.Sprintf("%T:%v", tok, tok))
		}
		// The next string is a member name if we are in an object and this
		// token completed a member (or opened the object).
		wantKey = len(inObject) > 0 && inObject[len(inObject)-1] && !isKey
	}
}

func TestTokensSeesMemberNames(t *testing.T) {
	a := tokens(t, []byte(`{"a":[{"b":"x"},"y"],"c":{"d":1}}`))
	want := `{ key:a [ { key:b string } string ] key:c { key:d json.Number:1 } }`
	if got := strings.Join(a, " "); got != want {
		t.Errorf("got %s", got)
	}
}
