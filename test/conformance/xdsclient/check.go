package main

import (
	"metamesh/test/conformance/envoy/mpconvert"

	"fmt"
	"strings"

	mproute "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/config/route/v1alpha"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// checked is one resource that passed every check, summarised for the JSON output.
type checked struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Routes  int    `json:"routes"`
	// FirstRouteClusters: the cluster, or the weighted clusters, of the first MetaProtocol route.
	FirstRouteClusters []string `json:"firstRouteClusters"`
	mp                 *mproute.RouteConfiguration
}

// checkResource does what the data plane does with an RDS resource before accepting it: decode
// the Any as envoy.config.route.v3.RouteConfiguration, validate it, check its name is the one
// requested, convert it to the MetaProtocol RouteConfiguration and validate that.
func checkResource(r resource, requested map[string]bool) (*checked, error) {
	at := r.Name
	if at == "" {
		at = "resource"
	}
	if r.Any.GetTypeUrl() != rdsTypeURL {
		return nil, fmt.Errorf("%s: Any type_url is %q, want %q", at, r.Any.GetTypeUrl(), rdsTypeURL)
	}
	rc := &routev3.RouteConfiguration{}
	if err := r.Any.UnmarshalTo(rc); err != nil {
		return nil, fmt.Errorf("%s: does not decode as envoy.config.route.v3.RouteConfiguration: %v", at, err)
	}
	name := rc.GetName()
	if r.Name != "" && r.Name != name {
		return nil, fmt.Errorf("delta resource name %q but the RouteConfiguration inside is named %q", r.Name, name)
	}
	if !requested[name] {
		return nil, fmt.Errorf("received RouteConfiguration %q, which was not requested (requested: %s)", name, strings.Join(keys(requested), ", "))
	}
	if err := rc.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: envoy RouteConfiguration validation: %v", name, err)
	}
	mp, problems, _ := mpconvert.HTTPToMetaProtocolRoute(rc)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: rejected by the data-plane conversion: %s", name, strings.Join(problems, "; "))
	}
	if err := mp.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: converted MetaProtocol RouteConfiguration validation: %v", name, err)
	}
	if mp.GetName() != name {
		return nil, fmt.Errorf("%s: converted MetaProtocol RouteConfiguration is named %q", name, mp.GetName())
	}
	c := &checked{Name: name, Version: r.Version, Routes: len(mp.GetRoutes()), FirstRouteClusters: []string{}, mp: mp}
	if len(mp.GetRoutes()) > 0 {
		c.FirstRouteClusters = routeClusters(mp.GetRoutes()[0])
	}
	return c, nil
}

func routeClusters(r *mproute.Route) []string {
	a := r.GetRoute()
	if wc := a.GetWeightedClusters(); wc != nil {
		out := []string{}
		for _, cw := range wc.GetClusters() {
			out = append(out, cw.GetName())
		}
		return out
	}
	return []string{a.GetCluster()}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
