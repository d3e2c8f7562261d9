package history

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultRetention is state.history's default: 400 days, a year and a
// month for the year-end questions.
const DefaultRetention = 400 * 24 * time.Hour

// ParseRetention reads state.history: days ("400d"), a Go duration
// ("720h"), or "0" / "off" for no history.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "0", "off":
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 && n <= 100*366 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("state.history %q: want a number of days such as 400d, a duration such as 720h, or off", s)
}

// Retention is state.history as the config holds it: a duration read by
// ParseRetention.
type Retention time.Duration

// UnmarshalText reads "400d", "720h" or off.
func (r *Retention) UnmarshalText(b []byte) error {
	d, err := ParseRetention(string(b))
	if err != nil {
		return err
	}
	*r = Retention(d)
	return nil
}
