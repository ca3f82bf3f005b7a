// Command stdioserver is a real MCP server on stdin and stdout, built with
// the go-sdk, for tests of Airlock's stdio transport (sidecar/stdio). Its
// tools echo, report progress slowly, crash the process, read an
// environment variable, write junk to stdout, answer at length, and ping the client and ask
// it for sampling, so tests can prove what the transport does with each.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string `json:"text"`
}

type slowIn struct {
	Steps   int `json:"steps"`
	DelayMS int `json:"delayMs"`
}

type envIn struct {
	Name string `json:"name"`
}

type noiseIn struct {
	Bytes int `json:"bytes"`
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func main() {
	var cancelled atomic.Int64
	server := mcp.NewServer(&mcp.Implementation{Name: "airlock-stdio-test-server", Version: "v0.0.1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Echo text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return text(in.Text), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "slow", Description: "Report progress steps times, delayMs apart, then finish."},
		func(ctx context.Context, req *mcp.CallToolRequest, in slowIn) (*mcp.CallToolResult, any, error) {
			token := req.Params.GetProgressToken()
			for i := range in.Steps {
				if token != nil {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: token, Progress: float64(i + 1), Total: float64(in.Steps), Message: "working",
					})
				}
				select {
				case <-time.After(time.Duration(in.DelayMS) * time.Millisecond):
				case <-ctx.Done():
					cancelled.Add(1)
					return nil, nil, ctx.Err()
				}
			}
			return text(fmt.Sprintf("done after %d steps", in.Steps)), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "cancelled", Description: "How many slow calls were cancelled."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprint(cancelled.Load())), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "crash", Description: "Exit the process at once."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			log.Print("crashing on request")
			os.Exit(3)
			return nil, nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "env", Description: "The value of an environment variable."},
		func(_ context.Context, _ *mcp.CallToolRequest, in envIn) (*mcp.CallToolResult, any, error) {
			v, ok := os.LookupEnv(in.Name)
			if !ok {
				v = "(unset)"
			}
			return text(v), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "noise", Description: "Write a line that is not JSON and one of the given size to stdout."},
		func(_ context.Context, _ *mcp.CallToolRequest, in noiseIn) (*mcp.CallToolResult, any, error) {
			// Nothing else writes to stdout while a test calls this alone.
			fmt.Fprintln(os.Stdout, "noise: not JSON-RPC")
			fmt.Fprintln(os.Stdout, `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"`+strings.Repeat("x", in.Bytes)+`"}}`)
			return text("quiet again"), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "big", Description: "Answer with a text of the given size."},
		func(_ context.Context, _ *mcp.CallToolRequest, in noiseIn) (*mcp.CallToolResult, any, error) {
			return text(strings.Repeat("b", in.Bytes)), nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "ask", Description: "Ping the client, then ask it for sampling; report both."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			ping := "ping answered"
			if err := req.Session.Ping(ctx, nil); err != nil {
				ping = "ping failed: " + err.Error()
			}
			// Sampling is deprecated, and the very request a stdio server
			// cannot get answered through Airlock: the tests need it.
			_, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 1}) //nolint:staticcheck
			if err == nil {
				return text(ping + "; sampling answered"), nil, nil
			}
			return text(ping + "; sampling refused: " + err.Error()), nil, nil
		})
	log.SetPrefix("stdioserver: ")
	log.Printf("serving on stdio, pid %d", os.Getpid())
	if err := server.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Printf("stopped: %v", err)
	}
}
