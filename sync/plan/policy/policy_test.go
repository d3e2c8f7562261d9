package policy_test

import (
	"strings"
	"testing"

	"erpsync/sync/plan/policy"
)

// TestFields_Check: an unknown policy, the reference, and a field not
// mapped are refused, naming the key; the others pass.
func TestFields_Check(t *testing.T) {
	mapped := func(f string) bool { return f == "email" || f == "phone" || f == "reference" }
	for _, tc := range []struct {
		fs   policy.Fields
		want string // in the error; "" for none
	}{
		{policy.Fields{"email": policy.CRM, "phone": policy.Keep}, ""},
		{policy.Fields{"email": "mine"}, "sync.fields.email"},
		{policy.Fields{"reference": policy.Fill}, "always the ERP's"},
		{policy.Fields{"fax": policy.Fill}, "not mapped"},
	} {
		err := tc.fs.Check(mapped)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.fs, err, tc.want)
		}
	}
	fs := policy.Fields{"email": policy.Fill, "phone": policy.ERP}
	if !fs.Owned() || fs.Of("fax") != policy.ERP || !fs.CRMOwns("email", "a", "b") || fs.CRMOwns("email", "a", "") {
		t.Error("Owned, Of or CRMOwns")
	}
	if d := fs.Declared(); len(d) != 1 || d["email"] != "fill" {
		t.Errorf("Declared = %v", d)
	}
}

// TestMode: an unknown mode is refused; only sync (or none) deletes, and
// only mirror and deactivate delete absent references.
func TestMode(t *testing.T) {
	if err := policy.Mode("upsert_only").Check(); err == nil {
		t.Error("an unknown mode passed")
	}
	if !policy.Mode("").Deletes() || !policy.ModeSync.Deletes() || policy.ModeUpsert.Deletes() {
		t.Error("Deletes")
	}
	if policy.DeletesNever.Mirrors() || !policy.DeletesMirror.Mirrors() || !policy.DeletesDeactivate.Mirrors() {
		t.Error("Mirrors")
	}
}
