package stdio

import (
	"strings"
)

// DefaultInherit are the variables a stdio MCP server gets from the
// sidecar's environment without asking: what programs need to find
// themselves, their home, their locale, and the network.
var DefaultInherit = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "LANG", "LANGUAGE", "LC_*",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

// InheritEnv returns the entries of environ (NAME=value, as os.Environ
// gives them) whose names are in DefaultInherit or extra. A name ending in
// "*" matches every name with that prefix; "*" alone matches all.
//
// Credentials are not inherited: the Transport adds them from the MCPServer,
// and they override an inherited variable of the same name.
func InheritEnv(environ, extra []string) []string {
	patterns := append(append([]string(nil), DefaultInherit...), extra...)
	var env []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		for _, p := range patterns {
			if p == name || (strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*"))) {
				env = append(env, kv)
				break
			}
		}
	}
	return env
}

// mergeEnv is base with over's entries replacing those of the same name.
func mergeEnv(base, over []string) []string {
	names := make(map[string]bool, len(over))
	for _, kv := range over {
		name, _, _ := strings.Cut(kv, "=")
		names[name] = true
	}
	env := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		if name, _, _ := strings.Cut(kv, "="); !names[name] {
			env = append(env, kv)
		}
	}
	return append(env, over...)
}
