// Package gitleaks compares package sidecar/mask with gitleaks' detector on
// the same generated documents (sidecar/mask/masktest). It is a separate
// module so that gitleaks and its dependencies stay out of Airlock's
// go.mod. Run from this directory:
//
//	go test -run x -bench . -benchmem -cpu 1 .
//	go test -run Findings -v .   # what each finds in the planted document
package gitleaks
