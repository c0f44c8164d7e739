package main

import (
	"encoding/json"
	"fmt"
	"time"

	lrlv1 "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/filters/local_ratelimit/v1alpha"
	mpp "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/v1alpha"
	udpav1 "github.com/cncf/xds/go/udpa/type/v1"
	xdsv3 "github.com/cncf/xds/go/xds/type/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	networking "istio.io/api/networking/v1alpha3"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	metaProtocolProxyTypeURL = "type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy"
	udpaTypedStructURL       = "type.googleapis.com/udpa.type.v1.TypedStruct"
	xdsTypedStructURL        = "type.googleapis.com/xds.type.v3.TypedStruct"
	routerFilterName         = "aeraki.meta_protocol.filters.router"
	// The local rate-limit filter rejects fill intervals below this at run time.
	minFillInterval = 50 * time.Millisecond
)

// Network filter names under which the MetaProtocol proxy may be inserted.
var metaProtocolNetworkFilterNames = map[string]bool{
	"envoy.filters.network.meta_protocol_proxy": true, // what Aeraki writes
	"aeraki.meta_protocol_proxy":                true, // data-plane canonical name
}

// L7 filter registered names and the config message each factory expects.
var metaProtocolFilterConfigTypes = map[string]protoreflect.FullName{
	"aeraki.meta_protocol.filters.router":            "aeraki.meta_protocol_proxy.filters.router.v1alpha.Router",
	"aeraki.meta_protocol.filters.local_ratelimit":   "aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimit",
	"aeraki.meta_protocol.filters.ratelimit":         "aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit",
	"aeraki.meta_protocol.filters.istio_stats":       "aeraki.meta_protocol_proxy.filters.istio_stats.v1alpha.IstioStats",
	"aeraki.meta_protocol.filters.metadata_exchange": "aeraki.meta_protocol_proxy.filters.metadata_exchange.v1alpha.MetadataExchange",
}

func (c *checker) checkEnvoyFilter(i int, raw json.RawMessage) {
	const kind = "EnvoyFilter"
	o, ok := c.decodeObject(kind, i, raw, "networking.istio.io/v1alpha3")
	if !ok {
		return
	}
	ns, name := o.Metadata.Namespace, o.Metadata.Name
	fail := func(format string, args ...any) { c.fail(kind, ns, name, format, args...) }

	ef := &networking.EnvoyFilter{}
	if err := strictJSON.Unmarshal(o.Spec, ef); err != nil {
		fail("spec does not parse as istio.networking.v1alpha3.EnvoyFilter: %v", err)
		return
	}
	if len(ef.GetConfigPatches()) == 0 {
		fail("spec.configPatches is empty")
	}
	selector := ef.GetWorkloadSelector().GetLabels()
	if ef.GetWorkloadSelector() != nil {
		for _, p := range checkLabels("spec.workloadSelector.labels", selector) {
			fail("%s", p)
		}
	}

	for j, cp := range ef.GetConfigPatches() {
		at := fmt.Sprintf("configPatches[%d]", j)
		ctx := cp.GetMatch().GetContext()
		if cp.GetMatch() == nil || ctx == networking.EnvoyFilter_ANY {
			fail("%s: match.context is missing (patch would apply to every proxy context)", at)
		}
		if ctx == networking.EnvoyFilter_SIDECAR_INBOUND {
			if len(selector) == 0 {
				fail("%s: SIDECAR_INBOUND patch without a non-empty spec.workloadSelector.labels (would patch every sidecar in scope)", at)
			}
			for k, v := range selector {
				if v == "" {
					fail("%s: SIDECAR_INBOUND patch with empty workloadSelector label value for key %q", at, k)
				}
			}
		}
		if cp.GetPatch() == nil {
			fail("%s: patch is missing", at)
			continue
		}
		if cp.GetPatch().GetOperation() == networking.EnvoyFilter_Patch_INVALID {
			fail("%s: patch.operation is missing", at)
		}
		switch cp.GetApplyTo() {
		case networking.EnvoyFilter_NETWORK_FILTER:
			if cp.GetPatch().GetOperation() == networking.EnvoyFilter_Patch_REPLACE &&
				cp.GetMatch().GetListener().GetFilterChain().GetFilter().GetName() == "" {
				fail("%s: REPLACE of a NETWORK_FILTER needs match.listener.filterChain.filter.name", at)
			}
			c.checkNetworkFilterPatch(ns, name, at, cp.GetPatch().GetValue())
		case networking.EnvoyFilter_CLUSTER:
			c.checkClusterPatch(ns, name, at, cp)
		default:
			c.warn(kind, ns, name, "%s: applyTo %s is not checked by this harness", at, cp.GetApplyTo())
		}
	}
}

