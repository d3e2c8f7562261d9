package reconcile

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestCRMEntry_PointerFree: a listing keeps one entry for each customer
// of the CRM (millions); entries without pointers are never scanned by
// the collector, and 32 bytes of them are 128 MB at four million.
func TestCRMEntry_PointerFree(t *testing.T) {
	typ := reflect.TypeFor[crmEntry]()
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface:
			t.Errorf("crmEntry.%s is a %s: the collector scans every entry", f.Name, f.Type.Kind())
		}
	}
	if size := unsafe.Sizeof(crmEntry{}); size > 32 {
		t.Errorf("crmEntry is %d bytes, want at most 32", size)
	}
}
