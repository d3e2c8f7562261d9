package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"erpsync/sync/source"
)

// Issue 26 follow-up §5: sftp.password_env (and passphrase_env) name a
// variable; a value that is no variable's name is most likely the secret
// pasted in, and it is refused without being shown. A plain variable
// name that is unset is still named, to be set.
func TestSFTP_PasswordEnvNotEchoed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sftp     source.SFTPConfig
		want     string // in the error
		notShown string // never in the error
	}{
		{"password pasted", source.SFTPConfig{PasswordEnv: "s3cr3t pa$$word!"}, "sftp.password_env is not the name", "pa$$word"},
		{"password with a dash", source.SFTPConfig{PasswordEnv: "correct-horse-battery"}, "sftp.password_env is not the name", "horse"},
		{"lowercase name-like secret", source.SFTPConfig{PasswordEnv: "Tr0ub4dor3xkcd"}, "sftp.password_env", "Tr0ub4dor3xkcd"},
		{"passphrase pasted", source.SFTPConfig{KeyFile: "testdata/none", PassphraseEnv: "my passphrase"}, "sftp.passphrase_env is not the name", "my passphrase"},
		{"unset variable", source.SFTPConfig{PasswordEnv: "ERP_SFTP_PASSWORD"}, "ERP_SFTP_PASSWORD", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := source.DefaultSettings()
			cfg.SFTP = tc.sftp
			cfg.SFTP.InsecureIgnoreHostKey = true
			_, err := source.Open(context.Background(), "sftp://erp@127.0.0.1:1/inbox/*.csv", cfg,
				source.Options{Getenv: func(string) string { return "" }})
			var fe *source.UnusableError
			if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want a config error saying %q", err, tc.want)
			}
			if tc.notShown != "" && strings.Contains(err.Error(), tc.notShown) {
				t.Errorf("err = %v: it shows the value", err)
			}
		})
	}
}
