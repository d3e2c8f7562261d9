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
	_, err := source.Open(context.Background(), "s3://erp/inbox/*.csv", mapping.DefaultConfig(), source.Options{})
	if err == nil {
		t.Fatal("opened an S3 source with a profile that does not exist")
	}
	var fe *mapping.FileError
	if !errors.As(err, &fe) || sync.Classify(err) != sync.ClassUnusable {
		t.Errorf("error %v (%T) is of class %v, want a *mapping.FileError of class %v (exit 2)", err, err, sync.Classify(err), sync.ClassUnusable)
	}
	if !strings.Contains(err.Error(), "no-such-profile") {
		t.Errorf("error %q does not name the profile", err)
	}
}
