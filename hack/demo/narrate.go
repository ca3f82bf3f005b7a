package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// narrator prints the demo: headings, prose, the commands a person would
// type, and what they printed. Colors only on a terminal, never with NO_COLOR.
type narrator struct {
	w     io.Writer
	color bool
}

func newNarrator(w *os.File, noColor bool) *narrator {
	color := false
	if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		color = !noColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	}
	return &narrator{w: w, color: color}
}

const (
	bold   = "1"
	dim    = "2"
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
)

func (n *narrator) paint(code, s string) string {
	if !n.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// heading starts step i of total.
func (n *narrator) heading(i, total int, title string) {
	line := fmt.Sprintf("━━ %d/%d  %s ", i, total, title)
	if pad := 78 - len([]rune(line)); pad > 0 {
		line += strings.Repeat("━", pad)
	}
	_, _ = fmt.Fprintf(n.w, "\n%s\n", n.paint(bold+";"+cyan, line))
}

// say is the narration.
func (n *narrator) say(format string, args ...any) {
	_, _ = fmt.Fprintf(n.w, "  %s\n", fmt.Sprintf(format, args...))
}

// cmd is a command as a person would type it; continuation lines are indented.
func (n *narrator) cmd(lines ...string) {
	for i, l := range lines {
		prefix := "  $ "
		if i > 0 {
			prefix = "      "
		}
		_, _ = fmt.Fprintf(n.w, "%s%s\n", prefix, n.paint(bold, l))
	}
}

// out is what a command printed, indented.
func (n *narrator) out(text string) { n.outMax(text, 0) }

// outMax is out with at most limit lines (0: all), saying how many it left out.
func (n *narrator) outMax(text string, limit int) {
	if strings.TrimSpace(text) == "" {
		return
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	more := 0
	if limit > 0 && len(lines) > limit {
		more = len(lines) - limit
		lines = lines[:limit]
	}
	for _, l := range lines {
		if l == "" {
			_, _ = fmt.Fprintln(n.w)
			continue
		}
		_, _ = fmt.Fprintf(n.w, "    %s\n", l)
	}
	if more > 0 {
		_, _ = fmt.Fprintf(n.w, "    %s\n", n.paint(dim, fmt.Sprintf("… %d more lines", more)))
	}
}

// ok states what the step proved.
func (n *narrator) ok(format string, args ...any) {
	_, _ = fmt.Fprintf(n.w, "  %s %s\n", n.paint(green, "✓"), fmt.Sprintf(format, args...))
}

// coming states plainly what is not built yet.
func (n *narrator) coming(format string, args ...any) {
	_, _ = fmt.Fprintf(n.w, "  %s %s\n", n.paint(yellow, "coming:"), fmt.Sprintf(format, args...))
}

// fail reports a step that did not behave as narrated.
func (n *narrator) fail(format string, args ...any) {
	_, _ = fmt.Fprintf(n.w, "  %s %s\n", n.paint(red+";"+bold, "✗"), fmt.Sprintf(format, args...))
}
