package guard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limit is a count ("50") or a share of a total ("5%"), as max_delete and
// max_failures are written.
type Limit struct {
	Count     int
	Percent   float64 // used when IsPercent
	IsPercent bool
}

// ParseLimit reads "50" or "5%" (or "2.5%").
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 || math.IsNaN(v) {
			return Limit{}, fmt.Errorf("limit %q: want a percentage from 0%% to 100%%", s)
		}
		return Limit{Percent: v, IsPercent: true}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("limit %q: want a count such as 50 or a percentage such as 5%%", s)
	}
	return Limit{Count: n}, nil
}

// Of returns the limit for a total: the count, or the share of total
// rounded down.
func (l Limit) Of(total int) int {
	if !l.IsPercent {
		return l.Count
	}
	return int(math.Floor(float64(total) * l.Percent / 100))
}

func (l Limit) String() string {
	if l.IsPercent {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.Count)
}

// UnmarshalText lets a YAML or flag value be a Limit.
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
