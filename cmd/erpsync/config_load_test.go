package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/sync/plan"
	"erpsync/sync/plan/policy"
)

func TestLoadConfig_Examples(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob("../../configs/*.yaml")
	if len(paths) < 2 {
		t.Fatalf("configs: %v", paths)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			cfg, err := LoadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := mapping.New(cfg.Source.Config, nil); err != nil {
				t.Fatalf("mapping: %v", err)
			}
		})
	}
	cfg, _ := LoadConfig("../../configs/erpsync.example.yaml")
	def := DefaultConfig()
	def.CRM.BaseURL = "http://127.0.0.1:8085" // required, no default: the example's
	if len(cfg.Sync.Fields) == 0 {
		cfg.Sync.Fields = nil // `fields: {}` is the default's nil
	}
	if cfg.CRM != def.CRM || !reflect.DeepEqual(cfg.Sync, def.Sync) || cfg.Serve != def.Serve || cfg.Schedule != def.Schedule ||
		cfg.Source.Settle != def.Source.Settle || cfg.Source.Decimal != def.Source.Decimal ||
		cfg.Notify.Timeout != def.Notify.Timeout || cfg.Notify.Retries != def.Notify.Retries || cfg.Log != def.Log {
		t.Errorf("the example's values differ from the defaults:\n%+v\n%+v", cfg, def)
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"crm:\n  base_url: http://x\n  colour: red\n", "line 3: unknown key colour"},
		// source: is two structs inlined (the mapping's, the transport's): an
		// unknown key is refused there too.
		{"crm:\n  base_url: http://x\nsource:\n  settle: 1s\n  colour: red\n", "line 5: unknown key colour"},
		{"crm:\n  base_url: http://x\nsource:\n  sftp:\n    colour: red\n", "line 5: unknown key colour"},
		{"crm:\n  timeout: soon\n", "soon"},
		{"sync:\n  max_delete: lots\n", `limit "lots"`},
		{"sync:\n  max_delete: 150%\n", "from 0% to 100%"},
		// every guard's limit names its key (issue 23)
		{"sync:\n  max_delete: lots\n", `sync.max_delete (line 2): limit "lots"`},
		{"sync:\n  max_failures: 1x\n", `sync.max_failures (line 2): limit "1x"`},
		{"sync:\n  max_create: abc\n", `sync.max_create (line 2): limit "abc"`},
		{"sync:\n  max_update: -1\n", `sync.max_update (line 2): limit "-1"`},
		{"sync:\n  mode: sync\n  max_blank: abc\n", `sync.max_blank (line 3): limit "abc"`},
		{"sync:\n  max_mapping_change: 101%\n", `sync.max_mapping_change (line 2): limit "101%"`},
		{"sync:\n  deletes: sometimes\n", `sync.deletes "sometimes"`},
		{"sync:\n  drift: crm_wins\n", `sync.drift "crm_wins"`},
		// issue 23: unknown modes and policies, a policy on an unmapped field
		{"sync:\n  mode: mirror_all\n", `sync.mode "mirror_all"`},
		{"source:\n  columns: {reference: KUNNR, phone: TEL}\nsync:\n  fields: {phone: owner}\n", `sync.fields.phone "owner"`},
		{"source:\n  columns: {reference: KUNNR, phone: TEL}\nsync:\n  fields: {fax: crm}\n", "sync.fields.fax: the field is not mapped"},
		{"source:\n  columns: {reference: KUNNR}\nsync:\n  fields: {reference: crm}\n", "sync.fields.reference"},
		{"crm:\n  concurrency: 0\n", "crm.concurrency 0"},
		{"crm: [\n", "yaml"},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(tc.yaml), 0o600)
		_, err := LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to say %q", tc.yaml, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("crm:\n  base_url: http://x\nsync:\n  max_delete: 25\n  lookback: 30s\nsource:\n  settle: 1s\n"), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sync.MaxDelete != (plan.Limit{Count: 25}) || cfg.Sync.Lookback != 30*time.Second || cfg.Source.Settle != time.Second {
		t.Errorf("parsed %+v / %v", cfg.Sync, cfg.Source.Settle)
	}
}

// TestLoadConfig_Policies (issue 23): sync.mode, sync.fields and
// sync.deletes: deactivate are read; the policies other than erp go into
// the mapping's fingerprint, so that changing one compares every row
// again.
func TestLoadConfig_Policies(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("crm:\n  base_url: http://x\nsource:\n  columns: {reference: KUNNR, phone: TEL, email: MAIL}\n"+
		"sync:\n  mode: update_only\n  deletes: deactivate\n  fields: {phone: crm, email: erp}\n"), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sync.Mode != policy.ModeUpdateOnly || cfg.Sync.Deletes != policy.DeletesDeactivate || cfg.Sync.Fields.Of("phone") != policy.CRM {
		t.Errorf("sync: %+v", cfg.Sync)
	}
	if want := map[string]string{"phone": "crm"}; !reflect.DeepEqual(cfg.Source.Policies, want) {
		t.Errorf("source policies %v, want %v (erp's are the default: not in the fingerprint)", cfg.Source.Policies, want)
	}
}
