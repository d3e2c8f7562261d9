// Package report writes what a run leaves for people: the run's folder
// (New, Run) with success.csv and errors.csv, written whole lines at a
// time as outcomes arrive (every row of the export in exactly one line of
// the two), warnings.csv, and summary.json with its row account; and a
// plan's -out file (WritePlanCSV, WritePlanJSON). Every cell is made
// inert for spreadsheets (SafeCell, SafeWriter).
package report
