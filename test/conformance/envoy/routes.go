package main

import (
	"metamesh/test/conformance/envoy/mpconvert"

	"encoding/json"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"google.golang.org/protobuf/types/known/anypb"
)

const httpRouteConfigTypeURL = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"

func (c *checker) checkRoute(i int, raw json.RawMessage) {
	const kind = "RouteConfiguration"
	// Best-effort name for messages before the strict parse succeeds.
	var hdr struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(raw, &hdr)
	name := hdr.Name
	if name == "" {
		name = fmt.Sprintf("routes[%d]", i)
	}
	fail := func(format string, args ...any) { c.fail(kind, "", name, format, args...) }
	warn := func(format string, args ...any) { c.warn(kind, "", name, format, args...) }

	a := &anypb.Any{}
	if err := strictJSON.Unmarshal(raw, a); err != nil {
		fail("does not parse as an Any-wrapped envoy.config.route.v3.RouteConfiguration: %v", err)
		return
	}
	if a.GetTypeUrl() != httpRouteConfigTypeURL {
		fail("@type is %q, want %q (the RDS wire type)", a.GetTypeUrl(), httpRouteConfigTypeURL)
		return
	}
	rc := &routev3.RouteConfiguration{}
	if err := a.UnmarshalTo(rc); err != nil {
		fail("%v", err)
		return
	}
	if rc.GetName() == "" {
		fail("name is empty (must equal the proxy's rds.routeConfigName)")
	} else if c.routeNames[rc.GetName()] {
		fail("duplicate route name %q in routes[]", rc.GetName())
	}
	c.routeNames[rc.GetName()] = true

	// 1. Envoy validates the decoded HTTP RouteConfiguration before conversion.
	if err := rc.ValidateAll(); err != nil {
		fail("envoy RouteConfiguration validation: %v", err)
	}
	walkAnys(rc.ProtoReflect(), "", func(s string) { fail("%s", s) })

	// 2. Convert exactly like the data plane and validate the result.
	mrc, problems, dropped := mpconvert.HTTPToMetaProtocolRoute(rc)
	for _, p := range problems {
		fail("%s", p)
	}
	for _, d := range dropped {
		warn("ignored by the data plane: %s", d)
	}
	if mrc != nil {
		if err := mrc.ValidateAll(); err != nil {
			fail("converted MetaProtocol RouteConfiguration validation: %v", err)
		}
	}
}