func (c *checker) checkClusterPatch(ns, name, at string, cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) {
	fail := func(format string, args ...any) { c.fail("EnvoyFilter", ns, name, format, args...) }
	op := cp.GetPatch().GetOperation()
	if op != networking.EnvoyFilter_Patch_ADD && op != networking.EnvoyFilter_Patch_MERGE && op != networking.EnvoyFilter_Patch_REMOVE {
		fail("%s: CLUSTER patch operation %s (want ADD)", at, op)
	}
	if op == networking.EnvoyFilter_Patch_REMOVE {
		return
	}
	b, err := jsonOf(cp.GetPatch().GetValue())
	if err != nil {
		fail("%s: cannot re-encode patch.value: %v", at, err)
		return
	}
	cl := &clusterv3.Cluster{}
	if err := strictJSON.Unmarshal(b, cl); err != nil {
		fail("%s: patch.value does not parse as envoy.config.cluster.v3.Cluster: %v", at, err)
		return
	}
	if op == networking.EnvoyFilter_Patch_MERGE {
		return // a partial cluster; required fields may legitimately be absent
	}
	if err := cl.ValidateAll(); err != nil {
		fail("%s: Cluster %q: %v", at, cl.GetName(), err)
	}
	walkAnys(cl.ProtoReflect(), at+".patch.value", func(s string) { fail("%s", s) })
	c.patchClusters[cl.GetName()] = true
}

// checkNetworkFilterPatch checks a NETWORK_FILTER patch value
// ({name, typed_config: TypedStruct{type_url, value}}).
func (c *checker) checkNetworkFilterPatch(ns, name, at string, value *structpb.Struct) {
	fail := func(format string, args ...any) { c.fail("EnvoyFilter", ns, name, format, args...) }
	if value == nil {
		fail("%s: patch.value is missing", at)
		return
	}
	b, err := jsonOf(value)
	if err != nil {
		fail("%s: cannot re-encode patch.value: %v", at, err)
		return
	}
	f := &listenerv3.Filter{}
	if err := strictJSON.Unmarshal(b, f); err != nil {
		fail("%s: patch.value does not parse as envoy.config.listener.v3.Filter: %v", at, err)
		return
	}
	tc := f.GetTypedConfig()
	if tc == nil {
		fail("%s: patch.value.typed_config is missing", at)
		return
	}
	var typeURL string
	var payload *structpb.Struct
	switch tc.GetTypeUrl() {
	case udpaTypedStructURL:
		ts := &udpav1.TypedStruct{}
		if err := tc.UnmarshalTo(ts); err != nil {
			fail("%s: typed_config: %v", at, err)
			return
		}
		typeURL, payload = ts.GetTypeUrl(), ts.GetValue()
	case xdsTypedStructURL:
		ts := &xdsv3.TypedStruct{}
		if err := tc.UnmarshalTo(ts); err != nil {
			fail("%s: typed_config: %v", at, err)
			return
		}
		typeURL, payload = ts.GetTypeUrl(), ts.GetValue()
	default:
		fail("%s: typed_config @type is %q; MetaProtocolProxy must be wrapped in %s (istiod cannot resolve the aeraki type)", at, tc.GetTypeUrl(), udpaTypedStructURL)
		return
	}
	if typeURL != metaProtocolProxyTypeURL {
		fail("%s: TypedStruct.type_url is %q, want %q", at, typeURL, metaProtocolProxyTypeURL)
		return
	}
	if !metaProtocolNetworkFilterNames[f.GetName()] {
		fail("%s: network filter name %q, want envoy.filters.network.meta_protocol_proxy", at, f.GetName())
	}
	pb, err := jsonOf(payload)
	if err != nil {
		fail("%s: cannot re-encode TypedStruct.value: %v", at, err)
		return
	}
	proxy := &mpp.MetaProtocolProxy{}
	if err := strictJSON.Unmarshal(pb, proxy); err != nil {
		fail("%s: TypedStruct.value does not parse as MetaProtocolProxy: %v", at, err)
		return
	}
	c.checkMetaProtocolProxy(ns, name, at, proxy)
}

