package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	routesvcv3 "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
)

const rdsTypeURL = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"

// resource is one RDS resource as received, before decoding.
type resource struct {
	Name    string // delta: the Resource wrapper's name; SotW: "" (only the decoded name exists)
	Version string // delta: the per-resource version; SotW: the response's version_info
	Any     *anypb.Any
}

// update is one DiscoveryResponse / DeltaDiscoveryResponse, mode-independent.
type update struct {
	Nonce     string
	Version   string // SotW version_info or delta system_version_info
	Resources []resource
	Removed   []string
}

// client is one xDS stream in one of the four modes; it keeps the protocol state an Envoy
// sidecar keeps (last ACKed version for SotW) and speaks ACK/NACK the way Envoy does.
type client interface {
	// Subscribe sets the subscription to names (SotW sends the whole list, delta the difference).
	Subscribe(names []string) error
	// Recv waits for the next response until the deadline.
	Recv(deadline time.Time) (*update, error)
	Ack(u *update) error
	Nack(u *update, message string) error
}

type sotwStream interface {
	Send(*discoveryv3.DiscoveryRequest) error
	Recv() (*discoveryv3.DiscoveryResponse, error)
}

type deltaStream interface {
	Send(*discoveryv3.DeltaDiscoveryRequest) error
	Recv() (*discoveryv3.DeltaDiscoveryResponse, error)
}

var errDeadline = errors.New("deadline exceeded")

// errNoMore: the call cannot bring another response (a unary call after its one response).
var errNoMore = errors.New("no further response on this call")

// pump turns a blocking Recv into a channel so reads can have deadlines.
type received[T any] struct {
	msg T
	err error
}

func pump[T any](recv func() (T, error)) <-chan received[T] {
	ch := make(chan received[T], 16)
	go func() {
		for {
			m, err := recv()
			ch <- received[T]{m, err}
			if err != nil {
				close(ch)
				return
			}
		}
	}()
	return ch
}

func wait[T any](ch <-chan received[T], deadline time.Time) (T, error) {
	var zero T
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r, ok := <-ch:
		if !ok {
			return zero, io.EOF
		}
		if r.err != nil {
			return zero, fmt.Errorf("stream failed: %w", r.err)
		}
		return r.msg, nil
	case <-t.C:
		return zero, errDeadline
	}
}

func newClient(ctx context.Context, conn *grpc.ClientConn, mode string, node *corev3.Node) (client, error) {
	switch mode {
	case "sotw":
		s, err := routesvcv3.NewRouteDiscoveryServiceClient(conn).StreamRoutes(ctx)
		if err != nil {
			return nil, err
		}
		return &sotwClient{s: s, ch: pump(s.Recv), node: node}, nil
	case "ads-sotw":
		s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			return nil, err
		}
		return &sotwClient{s: s, ch: pump(s.Recv), node: node}, nil
	case "delta":
		s, err := routesvcv3.NewRouteDiscoveryServiceClient(conn).DeltaRoutes(ctx)
		if err != nil {
			return nil, err
		}
		return &deltaClient{s: s, ch: pump(s.Recv), node: node}, nil
	case "ads-delta":
		s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		if err != nil {
			return nil, err
		}
		return &deltaClient{s: s, ch: pump(s.Recv), node: node}, nil
	case "fetch":
		return &fetchClient{rds: routesvcv3.NewRouteDiscoveryServiceClient(conn), ctx: ctx, node: node}, nil
	}
	return nil, fmt.Errorf("unknown -mode %q (want sotw, delta, ads-sotw, ads-delta or fetch)", mode)
}

// --- unary FetchRoutes -----------------------------------------------------------------------

// fetchClient makes one unary FetchRoutes call per Subscribe; its single response is the only
// update (a unary call has no nonce and nothing to ACK).
type fetchClient struct {
	rds     routesvcv3.RouteDiscoveryServiceClient
	ctx     context.Context
	node    *corev3.Node
	names   []string
	fetched bool
}

func (c *fetchClient) Subscribe(names []string) error {
	c.names, c.fetched = names, false
	return nil
}

func (c *fetchClient) Recv(deadline time.Time) (*update, error) {
	if c.fetched {
		return nil, errNoMore
	}
	c.fetched = true
	ctx, cancel := context.WithDeadline(c.ctx, deadline)
	defer cancel()
	r, err := c.rds.FetchRoutes(ctx, &discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: rdsTypeURL, ResourceNames: c.names})
	if err != nil {
		return nil, fmt.Errorf("FetchRoutes: %w", err)
	}
	if r.GetTypeUrl() != rdsTypeURL {
		return nil, fmt.Errorf("FetchRoutes response type_url is %q, want %q", r.GetTypeUrl(), rdsTypeURL)
	}
	if r.GetVersionInfo() == "" {
		return nil, fmt.Errorf("FetchRoutes response has an empty version_info")
	}
	u := &update{Version: r.GetVersionInfo()}
	for _, a := range r.GetResources() {
		u.Resources = append(u.Resources, resource{Version: r.GetVersionInfo(), Any: a})
	}
	return u, nil
}

func (c *fetchClient) Ack(*update) error { return nil }
func (c *fetchClient) Nack(*update, string) error {
	return errors.New("a unary FetchRoutes response cannot be NACKed")
}

