package source

import "time"

// Settings are source:'s transport settings: where the export is, how a
// remote one is fetched, and how serve takes and archives it. The rest of
// source: is the mapping's (mapping.Config); both are read from the one
// section, and nothing here changes how a row maps.
type Settings struct {
	Path         string        `yaml:"path"`          // a file or glob; sftp:// or s3:// URLs too
	ArchiveDir   string        `yaml:"archive_dir"`   // serve: where a processed export goes
	Settle       time.Duration `yaml:"settle"`        // serve: a file unchanged this long is taken
	SFTP         SFTPConfig    `yaml:"sftp"`          // read when Path is an sftp:// URL
	S3           S3Config      `yaml:"s3"`            // read when Path is an s3:// URL
	StallTimeout time.Duration `yaml:"stall_timeout"` // remote copies: cut when no byte moves this long (2m when 0)
	// MaxBytes is source.max_bytes, the mapping's key (it bounds the
	// decompressed export), which bounds a remote copy too: set from it,
	// never read from the file here (DefaultMaxBytes when 0).
	MaxBytes int64 `yaml:"-"`
}

// DefaultSettings returns the documented defaults.
func DefaultSettings() Settings { return Settings{Settle: 10 * time.Second} }

// SFTPConfig is `source.sftp:`, read when source.path is an sftp:// URL.
// Secrets are never in the file: only the names of the environment
// variables that hold them.
type SFTPConfig struct {
	KeyFile               string        `yaml:"key_file"`                 // private key (OpenSSH or PEM)
	PassphraseEnv         string        `yaml:"passphrase_env"`           // the key's passphrase, if any
	PasswordEnv           string        `yaml:"password_env"`             // password login instead of a key
	KnownHosts            string        `yaml:"known_hosts"`              // host keys to trust (OpenSSH format)
	InsecureIgnoreHostKey bool          `yaml:"insecure_ignore_host_key"` // skip the check; warned at every run
	Timeout               time.Duration `yaml:"timeout"`                  // to connect; 30s when 0
}

// S3Config is `source.s3:`, read when source.path is an s3:// URL. The
// credentials come from the standard AWS chain (environment, shared
// files, instance roles).
type S3Config struct {
	Endpoint  string `yaml:"endpoint"`   // for S3-compatible stores such as MinIO
	Region    string `yaml:"region"`     // us-east-1 when unset and the chain has none
	PathStyle *bool  `yaml:"path_style"` // bucket in the path; default true with an endpoint
}
