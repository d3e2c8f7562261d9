package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// pastedToken is a token pasted into crm.token_env instead of a variable's name.
const pastedToken = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.Xq9-Zt7"

func TestConfig_TokenPastedIntoTokenEnv(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return strings.Replace(cfg, "auth: none", "auth: bearer", 1)
	})
	cfg, _ := os.ReadFile(e.cfg)
	os.WriteFile(e.cfg, []byte(strings.Replace(string(cfg), "token_env: CRM_TOKEN", "token_env: "+pastedToken, 1)), 0o600)
	for _, cmd := range []string{"check", "run", "plan"} {
		code, out, errOut := e.run(cmd)
		if code != ExitUsage {
			t.Errorf("%s: exit %d, want %d\n%s%s", cmd, code, ExitUsage, out, errOut)
		}
		if strings.Contains(out+errOut, pastedToken) || strings.Contains(out+errOut, "c2VjcmV0LXRva2VuLXZhbHVl") {
			t.Errorf("%s: the token is echoed:\n%s%s", cmd, out, errOut)
		}
		if !strings.Contains(errOut, "crm.token_env") {
			t.Errorf("%s: the error does not name crm.token_env:\n%s", cmd, errOut)
		}
	}
}

func TestConfig_WorldWritable(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return cfg + "schedule: \"@every 1h\"\nserve:\n  listen: 127.0.0.1:0\n"
	})
	if err := os.Chmod(e.cfg, 0o666); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.run("plan", "-file", "../../testdata/exports/day1.csv")
	if code != ExitOK || !strings.Contains(errOut, "writable by every user") {
		t.Errorf("plan: exit %d, want 0 and a warning\n%s%s", code, out, errOut)
	}
	// serve refuses it at once; the deadline only bounds a serve that would not.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sb strings.Builder
	code = NewMain(&sb, &sb).Run(ctx, []string{"serve", "-config", e.cfg})
	if code != ExitUsage || !strings.Contains(sb.String(), "writable by every user") {
		t.Errorf("serve: exit %d, want %d refusing the config\n%s", code, ExitUsage, sb.String())
	}
}

func TestReports_FileMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		setting   string
		file, dir os.FileMode
	}{
		{"", 0o640, 0o750},
		{"  file_mode: \"0600\"\n", 0o600, 0o700},
	} {
		e := newE2E(t, crmsim.Options{}, func(cfg string) string {
			return strings.Replace(cfg, "reports:\n", "reports:\n"+tc.setting, 1)
		})
		bad := e.file("bad.csv", "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\n"+
			"K1;Alpha;FR;Nice;1,00;EUR;1;30;;C;J;;\nK2;;FR;Nice;1,00;EUR;1;30;;C;J;;\n")
		if code, out, errOut := e.run("run", "-file", bad); code != ExitRowFails {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		dirs, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*"))
		if len(dirs) != 1 {
			t.Fatalf("report folders %v", dirs)
		}
		if st, err := os.Stat(dirs[0]); err != nil || st.Mode().Perm() != tc.dir {
			t.Errorf("%q: the report folder is %v, want %v (%v)", tc.setting, st.Mode().Perm(), tc.dir, err)
		}
		files, _ := os.ReadDir(dirs[0])
		if len(files) < 3 {
			t.Errorf("report files %v", files)
		}
		for _, f := range files {
			st, err := os.Stat(filepath.Join(dirs[0], f.Name()))
			if err != nil || st.Mode().Perm() != tc.file {
				t.Errorf("%q: %s is %v, want %v (%v)", tc.setting, f.Name(), st.Mode().Perm(), tc.file, err)
			}
		}
	}
}

// TestPlanOut_FileMode: plan -out writes customers' values, old and new:
// a report like the others, of mode reports.file_mode.
func TestPlanOut_FileMode(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	out := filepath.Join(e.dir, "plan.csv")
	if code, o, errOut := e.run("plan", "-file", "../../testdata/exports/day1.csv", "-out", out); code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, o, errOut)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("plan -out is %v, want 0640", st.Mode().Perm())
	}
}

func TestLoadConfig_ReportsBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"reports:\n  file_mode: \"0666\"\n", "reports.file_mode 0666"},
		{"reports:\n  file_mode: \"0400\"\n", "reports.file_mode 0400"},
		{"reports:\n  file_mode: rw\n", `file mode "rw"`},
		{"reports:\n  max_errors: 0\n", "reports.max_errors 0"},
		{"crm:\n  auth: session\n  password_env: " + pastedToken + "\n", "crm.password_env is not the name"},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(tc.yaml), 0o600)
		_, err := LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), pastedToken) {
			t.Errorf("%q: err = %v, want it to say %q", tc.yaml, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("crm:\n  base_url: http://127.0.0.1:8085\nreports:\n  file_mode: 0600\n  max_errors: 10\n"), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil || cfg.Reports.FileMode != 0o600 || cfg.Reports.MaxErrors != 10 {
		t.Errorf("cfg %+v, err %v", cfg, err)
	}
}
