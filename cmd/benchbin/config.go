package main

import (
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"erpsync/mapping/genexport"
)

// writeConfig writes the config of an erpsync against the CRM at url into
// dir: the mapping of genexport's files (genexport.Config, so that they
// cannot disagree), the checkpoint and reports in dir, no credentials
// (crmsim asks none), concurrency requests at once. As the README's
// figures through the binaries: `sync.lookback: 1s`, `drift: report`.
func writeConfig(dir, url string, concurrency int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	m := genexport.Config()
	cfg := map[string]any{
		"crm": map[string]any{"base_url": url, "auth": "none", "concurrency": concurrency},
		"source": map[string]any{
			"delimiter": m.Delimiter, "decimal": m.Decimal, "list_separator": m.ListSeparator,
			"true_values": m.TrueValues, "false_values": m.FalseValues,
			"columns": m.Columns, "values": m.Values,
			"delete_flag": map[string]any{"column": m.DeleteFlag.Column, "values": m.DeleteFlag.Values},
		},
		"state":   map[string]any{"path": filepath.Join(dir, "erpsync.db")},
		"sync":    map[string]any{"deletes": "mirror", "max_delete": "10%", "lookback": "1s", "drift": "report"},
		"reports": map[string]any{"dir": filepath.Join(dir, "reports")},
	}
	text, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "erpsync.yaml")
	return path, os.WriteFile(path, text, 0o644)
}
