package source_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/sync"
	"erpsync/sync/source"
)

// A source whose AWS configuration cannot be loaded (a profile that is
// not there) is a configuration error, exit 2, as the other sources'
// configuration errors are; not a fatal one (exit 4).
func TestOpen_S3BadProfileIsUsage(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_PROFILE": "no-such-profile", "AWS_CONFIG_FILE": none,
		"AWS_SHARED_CREDENTIALS_FILE": none, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""} {
		t.Setenv(k, v)
	}
	_, err := source.Open(context.Background(), "s3://erp/inbox/*.csv", source.DefaultSettings(), source.Options{})
	if err == nil {
		t.Fatal("opened an S3 source with a profile that does not exist")
	}
	var fe *source.UnusableError
	if !errors.As(err, &fe) || sync.Classify(err) != sync.ClassUnusable {
		t.Errorf("error %v (%T) is of class %v, want a *source.UnusableError of class %v (exit 2)", err, err, sync.Classify(err), sync.ClassUnusable)
	}
	if !strings.Contains(err.Error(), "no-such-profile") {
		t.Errorf("error %q does not name the profile", err)
	}
}

// TestOpen_ErrorsAreTheSources: a source's unusable export or setting is
// an error of sync/source's own that says it is unusable (the engine asks
// it, exit 2), not another package's type (issue 22).
func TestOpen_ErrorsAreTheSources(t *testing.T) {
	for _, pattern := range []string{"sftp://erp@h/in/*.csv/x", "s3:///in/*.csv", "sftp://erp:pw@h/in/*.csv"} {
		_, err := source.Open(context.Background(), pattern, source.DefaultSettings(), source.Options{})
		var fe *mapping.FileError
		var ue *source.UnusableError
		if err == nil || errors.As(err, &fe) || !errors.As(err, &ue) || sync.Classify(err) != sync.ClassUnusable {
			t.Errorf("Open(%q) = %v (%T), class %v: want an error of the source's own, of class %v (exit 2)",
				pattern, err, err, sync.Classify(err), sync.ClassUnusable)
		}
	}
}
