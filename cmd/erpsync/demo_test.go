package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := NewMain(&stdout, &stderr).Run(context.Background(), []string{"demo"})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	for _, want := range []string{
		"NC-3-NICE: isSubCustomer=true, parent NC-3",
		"The currency with name GBP is not configured.",
		"400 delete_failed: Failed to delete instance.",
		"deleted NC-3\n",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestMain_Usage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := NewMain(&stdout, &stderr).Run(context.Background(), []string{"frobnicate"}); code != ExitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(stderr.String(), `unknown command "frobnicate"`) {
		t.Errorf("stderr = %q", stderr.String())
	}
}
