// Package genexport writes large synthetic ERP exports, deterministic by
// seed: a day-1 file and a day-2 file in which a share of the rows changed,
// was removed and was added, sub-customers included. Benchmarks and load
// tests use it; `go run ./cmd/genexport` writes the files.
//
// The files have 25 columns in the SAP-like format of configs/demo.yaml
// (";" separated, decimal commas); Config returns the matching mapping.
package genexport

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"erpsync/mapping"
)

// Options say what to generate.
type Options struct {
	Rows    int     // rows of day 1
	Seed    uint64  // same seed, same files
	Changed float64 // share of day-1 rows changed on day 2, e.g. 0.01
	Removed float64 // share of day-1 rows absent on day 2 (never a parent)
	Added   float64 // share of new rows on day 2, relative to Rows
}

// Header is the export's header line.
var Header = []string{
	"KUNNR", "NAME1", "LAND1", "ORT01", "KLIMK", "WAERS", "ZTERM_TYPE", "ZTERM_DAYS", "PARENT", "ZAHLW",
	"KATEGORIE", "SPERR", "LOEVM", "STRAS", "PSTLZ", "TELF1", "TELFX", "SMTP", "STCEG", "BRSCH",
	"KTOKD", "ERDAT", "ERNAM", "VKORG", "SORTL",
}

var (
	countries = []string{"FR", "DE", "US", "GB", "IT", "ES", "BE", "NL", "France", "Germany"}
	cities    = []string{"Paris", "Lyon", "Berlin", "München", "New York", "London", "Milano", "Madrid", "Bruxelles", "Amsterdam"}
	words     = []string{"Golden", "Silver", "Nord", "Atelier", "Maison", "Hudson", "Lumière", "Gems", "Trading", "Partners"}
)

// Config is the mapping of the generated files (as configs/demo.yaml).
func Config() mapping.Config {
	c := mapping.DefaultConfig()
	c.Decimal = ","
	c.ListSeparator = ","
	c.TrueValues = []string{"X", "true", "1", "yes"}
	c.FalseValues = []string{"false", "0", "no", "-"}
	c.Columns = map[string]string{
		"reference": "KUNNR", "name": "NAME1", "billingCountry": "LAND1", "billingCity": "ORT01",
		"creditLimit": "KLIMK", "currency": "WAERS", "dueDateConfigType": "ZTERM_TYPE",
		"dueDateConfigNumber": "ZTERM_DAYS", "parentCustomer": "PARENT", "paymentTypes": "ZAHLW",
		"categoryId": "KATEGORIE", "onHold": "SPERR", "billingAddress": "STRAS", "billingPostalCode": "PSTLZ",
		"phone": "TELF1", "email": "SMTP", "taxNumber": "STCEG",
	}
	c.Values = map[string]map[string]string{
		"categoryId":   {"J": "jewelry", "R": "retail", "W": "wholesale"},
		"paymentTypes": {"C": "7", "S": "8", "T": "9"},
	}
	c.DeleteFlag = mapping.DeleteFlag{Column: "LOEVM", Values: []string{"X"}}
	return c
}

// isParent: every 20th customer has the next three as sub-customers.
func isParent(i int) bool { return i%20 == 0 }

func parentOf(i int) int {
	if i%20 >= 1 && i%20 <= 3 {
		return i - i%20
	}
	return -1
}

