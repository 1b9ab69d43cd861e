package deploytest

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// The conformance suite compares records field by field with reflection, so
// that fields added to the model later are checked without changing the
// suite.

var timeType = reflect.TypeFor[time.Time]()

// diff returns the paths at which got and want differ, at most max of them.
// Times are compared as instants (time.Time.Equal); an empty slice or map
// equals nil.
func diff(got, want any, max int) []string {
	var out []string
	diffValue("", reflect.ValueOf(got), reflect.ValueOf(want), &out, max)
	return out
}

func diffValue(path string, got, want reflect.Value, out *[]string, max int) {
	if len(*out) >= max {
		return
	}
	report := func(g, w any) {
		*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", orRoot(path), g, w))
	}
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			report(g.String(), w.String())
		}
		return
	}
	switch got.Kind() {
	case reflect.Pointer:
		switch {
		case got.IsNil() && want.IsNil():
		case got.IsNil() || want.IsNil():
			report(ptrString(got), ptrString(want))
		default:
			diffValue(path, got.Elem(), want.Elem(), out, max)
		}
	case reflect.Struct:
		for i := range got.NumField() {
			f := got.Type().Field(i)
			if f.IsExported() {
				diffValue(path+"."+f.Name, got.Field(i), want.Field(i), out, max)
			}
		}
	case reflect.Slice:
		if got.Len() != want.Len() {
			report(fmt.Sprintf("%d elements", got.Len()), fmt.Sprintf("%d elements", want.Len()))
			return
		}
		for i := range got.Len() {
			diffValue(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), out, max)
		}
	case reflect.Map:
		if got.Len() != want.Len() {
			report(fmt.Sprintf("%d entries", got.Len()), fmt.Sprintf("%d entries", want.Len()))
			return
		}
		iter := want.MapRange()
		for iter.Next() {
			g := got.MapIndex(iter.Key())
			p := fmt.Sprintf("%s[%v]", path, iter.Key())
			if !g.IsValid() {
				*out = append(*out, p+": missing")
				continue
			}
			diffValue(p, g, iter.Value(), out, max)
		}
	default:
		if got.Interface() != want.Interface() {
			report(got.Interface(), want.Interface())
		}
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(record)"
	}
	return strings.TrimPrefix(path, ".")
}

func ptrString(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	return "non-nil"
}

// aliases returns the paths at which a and b share memory a caller could
// change through one of them: the same pointer, the same slice backing
// array, the same map. Strings and time locations are immutable and may be
// shared.
func aliases(a, b any) []string {
	var out []string
	aliasValue("", reflect.ValueOf(a), reflect.ValueOf(b), &out)
	return out
}

func aliasValue(path string, a, b reflect.Value, out *[]string) {
	if a.Type() == timeType {
		return
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			*out = append(*out, orRoot(path)+" (pointer)")
			return
		}
		aliasValue(path, a.Elem(), b.Elem(), out)
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				aliasValue(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i), out)
			}
		}
	case reflect.Slice:
		if a.Cap() > 0 && b.Cap() > 0 && a.Pointer() == b.Pointer() {
			*out = append(*out, orRoot(path)+" (slice)")
			return
		}
		for i := range min(a.Len(), b.Len()) {
			aliasValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), out)
		}
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			*out = append(*out, orRoot(path)+" (map)")
			return
		}
		iter := a.MapRange()
		for iter.Next() {
			if bv := b.MapIndex(iter.Key()); bv.IsValid() {
				aliasValue(fmt.Sprintf("%s[%v]", path, iter.Key()), iter.Value(), bv, out)
			}
		}
	}
}

// filler sets every exported field of a value to a distinct non-zero value,
// so that a round trip that drops or swaps a field is noticed.
type filler struct {
	n    int
	when time.Time
}

func newFiller() *filler {
	// A time with nanoseconds, in a location other than UTC and Local.
	return &filler{when: time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+2", 2*60*60))}
}

// fill fills the value p points to.
func (f *filler) fill(p any) { f.value(reflect.ValueOf(p).Elem(), 0) }

func (f *filler) value(v reflect.Value, depth int) {
	if depth > 8 || !v.CanSet() {
		return
	}
	f.n++
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(f.when.Add(time.Duration(f.n) * time.Second)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.n % 100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n) / 2)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.value(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			f.value(v.Field(i), depth+1)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.value(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.value(k, depth+1)
			f.value(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}

// scribble changes, in place, everything reachable from the pointer p —
// strings, numbers, booleans, times, slice elements, map entries — without
// replacing any pointer, slice or map, so that memory the store shares with
// the caller shows up as a changed record.
func scribble(p any) {
	f := newFiller()
	f.n = 5000
	f.when = f.when.Add(1000 * time.Hour)
	scribbleValue(f, reflect.ValueOf(p))
}

func scribbleValue(f *filler, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scribbleValue(f, v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			f.value(v, 0)
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribbleValue(f, v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribbleValue(f, v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scribbleValue(f, e)
			v.SetMapIndex(k, e)
		}
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.value(k, 0)
		f.value(e, 0)
		v.SetMapIndex(k, e)
	default:
		f.value(v, 0)
	}
}
