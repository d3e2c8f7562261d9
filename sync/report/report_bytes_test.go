package report_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"erpsync/mapping"
	"erpsync/sync/apply"
	"erpsync/sync/plan"
	"erpsync/sync/report"
)

// sampleRun writes a run's report files from a few outcomes, with cells a
// spreadsheet could run, a comma, a quote and a line break.
func sampleRun(t *testing.T) *report.Run {
	t.Helper()
	r, err := report.New(t.TempDir(), "run-1", 0, report.CSV{})
	if err != nil {
		t.Fatal(err)
	}
	r.Add(apply.Result{Action: &plan.Action{Op: plan.OpCreate, Reference: "C1", Line: 2}, Status: 201, Message: "created"})
	r.Add(apply.Result{Action: &plan.Action{Op: plan.OpUpdate, Reference: "=C2", Line: 3}, Err: errors.New("x"),
		Status: 422, Code: "invalid_field", Message: "bad \"email\", see\nline 2"})
	r.Add(apply.Result{Action: &plan.Action{Op: plan.OpDelete, Reference: "GONE"}, NotSent: "guard, stopped"})
	r.AddRowError(&mapping.RowError{Line: 4, Reference: "@R4", Column: "email", Err: errors.New("no email")})
	ws := []*mapping.RowError{{Line: 5, Reference: "-W5", Column: "website", Err: errors.New("+spaces")}}
	if err := r.WriteWarnings(ws, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(report.Summary{}); err != nil {
		t.Fatal(err)
	}
	return r
}

// samplePlan is a plan with a create, an update, a delete and a row error.
func samplePlan() *plan.Plan {
	return &plan.Plan{
		Upserts: [][]*plan.Action{{
			{Op: plan.OpUpdate, Reference: "U1", Line: 2, Reason: "changed",
				Changes: []plan.Change{{Field: "email", Old: "a@x", New: "=b@x"}, {Field: "creditLimit", Old: "-5", New: "10,5"}}},
		}},
		Deletes:   [][]*plan.Action{{{Op: plan.OpDelete, Reference: "D1", Reason: "absent"}}},
		RowErrors: []*mapping.RowError{{Line: 7, Reference: "+B7", Column: "email", Err: errors.New("no \"email\"")}},
	}
}

// TestReportFiles_Bytes: the report files' bytes, header and cell
// sanitising included, are those erpsync has always written.
func TestReportFiles_Bytes(t *testing.T) {
	r := sampleRun(t)
	want := map[string]string{
		"success.csv": "operation,reference,line,http_status,error,message\n" +
			"create,C1,2,201,,created\n",
		"errors.csv": "operation,reference,line,http_status,error,message\n" +
			"update,'=C2,3,422,invalid_field,\"bad \"\"email\"\", see\nline 2\"\n" +
			"delete,GONE,,,not_sent,\"guard, stopped\"\n" +
			"read,'@R4,4,,invalid_row,no email\n",
		"warnings.csv": "reference,line,column,warning\n" +
			"'-W5,5,website,'+spaces\n",
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(r.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\n%q\nwant\n%q", name, got, w)
		}
	}
	var buf bytes.Buffer
	if err := (report.CSV{}).WritePlan(&buf, samplePlan()); err != nil {
		t.Fatal(err)
	}
	wantPlan := "operation,reference,line,field,old,new,reason\n" +
		"update,U1,2,email,a@x,'=b@x,changed\n" +
		"update,U1,2,creditLimit,-5,\"10,5\",changed\n" +
		"delete,D1,,,,,absent\n" +
		"error,'+B7,7,email,,,\"no \"\"email\"\"\"\n"
	if buf.String() != wantPlan {
		t.Errorf("plan CSV:\n%q\nwant\n%q", buf.String(), wantPlan)
	}
}

// BenchmarkRunAdd is the cost of one success.csv line (an import writes
// a million): encoding, sanitising and its share of the batched writes.
func BenchmarkRunAdd(b *testing.B) {
	r, err := report.New(b.TempDir(), "bench", 0, report.CSV{})
	if err != nil {
		b.Fatal(err)
	}
	a := &plan.Action{Op: plan.OpCreate, Reference: "CUST-0001234", Line: 2}
	res := apply.Result{Action: a, Status: 201, Message: "created"}
	b.ReportAllocs()
	for b.Loop() {
		a.Line++
		r.Add(res)
	}
	if err := r.Close(report.Summary{}); err != nil {
		b.Fatal(err)
	}
}
