package mapping

import "time"

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
