// Package report writes what a run leaves for people: the run's folder
// (New, Run) with success.csv and errors.csv, written whole lines at a
// time as outcomes arrive (every row of the export in exactly one line of
// the two), warnings.csv, and summary.json with its row account; and a
// plan's -out file (CSV.WritePlan, WritePlanJSON). Each CSV is declared
// by one row struct with csv tags (OutcomeLine, WarningLine, PlanLine)
// and written through gocsv (WriteHeader, WriteRows), every cell made
// inert for spreadsheets (SafeCell). On the console, PrintPlan and
// PrintColumns show a plan, PrintStatus and PrintHeld what `erpsync
// status` and `release` show; Clip bounds a text shown to people.
package report
