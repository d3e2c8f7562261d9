package mapping

import "runtime"

// Salt is the mapping's row-sum salt, for the tests of the declared
// settings (settings_test.go).
func (m *Mapping) Salt() uint64 { return m.salt }

// DeclaredSettings returns the keys of settings.go's declaration by
// effect.
func DeclaredSettings() (values, reading, transport []string) {
	for _, s := range settings {
		switch s.effect {
		case changesValues:
			values = append(values, s.key)
		case changesReading:
			reading = append(reading, s.key)
		default:
			transport = append(transport, s.key)
		}
	}
	return values, reading, transport
}

// StaleRowPanics sets whether a lazy row mapped too late panics (as in
// tests) or is a row error (as outside them); it returns the undo.
func StaleRowPanics(on bool) (undo func()) {
	was := staleRowPanics
	staleRowPanics = on
	return func() { staleRowPanics = was }
}

// MappedAhead is the most rows a read on this machine may have mapped
// before fn has its first row: the batch delivered, those queued behind
// it, and the one the reader holds.
func MappedAhead() int { return (queued(runtime.GOMAXPROCS(0)) + 2) * batchSize }
