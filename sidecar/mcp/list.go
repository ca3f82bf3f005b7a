package mcp

import (
	"encoding/json"
	"errors"
)

// ListItem is one entry of a tools/list, resources/list,
// resources/templates/list or prompts/list result.
type ListItem struct {
	// Name is the entry's name (for tools and prompts, what calls use).
	Name string
	// URI is a resource's uri, or a resource template's uriTemplate.
	URI string
	// Annotations are a tool's annotations; zero for other entries.
	Annotations ToolAnnotations
	// Raw is the entry exactly as the server sent it.
	Raw json.RawMessage
}

// ToolAnnotations are the hints a server gives about a tool. They are
// claims of the server, not guarantees. A nil hint was not given (or not
// a boolean); the methods apply the spec's defaults.
type ToolAnnotations struct {
	Title           string
	ReadOnlyHint    *bool
	DestructiveHint *bool
	IdempotentHint  *bool
	OpenWorldHint   *bool
}

// ReadOnly reports readOnlyHint (default false).
func (a ToolAnnotations) ReadOnly() bool { return hint(a.ReadOnlyHint, false) }

// Destructive reports whether the tool may destroy: false for a read-only
// tool, else destructiveHint (default true).
func (a ToolAnnotations) Destructive() bool {
	return !a.ReadOnly() && hint(a.DestructiveHint, true)
}

// Idempotent reports idempotentHint (default false).
func (a ToolAnnotations) Idempotent() bool { return hint(a.IdempotentHint, false) }

// OpenWorld reports openWorldHint (default true).
func (a ToolAnnotations) OpenWorld() bool { return hint(a.OpenWorldHint, true) }

func hint(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// Tool is what the policy engine learns about a tool from tools/list.
type Tool struct {
	Name string
	// Title is the tool's display title: its title, else annotations.title.
	Title       string
	Annotations ToolAnnotations
	// InputSchema is the tool's inputSchema exactly as sent; nil if absent.
	InputSchema json.RawMessage
}

// ListField returns the result member that holds the entries of a list
// method's result, e.g. "tools" for tools/list.
func ListField(method string) (field string, ok bool) {
	switch method {
	case MethodToolsList:
		return "tools", true
	case MethodResourcesList:
		return "resources", true
	case MethodResourcesTemplatesList:
		return "resourceTemplates", true
	case MethodPromptsList:
		return "prompts", true
	}
	return "", false
}

// ListFields returns the members of a response's result that hold a list
// a caller's rights apply to ("tools", "resources", "resourceTemplates",
// "prompts"), in that order. The proxy filters every result that has one,
// whatever request it answers: it need not trust the response's id to know
// which results are lists. A result with such a member that is not an
// array, or that would read two ways, is an error; a result that is not an
// object has none.
func ListFields(result json.RawMessage) ([]string, error) {
	v := span{skipSpace(result, 0), len(result)}
	if kindOf(result, v) != '{' {
		return nil, nil
	}
	f, reason := readObject(result, v, listFields)
	if reason != "" {
		return nil, errors.New(`mcp: "result" ` + reason)
	}
	var out []string
	for i, name := range listFields {
		switch kindOf(result, f[i]) {
		case 0, 'n':
		case '[':
			out = append(out, name)
		default:
			return nil, errors.New(`mcp: "result.` + name + `" is not an array`)
		}
	}
	return out, nil
}

// FilterList removes from a list response's result.<field> ("tools",
// "resources", "resourceTemplates" or "prompts") every entry that keep
// refuses, and every entry without a well-formed name (or uri). All other
// bytes are kept as they were; when nothing is removed, msg itself is
// returned. Error responses, and results without the field, are returned
// unchanged. msg is one JSON-RPC message, not a batch.
func FilterList(msg []byte, field string, keep func(ListItem) bool) ([]byte, error) {
	list, err := findList(msg, field)
	if err != nil || list.end == 0 {
		return msg, err
	}

	var kept []span
	dropped := false
	c, _ := open(msg, list)
	for {
		v, ok := c.element()
		if !ok {
			break
		}
		item, ok := parseItem(msg, v, field)
		if ok && keep(item) {
			kept = append(kept, v)
		} else {
			dropped = true
		}
	}
	if c.bad {
		return nil, errors.New("mcp: list result is malformed")
	}
	if !dropped {
		return msg, nil
	}

	out := make([]byte, 0, len(msg))
	out = append(out, msg[:list.start+1]...)
	for i, v := range kept {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, msg[v.start:v.end]...)
	}
	return append(out, msg[list.end-1:]...), nil
}

