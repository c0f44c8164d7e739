// Package mpconvert is the data plane's conversion of an RDS resource (an Envoy HTTP
// RouteConfiguration tunnelling MetaProtocol routes) into the MetaProtocol route table, written
// from the MetaProtocol Proxy's behaviour. Shared by the output harness and the
// xDS conformance client.
package mpconvert

import (
	"fmt"

	mproute "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/config/route/v1alpha"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// HTTPToMetaProtocolRoute re-implements the data plane's conversion of the RDS
// carrier (envoy HTTP RouteConfiguration) into the MetaProtocol route table:
// only virtual_hosts[0].routes are read; route match headers become metadata
// matchers; cluster / weighted clusters (name + weight) / hash policy header
// names / mirror cluster + default runtime fraction / request and response
// headers_to_add (as mutations) are carried over, everything else is dropped.
//
// problems are conditions the data plane does not accept; dropped lists set
// fields that the conversion silently ignores.
func HTTPToMetaProtocolRoute(rc *routev3.RouteConfiguration) (out *mproute.RouteConfiguration, problems, dropped []string) {
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	drop := func(path string, m proto.Message, kept ...string) {
		dropped = append(dropped, UnexpectedFields(path, m, kept...)...)
	}

	switch n := len(rc.GetVirtualHosts()); {
	case n == 0:
		report("no virtual host: the data plane reads virtual_hosts[0] and asserts exactly one")
		return nil, problems, dropped
	case n > 1:
		report("%d virtual hosts: the data plane expects exactly one (only virtual_hosts[0] would be read)", n)
	}
	drop("", rc, "name", "virtual_hosts")
	vh := rc.GetVirtualHosts()[0]
	drop("virtualHosts[0]", vh, "name", "domains", "routes")
	if len(vh.GetRoutes()) == 0 {
		report("virtualHosts[0] has no routes: the data plane asserts at least one")
	}

	out = &mproute.RouteConfiguration{Name: rc.GetName()}
	for i, hr := range vh.GetRoutes() {
		at := fmt.Sprintf("virtualHosts[0].routes[%d]", i)
		drop(at, hr, "name", "match", "route", "request_headers_to_add", "response_headers_to_add")
		mr := &mproute.Route{Name: hr.GetName()}

		if m := hr.GetMatch(); m != nil {
			drop(at+".match", m, "prefix", "path", "safe_regex", "path_separated_prefix", "headers")
			mm := &mproute.RouteMatch{}
			for _, h := range m.GetHeaders() {
				mm.Metadata = append(mm.Metadata, proto.Clone(h).(*routev3.HeaderMatcher))
			}
			mr.Match = mm
		}

		ha := hr.GetRoute()
		if ha == nil {
			report("%s: action is not \"route\" (redirect/direct_response/filter_action are not understood by the data plane)", at)
			ha = &routev3.RouteAction{}
		}
		drop(at+".route", ha, "cluster", "weighted_clusters", "hash_policy", "request_mirror_policies")
		ma := &mproute.RouteAction{}
		switch {
		case ha.GetWeightedClusters() != nil:
			wc := ha.GetWeightedClusters()
			drop(at+".route.weightedClusters", wc, "clusters", "total_weight")
			nwc := &routev3.WeightedCluster{}
			for k, cw := range wc.GetClusters() {
				drop(fmt.Sprintf("%s.route.weightedClusters.clusters[%d]", at, k), cw, "name", "weight")
				ncw := &routev3.WeightedCluster_ClusterWeight{Name: cw.GetName()}
				if cw.GetWeight() != nil {
					ncw.Weight = wrapperspb.UInt32(cw.GetWeight().GetValue())
				}
				nwc.Clusters = append(nwc.Clusters, ncw)
			}
			var total uint64
			for _, cw := range nwc.GetClusters() {
				total += uint64(cw.GetWeight().GetValue())
			}
			if len(nwc.GetClusters()) > 0 && total == 0 {
				report("%s.route.weightedClusters: weights sum to 0 (the data plane picks by random %% sum of weights)", at)
			}
			ma.ClusterSpecifier = &mproute.RouteAction_WeightedClusters{WeightedClusters: nwc}
		case ha.GetClusterSpecifier() != nil:
			if _, ok := ha.GetClusterSpecifier().(*routev3.RouteAction_Cluster); !ok {
				report("%s.route: cluster specifier %T is not understood by the data plane (use cluster or weighted_clusters)", at, ha.GetClusterSpecifier())
			} else {
				ma.ClusterSpecifier = &mproute.RouteAction_Cluster{Cluster: ha.GetCluster()}
			}
		}
		for k, hp := range ha.GetHashPolicy() {
			hat := fmt.Sprintf("%s.route.hashPolicy[%d]", at, k)
			drop(hat, hp, "header")
			if hp.GetHeader() == nil {
				report("%s: only header hash policies are understood by the data plane", hat)
				continue
			}
			drop(hat+".header", hp.GetHeader(), "header_name")
			ma.HashPolicy = append(ma.HashPolicy, hp.GetHeader().GetHeaderName())
		}
		for k, mp := range ha.GetRequestMirrorPolicies() {
			mat := fmt.Sprintf("%s.route.requestMirrorPolicies[%d]", at, k)
			drop(mat, mp, "cluster", "runtime_fraction")
			nm := &mproute.RouteAction_RequestMirrorPolicy{Cluster: mp.GetCluster()}
			if rf := mp.GetRuntimeFraction(); rf != nil {
				drop(mat+".runtimeFraction", rf, "default_value")
				nm.RuntimeFraction = &corev3.RuntimeFractionalPercent{}
				if dv := rf.GetDefaultValue(); dv != nil {
					nm.RuntimeFraction.DefaultValue = proto.Clone(dv).(*typev3.FractionalPercent)
				}
			}
			ma.RequestMirrorPolicies = append(ma.RequestMirrorPolicies, nm)
		}
		mr.Route = ma

		for k, h := range hr.GetRequestHeadersToAdd() {
			hat := fmt.Sprintf("%s.requestHeadersToAdd[%d]", at, k)
			drop(hat, h, "header")
			drop(hat+".header", h.GetHeader(), "key", "value")
			mr.RequestMutation = append(mr.RequestMutation, &mproute.KeyValue{Key: h.GetHeader().GetKey(), Value: h.GetHeader().GetValue()})
		}
		for k, h := range hr.GetResponseHeadersToAdd() {
			hat := fmt.Sprintf("%s.responseHeadersToAdd[%d]", at, k)
			drop(hat, h, "header")
			drop(hat+".header", h.GetHeader(), "key", "value")
			mr.ResponseMutation = append(mr.ResponseMutation, &mproute.KeyValue{Key: h.GetHeader().GetKey(), Value: h.GetHeader().GetValue()})
		}
		out.Routes = append(out.Routes, mr)
	}
	return out, problems, dropped
}

// UnexpectedFields lists the populated fields of m that are not in kept.
func UnexpectedFields(path string, m proto.Message, kept ...string) []string {
	if m == nil {
		return nil
	}
	keep := map[protoreflect.Name]bool{}
	for _, k := range kept {
		keep[protoreflect.Name(k)] = true
	}
	var out []string
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !keep[fd.Name()] {
			p := fd.JSONName()
			if path != "" {
				p = path + "." + p
			}
			out = append(out, p)
		}
		return true
	})
	return out
}
