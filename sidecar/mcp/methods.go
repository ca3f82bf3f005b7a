package mcp

// MCP methods the proxy treats specially.
const (
	MethodInitialize             = "initialize"
	MethodPing                   = "ping"
	MethodToolsList              = "tools/list"
	MethodToolsCall              = "tools/call"
	MethodResourcesList          = "resources/list"
	MethodResourcesTemplatesList = "resources/templates/list"
	MethodResourcesRead          = "resources/read"
	MethodResourcesSubscribe     = "resources/subscribe"
	MethodPromptsList            = "prompts/list"
	MethodPromptsGet             = "prompts/get"
	MethodProgress               = "notifications/progress"
	MethodCancelled              = "notifications/cancelled"
)

// knownMethod returns the method name for raw (the bytes between the quotes
// of a JSON string) without allocating, when it is a common MCP method.
func knownMethod(raw []byte) (string, bool) {
	switch string(raw) { // the compiler does not allocate for this switch
	case MethodInitialize:
		return MethodInitialize, true
	case MethodPing:
		return MethodPing, true
	case MethodToolsList:
		return MethodToolsList, true
	case MethodToolsCall:
		return MethodToolsCall, true
	case MethodResourcesList:
		return MethodResourcesList, true
	case MethodResourcesTemplatesList:
		return MethodResourcesTemplatesList, true
	case MethodResourcesRead:
		return MethodResourcesRead, true
	case MethodPromptsList:
		return MethodPromptsList, true
	case MethodPromptsGet:
		return MethodPromptsGet, true
	case MethodProgress:
		return MethodProgress, true
	case MethodCancelled:
		return MethodCancelled, true
	case "notifications/initialized":
		return "notifications/initialized", true
	case "notifications/message":
		return "notifications/message", true
	case "notifications/tools/list_changed":
		return "notifications/tools/list_changed", true
	case "notifications/resources/list_changed":
		return "notifications/resources/list_changed", true
	case "notifications/resources/updated":
		return "notifications/resources/updated", true
	case "notifications/prompts/list_changed":
		return "notifications/prompts/list_changed", true
	case MethodResourcesSubscribe:
		return MethodResourcesSubscribe, true
	case "resources/unsubscribe":
		return "resources/unsubscribe", true
	case "completion/complete":
		return "completion/complete", true
	case "logging/setLevel":
		return "logging/setLevel", true
	case "sampling/createMessage":
		return "sampling/createMessage", true
	case "elicitation/create":
		return "elicitation/create", true
	case "roots/list":
		return "roots/list", true
	}
	return "", false
}
