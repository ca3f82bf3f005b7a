package mask_test

import (
	"fmt"

	"github.com/mcp-airlock/airlock/sidecar/mask"
)

func ExampleMasker_Message() {
	m, err := mask.New(mask.Config{
		Detectors: []string{"secrets", "email"},
		Fields:    []string{"user.ssn"},
	})
	if err != nil {
		panic(err)
	}
	resp := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text",` +
		`"text":"{\"user\":{\"ssn\":\"078-05-1120\",\"mail\":\"ann@example.com\"}}"}],` +
		`"structuredContent":{"env":"AWS_ACCESS_KEY_ID=AKIAZ7VRSQ5TLKBHGM4W"}}}`)
	out, stats, err := m.Message(nil, resp)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	for kind, n := range stats.All() {
		fmt.Println(kind, n)
	}
	// Output:
	// {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"user\":{\"ssn\":\"[REDACTED:field]\",\"mail\":\"[REDACTED:email]\"}}"}],"structuredContent":{"env":"AWS_ACCESS_KEY_ID=[REDACTED:awsAccessKey]"}}}
	// awsAccessKey 1
	// email 1
	// field 1
}
