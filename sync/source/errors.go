package source

// UnusableError is an export the source cannot give as it is configured
// or as it is: a path that matches no file, a link, a file listed over
// source.max_bytes, a source URL or setting that cannot be used. Nothing
// was written; it says so to the engine's classifier (Unusable: exit 2),
// which asks an error its class rather than its type.
type UnusableError struct {
	Where string // the source's path or URL, its password redacted
	Err   error
}

func (e *UnusableError) Error() string { return "export " + e.Where + ": " + e.Err.Error() }

func (e *UnusableError) Unwrap() error { return e.Err }

// Unusable says that the export cannot be used: the run stops before any
// write, of the engine's unusable class (exit 2).
func (e *UnusableError) Unusable() bool { return true }
