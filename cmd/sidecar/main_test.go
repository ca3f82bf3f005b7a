package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestInstallCopiesTheRunningBinary(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "sidecar")
	if err := install(dest); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	want, _ := os.ReadFile(self)
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the installed binary differs from the running one (err %v)", err)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("installed binary is not executable: %v", fi.Mode())
	}
}
