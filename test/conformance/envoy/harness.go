package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// strictJSON rejects unknown fields and resolves Any "@type"s through our registry.
var strictJSON = protojson.UnmarshalOptions{DiscardUnknown: false, Resolver: resolver{}}

// Failure is one conformance violation.
type Failure struct {
	Kind      string
	Namespace string
	Name      string
	What      string
}

func (f Failure) String() string {
	if f.Namespace == "" {
		return fmt.Sprintf("%s %s: %s", f.Kind, f.Name, f.What)
	}
	return fmt.Sprintf("%s %s/%s: %s", f.Kind, f.Namespace, f.Name, f.What)
}

// Result of checking one document.
type Result struct {
	Checked  int
	Failures []Failure
	// Warnings never fail the run (e.g. fields the data plane silently drops).
	Warnings []Failure
}

// document is the top-level shape printed by `metamesh generate -o json`.
type document struct {
	ServiceEntries  []json.RawMessage `json:"serviceEntries"`
	EnvoyFilters    []json.RawMessage `json:"envoyFilters"`
	VirtualServices []json.RawMessage `json:"virtualServices"`
	Routes          []json.RawMessage `json:"routes"`
	Diagnostics     []diagnostic      `json:"diagnostics"`
}

type diagnostic struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Object   string `json:"object"`
	Message  string `json:"message"`
}