// row writes customer i; version > 0 changes its credit limit and city.
func row(b *strings.Builder, i int, seed uint64, version int) {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	ref := fmt.Sprintf("K%08d", i)
	parent := ""
	if p := parentOf(i); p >= 0 {
		parent = fmt.Sprintf("K%08d", p)
	}
	limit := r.IntN(5_000_000) + version*1000
	city := cities[r.IntN(len(cities))]
	if version > 0 {
		city = cities[(r.IntN(len(cities))+version)%len(cities)]
	}
	dueType := 1 + r.IntN(2)
	cells := []string{
		ref,
		fmt.Sprintf("%s %s %d", words[r.IntN(len(words))], words[r.IntN(len(words))], i),
		countries[r.IntN(len(countries))],
		city,
		fmt.Sprintf("%d.%03d,%02d", limit/100_000, (limit/100)%1000, limit%100),
		[]string{"EUR", "USD"}[r.IntN(2)],
		fmt.Sprint(dueType),
		fmt.Sprint(15 * (1 + r.IntN(4))),
		parent,
		[]string{"C", "C,S", "S,T", "T"}[r.IntN(4)],
		[]string{"J", "R", "W"}[r.IntN(3)],
		[]string{"", "", "", "X"}[r.IntN(4)],
		"",
		fmt.Sprintf("%d rue %s", 1+r.IntN(200), words[r.IntN(len(words))]),
		fmt.Sprintf("%05d", r.IntN(99999)),
		fmt.Sprintf("+33 1 %08d", r.IntN(99_999_999)),
		fmt.Sprintf("+33 1 %08d", r.IntN(99_999_999)),
		fmt.Sprintf("contact%d@example.com", i),
		fmt.Sprintf("FR%011d", r.Int64N(99_999_999_999)),
		fmt.Sprintf("B%02d", r.IntN(99)),
		"KUNA",
		fmt.Sprintf("2019%02d%02d", 1+r.IntN(12), 1+r.IntN(28)),
		"MIGRATION",
		fmt.Sprintf("%04d", 1000+r.IntN(9)),
		strings.ToUpper(words[r.IntN(len(words))]),
	}
	b.WriteString(strings.Join(cells, ";"))
	b.WriteString("\r\n")
}

// fate decides what day 2 does to day-1 row i.
func fate(i int, opt Options) (removed, changed bool) {
	r := rand.New(rand.NewPCG(opt.Seed^0xda7, uint64(i)))
	x := r.Float64()
	removed = x < opt.Removed && !isParent(i)
	changed = !removed && x < opt.Removed+opt.Changed
	return removed, changed
}

// Write writes day 1 or day 2.
func Write(w io.Writer, day int, opt Options) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var b strings.Builder
	b.WriteString(strings.Join(Header, ";") + "\r\n")
	for i := range opt.Rows {
		version := 0
		if day == 2 {
			removed, changed := fate(i, opt)
			if removed {
				continue
			}
			if changed {
				version = 1
			}
		}
		row(&b, i, opt.Seed, version)
		if b.Len() > 64<<10 {
			if _, err := bw.WriteString(b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if day == 2 {
		for i := opt.Rows; i < opt.Rows+int(float64(opt.Rows)*opt.Added); i++ {
			row(&b, i, opt.Seed, 0)
		}
	}
	if _, err := bw.WriteString(b.String()); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteFiles writes day1.csv and day2.csv into dir.
func WriteFiles(dir string, opt Options) (day1, day2 string, err error) {
	for day, name := range map[int]string{1: "day1.csv", 2: "day2.csv"} {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return "", "", err
		}
		if err := Write(f, day, opt); err != nil {
			f.Close()
			return "", "", fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", "", err
		}
	}
	return filepath.Join(dir, "day1.csv"), filepath.Join(dir, "day2.csv"), nil
}

// LargeOptions are the benchmarks' exports: 1,000,000 rows, 1% changed,
// 0.5% removed and 0.5% added on day 2.
var LargeOptions = Options{Rows: 1_000_000, Seed: 1, Changed: 0.01, Removed: 0.005, Added: 0.005}

// Ensure returns day1.csv and day2.csv in dir, writing them first when
// they are not there yet.
func Ensure(dir string, opt Options) (day1, day2 string, err error) {
	day1, day2 = filepath.Join(dir, "day1.csv"), filepath.Join(dir, "day2.csv")
	if _, err := os.Stat(day2); err == nil {
		return day1, day2, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	return WriteFiles(dir, opt)
}

// FloorRead reads a generated export with encoding/csv alone (";",
// ReuseRecord): no decoding of values, no mapping, no hash. Benchmarks
// measure every stage against it, in the same run. It returns the
// records read, the header included.
func FloorRead(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.Comma = ';'
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read %s record %d: %w", path, n+1, err)
		}
		n++
	}
}
