package sync_test

import (
	"testing"

	"erpsync/sync"
)

func TestSafeCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ACME", "ACME"},
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+33 1 23 45 67 89", "'+33 1 23 45 67 89"}, // a phone number is text
		{"-2+3", "'-2+3"},
		{"\tx", "'\tx"},
		{"-5", "-5"}, // numbers stay numbers
		{"-133.55", "-133.55"},
		{"+2e3", "+2e3"},
		{"12000", "12000"},
		{"-", "'-"},
		{"-.", "'-."},
		{"-1e", "'-1e"},
		{"-Inf", "'-Inf"},
	} {
		if got := sync.SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