// k8sObject is the envelope of every Istio custom resource in the document.
type k8sObject struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   objectMeta      `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// checker accumulates results for one document.
type checker struct {
	res *Result
	// manifests: checking a manifest stream, which has no routes[] to cross-reference.
	manifests bool
	// route names present in routes[], and the ones referenced by some RDS.
	routeNames map[string]bool
	referenced map[string]bool
	// names of clusters added through CLUSTER patches.
	patchClusters map[string]bool
	rdsClusters   map[string]string // cluster -> one referencing object, for warnings
}

func (c *checker) fail(kind, ns, name, format string, args ...any) {
	c.res.Failures = append(c.res.Failures, Failure{kind, ns, name, fmt.Sprintf(format, args...)})
}

func (c *checker) warn(kind, ns, name, format string, args ...any) {
	c.res.Warnings = append(c.res.Warnings, Failure{kind, ns, name, fmt.Sprintf(format, args...)})
}

// CheckDocument runs every check on one JSON document.
func CheckDocument(data []byte) *Result {
	res := &Result{}
	c := &checker{
		res:           res,
		routeNames:    map[string]bool{},
		referenced:    map[string]bool{},
		patchClusters: map[string]bool{},
		rdsClusters:   map[string]string{},
	}
	var doc document
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		c.fail("Document", "", "-", "not a valid generate document: %v", err)
		return res
	}
	if _, err := dec.Token(); err != io.EOF {
		c.fail("Document", "", "-", "trailing data after the JSON document")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err == nil {
		for k := range top {
			switch k {
			case "serviceEntries", "envoyFilters", "virtualServices", "routes", "diagnostics":
			default:
				c.warn("Document", "", "-", "unknown top-level key %q ignored", k)
			}
		}
	}

	// Routes first, so that RDS references from EnvoyFilters can be resolved.
	for i, raw := range doc.Routes {
		res.Checked++
		c.checkRoute(i, raw)
	}
	for i, raw := range doc.ServiceEntries {
		res.Checked++
		c.checkServiceEntry(i, raw)
	}
	for i, raw := range doc.EnvoyFilters {
		res.Checked++
		c.checkEnvoyFilter(i, raw)
	}
	for i, raw := range doc.VirtualServices {
		res.Checked++
		c.checkVirtualService(i, raw)
	}
	c.finish()
	for _, d := range doc.Diagnostics {
		if d.Code == "" || d.Severity == "" || d.Message == "" {
			c.warn("Diagnostic", "", d.Object, "diagnostic lacks code, severity or message: %+v", d)
		}
	}
	return res
}

// finish reports what can only be seen once every object was checked: route tables nothing
// references, and RDS clusters no CLUSTER patch adds.
func (c *checker) finish() {
	names := make([]string, 0, len(c.routeNames))
	for n := range c.routeNames {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !c.referenced[n] {
			c.warn("RouteConfiguration", "", n, "not referenced by any MetaProtocolProxy rds.routeConfigName")
		}
	}
	if len(c.patchClusters) > 0 {
		cl := make([]string, 0, len(c.rdsClusters))
		for n := range c.rdsClusters {
			cl = append(cl, n)
		}
		sort.Strings(cl)
		for _, n := range cl {
			if !c.patchClusters[n] {
				c.warn("EnvoyFilter", "", c.rdsClusters[n], "rds configSource uses cluster %q which no CLUSTER patch in this document adds (fine only if it comes from a bootstrap override)", n)
			}
		}
	}
}

// decodeObject parses the envelope and runs the metadata checks shared by all kinds.
func (c *checker) decodeObject(kind string, index int, raw json.RawMessage, apiVersions ...string) (*k8sObject, bool) {
	var o k8sObject
	if err := json.Unmarshal(raw, &o); err != nil {
		c.fail(kind, "", fmt.Sprintf("[%d]", index), "not a Kubernetes object: %v", err)
		return nil, false
	}
	name := o.Metadata.Name
	if name == "" {
		name = fmt.Sprintf("[%d]", index)
	}
	ns := o.Metadata.Namespace
	if o.Kind != kind {
		c.fail(kind, ns, name, "kind is %q, want %q", o.Kind, kind)
	}
	okVersion := false
	for _, v := range apiVersions {
		if o.APIVersion == v {
			okVersion = true
		}
	}
	if !okVersion {
		c.fail(kind, ns, name, "apiVersion %q is not one of %s", o.APIVersion, strings.Join(apiVersions, ", "))
	}
	if err := checkDNS1123Subdomain(o.Metadata.Name); err != nil {
		c.fail(kind, ns, name, "metadata.name: %v", err)
	}
	if err := checkDNS1123Label(o.Metadata.Namespace); err != nil {
		c.fail(kind, ns, name, "metadata.namespace: %v", err)
	}
	for _, p := range checkLabels("metadata.labels", o.Metadata.Labels) {
		c.fail(kind, ns, name, "%s", p)
	}
	for k := range o.Metadata.Annotations {
		if err := checkLabelKey(k); err != nil {
			c.fail(kind, ns, name, "metadata.annotations: %v", err)
		}
	}
	if len(o.Spec) == 0 || string(o.Spec) == "null" {
		c.fail(kind, ns, name, "spec is missing")
		return nil, false
	}
	o.Metadata.Name = name
	return &o, true
}

var istioNetworkingVersions = []string{
	"networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1",
}

func (c *checker) checkServiceEntry(i int, raw json.RawMessage) {
	const kind = "ServiceEntry"
	o, ok := c.decodeObject(kind, i, raw, istioNetworkingVersions...)
	if !ok {
		return
	}
	ns, name := o.Metadata.Namespace, o.Metadata.Name
	se := &networking.ServiceEntry{}
	if err := strictJSON.Unmarshal(o.Spec, se); err != nil {
		c.fail(kind, ns, name, "spec does not parse as istio.networking.v1alpha3.ServiceEntry: %v", err)
		return
	}
	// A few of Istio's own semantic rules that a generator can get wrong.
	if len(se.GetHosts()) == 0 {
		c.fail(kind, ns, name, "spec.hosts must be non-empty")
	}
	for j, h := range se.GetHosts() {
		if h == "" || strings.ContainsAny(h, " /") {
			c.fail(kind, ns, name, "spec.hosts[%d] %q is not a host name", j, h)
		}
	}
	portNames := map[string]bool{}
	for j, p := range se.GetPorts() {
		if p.GetNumber() == 0 || p.GetNumber() > 65535 {
			c.fail(kind, ns, name, "spec.ports[%d].number %d out of range", j, p.GetNumber())
		}
		if p.GetTargetPort() > 65535 {
			c.fail(kind, ns, name, "spec.ports[%d].targetPort %d out of range", j, p.GetTargetPort())
		}
		if p.GetName() == "" {
			c.fail(kind, ns, name, "spec.ports[%d].name must be set", j)
		} else if portNames[p.GetName()] {
			c.fail(kind, ns, name, "spec.ports[%d].name %q is duplicated", j, p.GetName())
		}
		portNames[p.GetName()] = true
	}
	if se.GetWorkloadSelector() != nil && len(se.GetEndpoints()) > 0 {
		c.fail(kind, ns, name, "spec.workloadSelector and spec.endpoints are mutually exclusive")
	}
	if se.GetWorkloadSelector() != nil {
		for _, p := range checkLabels("spec.workloadSelector.labels", se.GetWorkloadSelector().GetLabels()) {
			c.fail(kind, ns, name, "%s", p)
		}
	}
	for j, ep := range se.GetEndpoints() {
		if se.GetResolution() == networking.ServiceEntry_STATIC && ep.GetAddress() != "" &&
			!strings.HasPrefix(ep.GetAddress(), "unix://") && net.ParseIP(ep.GetAddress()) == nil {
			c.fail(kind, ns, name, "spec.endpoints[%d].address %q must be an IP address for resolution STATIC", j, ep.GetAddress())
		}
		for pn := range ep.GetPorts() {
			if !portNames[pn] {
				c.fail(kind, ns, name, "spec.endpoints[%d].ports references unknown port name %q", j, pn)
			}
		}
		for _, p := range checkLabels(fmt.Sprintf("spec.endpoints[%d].labels", j), ep.GetLabels()) {
			c.fail(kind, ns, name, "%s", p)
		}
	}
}

func (c *checker) checkVirtualService(i int, raw json.RawMessage) {
	const kind = "VirtualService"
	o, ok := c.decodeObject(kind, i, raw, istioNetworkingVersions...)
	if !ok {
		return
	}
	vs := &networking.VirtualService{}
	if err := strictJSON.Unmarshal(o.Spec, vs); err != nil {
		c.fail(kind, o.Metadata.Namespace, o.Metadata.Name, "spec does not parse as istio.networking.v1alpha3.VirtualService: %v", err)
		return
	}
	if len(vs.GetHosts()) == 0 {
		c.fail(kind, o.Metadata.Namespace, o.Metadata.Name, "spec.hosts must be non-empty")
	}
}

// jsonOf marshals a message to JSON for re-parsing into another type.
func jsonOf(m proto.Message) ([]byte, error) {
	return protojson.MarshalOptions{Resolver: resolver{}}.Marshal(m)
}