func (c *checker) checkMetaProtocolProxy(ns, name, at string, p *mpp.MetaProtocolProxy) {
	fail := func(format string, args ...any) { c.fail("EnvoyFilter", ns, name, format, args...) }
	if err := p.ValidateAll(); err != nil {
		fail("%s: MetaProtocolProxy: %v", at, err)
	}
	// Every nested Any (filter configs, access loggers, codec configs, tracer
	// provider) must resolve and validate.
	walkAnys(p.ProtoReflect(), at+".value", func(s string) { fail("%s", s) })

	// Application protocol / codec.
	appProto := p.GetProtocol().GetName()
	if appProto == "" {
		appProto = p.GetApplicationProtocol()
	}
	if appProto == "" {
		fail("%s: neither protocol.name nor applicationProtocol is set", at)
	}
	codec := p.GetProtocol().GetCodec()
	if codec.GetName() == "" {
		codec = p.GetCodec()
	}
	if codec.GetName() == "" {
		fail("%s: no codec (protocol.codec.name / codec.name) is set", at)
	} else if want, known := codecConfigTypes[codec.GetName()]; !known {
		c.warn("EnvoyFilter", ns, name, "%s: codec %q is not one of the four codecs built into the MetaProtocol proxy image", at, codec.GetName())
	} else if cfg := codec.GetConfig(); cfg != nil {
		if got := typeNameOf(cfg); got != want {
			fail("%s: codec %q config has type %q, want %q", at, codec.GetName(), got, want)
		}
	}

	// L7 filters.
	filters := p.GetMetaProtocolFilters()
	routers := 0
	for k, f := range filters {
		fat := fmt.Sprintf("%s.metaProtocolFilters[%d]", at, k)
		want, known := metaProtocolFilterConfigTypes[f.GetName()]
		if !known {
			fail("%s: unknown filter name %q (registered: aeraki.meta_protocol.filters.{router,local_ratelimit,ratelimit,istio_stats,metadata_exchange})", fat, f.GetName())
			continue
		}
		if f.GetName() == routerFilterName {
			routers++
		}
		if cfg := f.GetConfig(); cfg != nil {
			if got := typeNameOf(cfg); got != want {
				fail("%s: config for %q has type %q, want %q", fat, f.GetName(), got, want)
				continue
			}
			// Contents were validated by walkAnys; add the data plane's run-time rules.
			if lr := (&lrlv1.LocalRateLimit{}); cfg.MessageIs(lr) && cfg.UnmarshalTo(lr) == nil {
				check := func(where string, tb *typev3.TokenBucket) {
					if d := tb.GetFillInterval(); d != nil && d.AsDuration() < minFillInterval {
						fail("%s: %s.fillInterval %s is below the data plane minimum of 50ms", fat, where, d.AsDuration())
					}
				}
				check("tokenBucket", lr.GetTokenBucket())
				for k, cond := range lr.GetConditions() {
					check(fmt.Sprintf("conditions[%d].tokenBucket", k), cond.GetTokenBucket())
				}
			}
			continue
		}
		// No config: the factory gets its default (empty) config, which must validate.
		mt, err := resolver{}.FindMessageByName(want)
		if err != nil {
			fail("%s: %v", fat, err)
			continue
		}
		if err := validate(mt.New().Interface()); err != nil {
			fail("%s: %q has no config and an empty %s is invalid: %v", fat, f.GetName(), want, err)
		}
	}
	if len(filters) > 0 {
		if filters[len(filters)-1].GetName() != routerFilterName {
			fail("%s: metaProtocolFilters must end with %s (last is %q)", at, routerFilterName, filters[len(filters)-1].GetName())
		}
		if routers > 1 {
			fail("%s: %s appears %d times", at, routerFilterName, routers)
		}
	}

	// RDS cross-reference.
	if rds := p.GetRds(); rds != nil {
		rn := rds.GetRouteConfigName()
		if rn == "" {
			fail("%s: rds.routeConfigName is empty", at)
		} else {
			c.referenced[rn] = true
			if !c.manifests && !c.routeNames[rn] {
				fail("%s: rds.routeConfigName %q has no matching entry in routes[]", at, rn)
			}
		}
		for _, gs := range rds.GetConfigSource().GetApiConfigSource().GetGrpcServices() {
			if cn := gs.GetEnvoyGrpc().GetClusterName(); cn != "" {
				if _, seen := c.rdsClusters[cn]; !seen {
					c.rdsClusters[cn] = ns + "/" + name
				}
			}
		}
		if rds.GetConfigSource().GetApiConfigSource() == nil && rds.GetConfigSource().GetAds() == nil {
			c.warn("EnvoyFilter", ns, name, "%s: rds.configSource has neither apiConfigSource nor ads", at)
		}
	}
}

// typeNameOf returns the full message name an Any claims to carry.
func typeNameOf(a *anypb.Any) protoreflect.FullName {
	return a.MessageName()
}
