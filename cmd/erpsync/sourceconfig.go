package main

import (
	"erpsync/mapping"
	"erpsync/sync/source"
)

// SourceConfig is the source: section: the mapping's settings (how the
// rows map) and the transport's (where the export is, how it is fetched,
// taken and archived), side by side in one YAML section.
type SourceConfig struct {
	mapping.Config  `yaml:",inline"`
	source.Settings `yaml:",inline"`
}

// transport is the transport's settings, bounded by source.max_bytes as
// the mapping is.
func (s SourceConfig) transport() source.Settings {
	t := s.Settings
	t.MaxBytes = s.Config.MaxBytes
	return t
}
