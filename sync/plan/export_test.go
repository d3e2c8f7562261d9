package plan

// WithKey returns opt with the hash the plan's index keys references by
// replaced by key: a test makes two references collide with it.
func WithKey(opt Options, key func(ref string) uint64) Options {
	opt.keyOf = key
	return opt
}
