// Package masktest generates the documents that package mask's benchmarks
// and tests (and the gitleaks comparison under hack/bench/gitleaks) run
// on, so that every figure is measured on the same input. The output is
// deterministic.
package masktest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Secrets are the values Doc plants, one kind each, in this order. They
// look real (no EXAMPLE, no 123456) so that entropy and stop-word filters
// such as gitleaks' keep them; none of them is live.
var Secrets = []string{
	"jane.doe@example.com",
	"AKIAZ7VRSQ5TLKBHGM4W",
	"4111 1111 1111 1111",
	"078-05-1120",
	"+44 20 7946 0958",
	"DE89 3704 0044 0532 0130 00",
	"203.0.113.42",
	"ghp_R8mQz2LwX9vKb4TnY7cJp1HsD6fGa3UeW0iO",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
}

var words = strings.Fields(`the a of to and in for with on that this is are was be by as from at
	it or an not we our your can will all new more one two three other about after before
	service order item report customer account project update status release build deploy
	cluster region storage queue worker request response latency error retry timeout cache
	value result summary details owner team platform review approved pending shipped delayed`)

type record struct {
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	URL         string   `json:"url"`
	Created     string   `json:"created"`
	Price       float64  `json:"price"`
	Active      bool     `json:"active"`
	Tags        []string `json:"tags"`
	Owner       owner    `json:"owner"`
}

type owner struct {
	Team string `json:"team"`
	Note string `json:"note"`
}

func prose(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// Doc returns a JSON array of MCP-style records of about size bytes (at
// least one record), with hits values from Secrets planted in evenly
// spaced records' descriptions. Prose notes contain newlines, so some
// strings have escapes.
func Doc(size, hits int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var recs []record
	n := 0
	for i := 0; n < size || i == 0; i++ {
		rec := record{
			ID:          1000 + i,
			Name:        fmt.Sprintf("widget-%d", i),
			Description: prose(r, 80+r.IntN(120)),
			URL:         fmt.Sprintf("https://example.com/items/%d?view=full", 1000+i),
			Created:     fmt.Sprintf("2024-05-%02dT10:%02d:15Z", 1+i%28, i%60),
			Price:       float64(r.IntN(10000)) / 100,
			Active:      i%3 != 0,
			Tags:        []string{words[r.IntN(len(words))], words[r.IntN(len(words))]},
			Owner:       owner{Team: "platform", Note: prose(r, 40) + "\n" + prose(r, 40)},
		}
		b, _ := json.Marshal(rec)
		n += len(b) + 1
		recs = append(recs, rec)
	}
	for k := range hits {
		i := (2*k + 1) * len(recs) / (2 * hits)
		recs[i].Description += " contact " + Secrets[k%len(Secrets)] + " today"
	}
	b, _ := json.Marshal(recs)
	return b
}

// ToolsCallResponse returns a JSON-RPC tools/call response of about 4 KiB
// whose text content is the JSON of a few records (as MCP servers commonly
// send it) mirrored in structuredContent, with an e-mail address, an AWS
// key id and a card number in it.
func ToolsCallResponse() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	var recs []record
	for i := range 5 {
		recs = append(recs, record{
			ID:          1000 + i,
			Name:        fmt.Sprintf("widget-%d", i),
			Description: prose(r, 120),
			URL:         fmt.Sprintf("https://example.com/items/%d", 1000+i),
			Created:     "2024-05-01T10:30:15Z",
			Price:       9.99,
			Active:      true,
			Tags:        []string{"a", "b"},
			Owner:       owner{Team: "platform", Note: prose(r, 30) + "\n" + prose(r, 30)},
		})
	}
	recs[1].Owner.Note += " jane.doe@example.com"
	recs[3].Description += " key AKIAZ7VRSQ5TLKBHGM4W"
	recs[4].Owner.Note += " card 4111 1111 1111 1111"
	text, _ := json.MarshalIndent(map[string]any{"items": recs}, "", "  ")
	msg := map[string]any{
		"jsonrpc": "2.0",
		"id":      42,
		"result": map[string]any{
			"content":           []any{map[string]any{"type": "text", "text": string(text)}},
			"structuredContent": map[string]any{"items": recs[:2]},
			"isError":           false,
		},
	}
	b, _ := json.Marshal(msg)
	return b
}