// --- state of the world ---------------------------------------------------------------------

type sotwClient struct {
	s     sotwStream
	ch    <-chan received[*discoveryv3.DiscoveryResponse]
	node  *corev3.Node
	names []string
	acked string // version_info of the last ACKed response ("" before any)
	nonce string // nonce of the last response received ("" before any)
	sent  bool   // node is sent on the first request only, like Envoy
}

func (c *sotwClient) send(req *discoveryv3.DiscoveryRequest) error {
	req.TypeUrl = rdsTypeURL
	req.ResourceNames = c.names
	if !c.sent {
		req.Node = c.node
		c.sent = true
	}
	return c.s.Send(req)
}

func (c *sotwClient) Subscribe(names []string) error {
	// Like Envoy, a subscription change carries the last ACKed version and the latest nonce.
	c.names = names
	return c.send(&discoveryv3.DiscoveryRequest{VersionInfo: c.acked, ResponseNonce: c.nonce})
}

func (c *sotwClient) Recv(deadline time.Time) (*update, error) {
	r, err := wait(c.ch, deadline)
	if err != nil {
		return nil, err
	}
	if r.GetTypeUrl() != rdsTypeURL {
		return nil, fmt.Errorf("response type_url is %q, want %q", r.GetTypeUrl(), rdsTypeURL)
	}
	if r.GetNonce() == "" {
		return nil, fmt.Errorf("response has an empty nonce")
	}
	if r.GetVersionInfo() == "" {
		return nil, fmt.Errorf("response (nonce %s) has an empty version_info", r.GetNonce())
	}
	c.nonce = r.GetNonce()
	u := &update{Nonce: r.GetNonce(), Version: r.GetVersionInfo()}
	for _, a := range r.GetResources() {
		u.Resources = append(u.Resources, resource{Version: r.GetVersionInfo(), Any: a})
	}
	return u, nil
}

func (c *sotwClient) Ack(u *update) error {
	c.acked = u.Version
	return c.send(&discoveryv3.DiscoveryRequest{VersionInfo: u.Version, ResponseNonce: u.Nonce})
}

func (c *sotwClient) Nack(u *update, message string) error {
	// A NACK echoes the last ACKed version with the rejected response's nonce.
	return c.send(&discoveryv3.DiscoveryRequest{
		VersionInfo:   c.acked,
		ResponseNonce: u.Nonce,
		ErrorDetail:   &statuspb.Status{Code: int32(codes.InvalidArgument), Message: message},
	})
}

// --- incremental (delta) --------------------------------------------------------------------

type deltaClient struct {
	s     deltaStream
	ch    <-chan received[*discoveryv3.DeltaDiscoveryResponse]
	node  *corev3.Node
	names map[string]bool // the current subscription
	sent  bool            // node is sent on the first request only, like Envoy
}

func (c *deltaClient) Subscribe(names []string) error {
	next := map[string]bool{}
	req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: rdsTypeURL}
	for _, n := range names {
		next[n] = true
		if !c.names[n] {
			req.ResourceNamesSubscribe = append(req.ResourceNamesSubscribe, n)
		}
	}
	for n := range c.names {
		if !next[n] {
			req.ResourceNamesUnsubscribe = append(req.ResourceNamesUnsubscribe, n)
		}
	}
	if !c.sent {
		req.Node = c.node
		c.sent = true
	}
	c.names = next
	return c.s.Send(req)
}

func (c *deltaClient) Recv(deadline time.Time) (*update, error) {
	r, err := wait(c.ch, deadline)
	if err != nil {
		return nil, err
	}
	if r.GetTypeUrl() != rdsTypeURL {
		return nil, fmt.Errorf("delta response type_url is %q, want %q", r.GetTypeUrl(), rdsTypeURL)
	}
	if r.GetNonce() == "" {
		return nil, fmt.Errorf("delta response has an empty nonce")
	}
	u := &update{Nonce: r.GetNonce(), Version: r.GetSystemVersionInfo(), Removed: r.GetRemovedResources()}
	for _, res := range r.GetResources() {
		if res.GetName() == "" {
			return nil, fmt.Errorf("delta response (nonce %s) carries a resource without a name", r.GetNonce())
		}
		if res.GetVersion() == "" {
			return nil, fmt.Errorf("delta resource %q (nonce %s) has an empty version", res.GetName(), r.GetNonce())
		}
		if res.GetResource() == nil {
			return nil, fmt.Errorf("delta resource %q (nonce %s) has no resource body", res.GetName(), r.GetNonce())
		}
		u.Resources = append(u.Resources, resource{Name: res.GetName(), Version: res.GetVersion(), Any: res.GetResource()})
	}
	return u, nil
}

func (c *deltaClient) Ack(u *update) error {
	return c.s.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: rdsTypeURL, ResponseNonce: u.Nonce})
}

func (c *deltaClient) Nack(u *update, message string) error {
	return c.s.Send(&discoveryv3.DeltaDiscoveryRequest{
		TypeUrl:       rdsTypeURL,
		ResponseNonce: u.Nonce,
		ErrorDetail:   &statuspb.Status{Code: int32(codes.InvalidArgument), Message: message},
	})
}