// Tools returns the tools of a tools/list response, skipping entries
// without a well-formed name; none for an error response.
func Tools(msg []byte) ([]Tool, error) {
	list, err := findList(msg, "tools")
	if err != nil || list.end == 0 {
		return nil, err
	}
	var tools []Tool
	c, _ := open(msg, list)
	for {
		v, ok := c.element()
		if !ok {
			break
		}
		if t, ok := parseTool(msg, v); ok {
			tools = append(tools, t)
		}
	}
	if c.bad {
		return nil, errors.New("mcp: list result is malformed")
	}
	return tools, nil
}

var (
	responseNames = names{"result", "error"}
	listFields    = names{"tools", "resources", "resourceTemplates", "prompts"}
)

// findList returns the array result.<field> of the response msg; a zero
// span when there is nothing to filter.
func findList(msg []byte, field string) (span, error) {
	want := -1
	for i, f := range listFields {
		if f == field {
			want = i
		}
	}
	if want < 0 {
		return span{}, errors.New("mcp: unknown list field " + field)
	}
	if !json.Valid(msg) {
		return span{}, errors.New("mcp: response is not valid JSON")
	}
	whole := span{skipSpace(msg, 0), len(msg)}
	for whole.end > whole.start && isSpace(msg[whole.end-1]) {
		whole.end--
	}
	if kindOf(msg, whole) != '{' {
		return span{}, errors.New("mcp: response is not a JSON object")
	}
	r, reason := readObject(msg, whole, responseNames)
	if reason != "" {
		return span{}, errors.New("mcp: response " + reason)
	}
	if !r.has(0) {
		if r.has(1) {
			return span{}, nil // an error response has nothing to filter
		}
		return span{}, errors.New(`mcp: response has neither "result" nor "error"`)
	}
	if r.has(1) {
		return span{}, errors.New(`mcp: response has both "result" and "error"`)
	}
	res, reason := readObject(msg, r[0], listFields)
	if reason != "" {
		return span{}, errors.New(`mcp: "result" ` + reason)
	}
	switch kindOf(msg, res[want]) {
	case 0, 'n':
		return span{}, nil
	case '[':
		return res[want], nil
	}
	return span{}, errors.New(`mcp: "result.` + field + `" is not an array`)
}

var itemNames = names{"name", "uri", "uriTemplate", "title", "annotations", "inputSchema"}

const (
	iName = iota
	iURI
	iURITemplate
	iTitle
	iAnnotations
	iInputSchema
)

// parseItem reads a list entry; ok is false for an entry that lacks the
// name (or uri) that identifies it, or that would read two ways.
func parseItem(b []byte, v span, field string) (ListItem, bool) {
	item := ListItem{Raw: b[v.start:v.end:v.end]}
	f, reason := readObject(b, v, itemNames)
	if reason != "" {
		return item, false
	}
	var ok bool
	switch field {
	case "tools":
		t, ok := parseToolFields(b, &f)
		item.Name, item.Annotations = t.Name, t.Annotations
		return item, ok
	case "prompts":
		item.Name, ok = stringValue(b, f[iName])
		return item, ok && item.Name != ""
	case "resources":
		item.URI, ok = stringValue(b, f[iURI])
	case "resourceTemplates":
		item.URI, ok = stringValue(b, f[iURITemplate])
	}
	if f.has(iName) {
		item.Name, _ = stringValue(b, f[iName])
	}
	return item, ok && item.URI != ""
}

func parseTool(b []byte, v span) (Tool, bool) {
	f, reason := readObject(b, v, itemNames)
	if reason != "" {
		return Tool{}, false
	}
	return parseToolFields(b, &f)
}

func parseToolFields(b []byte, f *fields) (Tool, bool) {
	var t Tool
	var ok bool
	if t.Name, ok = stringValue(b, f[iName]); !ok || t.Name == "" {
		return t, false
	}
	t.Annotations = parseAnnotations(b, f[iAnnotations])
	t.Title, _ = stringValue(b, f[iTitle])
	if t.Title == "" {
		t.Title = t.Annotations.Title
	}
	if f.has(iInputSchema) {
		s := f[iInputSchema]
		t.InputSchema = b[s.start:s.end:s.end]
	}
	return t, true
}

var annotationNames = names{"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}

// parseAnnotations reads tool annotations. Hints that are absent, not
// booleans, or would read two ways count as not given, so the spec's
// cautious defaults apply.
func parseAnnotations(b []byte, v span) ToolAnnotations {
	var a ToolAnnotations
	if kindOf(b, v) != '{' {
		return a
	}
	f, reason := readObject(b, v, annotationNames)
	if reason != "" {
		return a
	}
	a.Title, _ = stringValue(b, f[0])
	for i, p := range []**bool{&a.ReadOnlyHint, &a.DestructiveHint, &a.IdempotentHint, &a.OpenWorldHint} {
		if val, ok := boolValue(b, f[i+1]); ok {
			*p = &val
		}
	}
	return a
}
