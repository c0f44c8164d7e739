package main

// -descriptors: checks metamesh's own rendition of the Istio API protos (proto/istio/, loaded by
// protobufjs; test/conformance/mcp.test.ts writes the dump) against the descriptors istio.io/api
// registers under the same full names. Both ways: every message and enum metamesh defines must
// exist upstream with exactly the same fields (number, name, kind, message or enum type,
// cardinality, map key and value, oneof), reserved numbers and names, and enum values.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "istio.io/api/mcp/v1alpha1"
	_ "istio.io/api/networking/v1alpha3"
	_ "istio.io/api/type/v1beta1"
)

// DescriptorDump is the shape the test writes: full names without a leading dot.
type DescriptorDump struct {
	Messages map[string]DumpMessage `json:"messages"`
	Enums    map[string]DumpEnum    `json:"enums"`
}

type DumpMessage struct {
	Fields        []DumpField `json:"fields"`
	ReservedNums  []int       `json:"reservedNumbers"`
	ReservedNames []string    `json:"reservedNames"`
}

// DumpField: Kind is the scalar type name ("string", "uint32", …), "message" or "enum"; TypeName
// the full name for message and enum fields (of the value, for maps).
type DumpField struct {
	Number   int    `json:"number"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	TypeName string `json:"typeName,omitempty"`
	Repeated bool   `json:"repeated,omitempty"`
	MapKey   string `json:"mapKey,omitempty"`
	Oneof    string `json:"oneof,omitempty"`
}

type DumpEnum struct {
	Values map[string]int `json:"values"`
}

// CheckDescriptors compares a dump with istio.io/api's registered descriptors.
func CheckDescriptors(data []byte) *Result {
	res := &Result{}
	var d DescriptorDump
	if err := json.Unmarshal(data, &d); err != nil {
		res.Failures = append(res.Failures, Failure{Kind: "dump", Name: "-", What: err.Error()})
		return res
	}
	fail := func(kind, name, what string) {
		res.Failures = append(res.Failures, Failure{Kind: kind, Name: name, What: what})
	}
	for _, name := range namesOf(d.Messages) {
		res.Checked++
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		md, ok := desc.(protoreflect.MessageDescriptor)
		if err != nil || !ok {
			fail("message", name, "not a message of istio.io/api")
			continue
		}
		for _, w := range compareMessage(md, d.Messages[name]) {
			fail("message", name, w)
		}
	}
	for _, name := range namesOf(d.Enums) {
		res.Checked++
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		ed, ok := desc.(protoreflect.EnumDescriptor)
		if err != nil || !ok {
			fail("enum", name, "not an enum of istio.io/api")
			continue
		}
		upstream := map[string]int{}
		for i := 0; i < ed.Values().Len(); i++ {
			v := ed.Values().Get(i)
			upstream[string(v.Name())] = int(v.Number())
		}
		if !sameInts(upstream, d.Enums[name].Values) {
			fail("enum", name, fmt.Sprintf("values %v, upstream %v", d.Enums[name].Values, upstream))
		}
	}
	return res
}

func compareMessage(md protoreflect.MessageDescriptor, ours DumpMessage) []string {
	var out []string
	byNumber := map[int]DumpField{}
	for _, f := range ours.Fields {
		byNumber[f.Number] = f
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		want := upstreamField(fd)
		got, ok := byNumber[want.Number]
		if !ok {
			out = append(out, fmt.Sprintf("field %d %s missing", want.Number, want.Name))
			continue
		}
		delete(byNumber, want.Number)
		if got != want {
			out = append(out, fmt.Sprintf("field %d: ours %+v, upstream %+v", want.Number, got, want))
		}
	}
	for n, f := range byNumber {
		out = append(out, fmt.Sprintf("field %d %s is not upstream", n, f.Name))
	}
	var nums []int
	rr := md.ReservedRanges()
	for i := 0; i < rr.Len(); i++ {
		for n := rr.Get(i)[0]; n < rr.Get(i)[1]; n++ {
			nums = append(nums, int(n))
		}
	}
	var names []string
	for i := 0; i < md.ReservedNames().Len(); i++ {
		names = append(names, string(md.ReservedNames().Get(i)))
	}
	if fmt.Sprint(sortInts(nums)) != fmt.Sprint(sortInts(ours.ReservedNums)) {
		out = append(out, fmt.Sprintf("reserved numbers %v, upstream %v", ours.ReservedNums, nums))
	}
	if fmt.Sprint(sortStrings(names)) != fmt.Sprint(sortStrings(ours.ReservedNames)) {
		out = append(out, fmt.Sprintf("reserved names %v, upstream %v", ours.ReservedNames, names))
	}
	return out
}

func upstreamField(fd protoreflect.FieldDescriptor) DumpField {
	f := DumpField{Number: int(fd.Number()), Name: string(fd.Name())}
	value := fd
	if fd.IsMap() {
		f.MapKey = fd.MapKey().Kind().String()
		value = fd.MapValue()
	} else {
		f.Repeated = fd.IsList()
	}
	f.Kind = value.Kind().String()
	switch value.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		f.TypeName = string(value.Message().FullName())
	case protoreflect.EnumKind:
		f.TypeName = string(value.Enum().FullName())
	}
	if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
		f.Oneof = string(o.Name())
	}
	return f
}

func namesOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sameInts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sortInts(s []int) []int {
	c := append([]int{}, s...)
	sort.Ints(c)
	return c
}

func sortStrings(s []string) string {
	c := append([]string{}, s...)
	sort.Strings(c)
	return strings.Join(c, ",")
}
