package main

import (
	"os"
	"path/filepath"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// Review of the merges, point 12: `plan -out` opened its file with
// O_TRUNC: a plan.json left 0644 kept its mode (customers' values
// readable by everyone, whatever reports.file_mode says), and a symbolic
// link there was written through. The file is now removed and created
// anew, of reports.file_mode, never through a link.
func TestE2E_PlanOutReplacesFile(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	export := e.file("p.csv", "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\r\n"+
		"C-1001;Marie's Jewelry;France;Paris;5.000,00;EUR;1;30;;C,S,T;J;;\r\n")
	t.Run("an existing file's mode is not kept", func(t *testing.T) {
		out := filepath.Join(e.dir, "plan.json")
		if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(out, 0o644); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if code, stdout, stderr := e.run("plan", "-file", export, "-out", out); code != ExitOK {
			t.Fatalf("plan: %d\n%s%s", code, stdout, stderr)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o007 != 0 {
			t.Errorf("plan.json is %04o, want reports.file_mode (0640): no access for others", fi.Mode().Perm())
		}
	})
	t.Run("a link there is replaced, not written through", func(t *testing.T) {
		target := filepath.Join(e.dir, "elsewhere.txt")
		if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(e.dir, "linked.json")
		if err := os.Symlink(target, out); err != nil {
			t.Fatal(err)
		}
		if code, stdout, stderr := e.run("plan", "-file", export, "-out", out); code != ExitOK {
			t.Fatalf("plan: %d\n%s%s", code, stdout, stderr)
		}
		if got, _ := os.ReadFile(target); string(got) != "keep me" {
			t.Errorf("the link's target now holds %q: the plan was written through the link", got)
		}
		if fi, err := os.Lstat(out); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, %v; want a regular file holding the plan", out, fi.Mode(), err)
		}
	})
}
