package proxy

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// toolCache remembers the annotations the server gave its tools in
// tools/list, so policies can match on them (destructiveHint, …). Reads are
// lock-free; a tools/list reply replaces the map.
type toolCache struct {
	m  atomic.Pointer[map[string]*policy.ToolInfo]
	mu sync.Mutex // serialises writers
}

func (c *toolCache) get(method, name string) *policy.ToolInfo {
	if method != mcp.MethodToolsCall {
		return nil
	}
	if m := c.m.Load(); m != nil {
		return (*m)[name]
	}
	return nil
}

func (c *toolCache) learn(tools []mcp.Tool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[string]*policy.ToolInfo{}
	if old := c.m.Load(); old != nil {
		maps.Copy(next, *old)
	}
	for _, t := range tools {
		a := t.Annotations
		next[t.Name] = &policy.ToolInfo{
			Title:       t.Title,
			ReadOnly:    a.ReadOnlyHint,
			Destructive: a.DestructiveHint,
			Idempotent:  a.IdempotentHint,
			OpenWorld:   a.OpenWorldHint,
		}
	}
	c.m.Store(&next)
}
