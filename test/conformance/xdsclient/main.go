// Command xdsclient is a conformance client for metamesh's xDS server. It connects the way an
// Envoy sidecar running the MetaProtocol Proxy does (go-control-plane's generated RDS / ADS
// stubs, SotW or delta), requests RDS route configurations by name, and checks every resource the
// way the data plane would before accepting it (decode, ValidateAll, name, conversion to the
// MetaProtocol RouteConfiguration, ValidateAll). It prints JSON lines on stdout and exits 1 with a
// "FAIL" message on stderr on any violation (2 on bad flags).
//
//	xdsclient -addr 127.0.0.1:15010 -names a_1,b_2 -mode sotw|delta|ads-sotw|ads-delta|fetch -scenario basic|nack|live-update [-barrier c_3]
//	xdsclient -addr 127.0.0.1:15010 -scenario mcp      (istiod's MCP client: mcp.go)
//
// -mode fetch uses the unary FetchRoutes RPC and supports -scenario basic only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const nodeID = "sidecar~10.1.2.3~pod.ns~ns.svc.cluster.local"

type options struct {
	addr          string
	names         []string
	mode          string
	scenario      string
	timeout       time.Duration
	barrier       string
	updateTimeout time.Duration
	watch         string
	expectCluster string
}

func main() {
	o := options{}
	var names string
	flag.StringVar(&o.addr, "addr", "", "xDS server host:port (plaintext)")
	flag.StringVar(&names, "names", "", "comma-separated RDS resource names (<host>_<port>)")
	flag.StringVar(&o.mode, "mode", "sotw", "sotw | delta | ads-sotw | ads-delta | fetch")
	flag.StringVar(&o.scenario, "scenario", "basic", "basic | nack | live-update | mcp")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline for receiving every requested resource")
	flag.StringVar(&o.barrier, "barrier", "", "nack: a resource not in -names, subscribed after the NACK; the NACKed versions must not arrive before or with it")
	flag.DurationVar(&o.updateTimeout, "update-timeout", 15*time.Second, "live-update: deadline for the new version after the ready line")
	flag.StringVar(&o.watch, "watch", "", "the resource -expect-cluster and live-update look at (default: the first of -names)")
	flag.StringVar(&o.expectCluster, "expect-cluster", "", "the first route of the -watch resource must route to this cluster (basic: on receipt; live-update: in the new version)")
	flag.Parse()
	if o.scenario == "mcp" {
		mcpMain(o)
		return
	}
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.names = append(o.names, n)
		}
	}
	if o.addr == "" || len(o.names) == 0 {
		usage("-addr and -names are required")
	}
	if o.watch == "" {
		o.watch = o.names[0]
	} else if !contains(o.names, o.watch) {
		usage(fmt.Sprintf("-watch %q is not one of -names", o.watch))
	}
	if o.scenario == "nack" && (o.barrier == "" || contains(o.names, o.barrier)) {
		usage("-scenario nack needs a -barrier that is not one of -names")
	}
	switch o.mode {
	case "sotw", "delta", "ads-sotw", "ads-delta":
	case "fetch":
		if o.scenario != "basic" {
			usage("-mode fetch supports -scenario basic only")
		}
	default:
		usage(fmt.Sprintf("unknown -mode %q (want sotw, delta, ads-sotw, ads-delta or fetch)", o.mode))
	}
	var run func(context.Context, client, options) (any, error)
	switch o.scenario {
	case "basic":
		run = basic
	case "nack":
		run = nack
	case "live-update":
		run = liveUpdate
	default:
		usage(fmt.Sprintf("unknown -scenario %q (want basic, nack or live-update)", o.scenario))
	}

	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(o, fmt.Errorf("dial %s: %v", o.addr, err))
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	node := &corev3.Node{Id: nodeID, Cluster: "pod.ns", UserAgentName: "metamesh-xdsclient"}
	c, err := newClient(ctx, conn, o.mode, node)
	if err != nil {
		fail(o, err)
	}
	summary, err := run(ctx, c, o)
	if err != nil {
		fail(o, err)
	}
	emit(summary)
}

// mcpMain runs the mcp scenario (mcp.go): no -names, -mode is always ADS state of the world.
func mcpMain(o options) {
	if o.addr == "" {
		usage("-addr is required")
	}
	o.mode = "ads-sotw"
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(o, fmt.Errorf("dial %s: %v", o.addr, err))
	}
	defer conn.Close()
	s, err := runMcp(context.Background(), conn, o.timeout)
	if err != nil {
		fail(o, err)
	}
	emit(s)
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "xdsclient: %s\n", msg)
	flag.Usage()
	os.Exit(2)
}

func fail(o options, err error) {
	fmt.Fprintf(os.Stderr, "xdsclient: FAIL [%s/%s]: %v\n", o.scenario, o.mode, err)
	os.Exit(1)
}

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	_ = os.Stdout.Sync()
}

type summary struct {
	Scenario  string     `json:"scenario"`
	Mode      string     `json:"mode"`
	OK        bool       `json:"ok"`
	NodeID    string     `json:"nodeId"`
	Responses int        `json:"responses"`
	Resources []*checked `json:"resources"`
}

// receiveAll subscribes and reads responses until every requested resource has arrived and passed
// checkResource, ACKing each response. A response that fails a check is a violation (no NACK:
// the point is to report it).
func receiveAll(c client, o options) (map[string]*checked, int, error) {
	requested := map[string]bool{}
	for _, n := range o.names {
		requested[n] = true
	}
	if err := c.Subscribe(o.names); err != nil {
		return nil, 0, fmt.Errorf("sending the subscription: %v", err)
	}
	got := map[string]*checked{}
	deadline := time.Now().Add(o.timeout)
	responses := 0
	for len(got) < len(requested) {
		u, err := c.Recv(deadline)
		if errors.Is(err, errDeadline) {
			return nil, responses, fmt.Errorf("no RouteConfiguration for %s within %s (received: %s)", missing(requested, got), o.timeout, list(keysOf(got)))
		}
		if errors.Is(err, errNoMore) {
			return nil, responses, fmt.Errorf("no RouteConfiguration for %s in the only response (received: %s)", missing(requested, got), list(keysOf(got)))
		}
		if err != nil {
			return nil, responses, err
		}
		responses++
		if err := checkUpdate(u, requested, got); err != nil {
			return nil, responses, err
		}
		if err := c.Ack(u); err != nil {
			return nil, responses, fmt.Errorf("sending the ACK for nonce %s: %v", u.Nonce, err)
		}
	}
	return got, responses, nil
}

func checkUpdate(u *update, requested map[string]bool, got map[string]*checked) error {
	for _, n := range u.Removed {
		if requested[n] {
			return fmt.Errorf("server reported requested resource %q as removed (nonce %s)", n, u.Nonce)
		}
	}
	seen := map[string]bool{}
	for _, r := range u.Resources {
		ch, err := checkResource(r, requested)
		if err != nil {
			return fmt.Errorf("response nonce %s: %v", u.Nonce, err)
		}
		if seen[ch.Name] {
			return fmt.Errorf("response nonce %s carries %q twice", u.Nonce, ch.Name)
		}
		seen[ch.Name] = true
		got[ch.Name] = ch
	}
	return nil
}

func checkExpectedCluster(o options, ch *checked) error {
	if o.expectCluster == "" || contains(ch.FirstRouteClusters, o.expectCluster) {
		return nil
	}
	return fmt.Errorf("%s version %s: first route goes to %s, expected %q", ch.Name, ch.Version, list(ch.FirstRouteClusters), o.expectCluster)
}

func basic(_ context.Context, c client, o options) (any, error) {
	got, n, err := receiveAll(c, o)
	if err != nil {
		return nil, err
	}
	if err := checkExpectedCluster(o, got[o.watch]); err != nil {
		return nil, err
	}
	s := summary{Scenario: o.scenario, Mode: o.mode, OK: true, NodeID: nodeID, Responses: n}
	for _, name := range o.names {
		s.Resources = append(s.Resources, got[name])
	}
	return s, nil
}

// nack: NACK the first response, then subscribe to -barrier as well and read until the barrier
// resource arrives: none of the NACKed (resource, version) pairs may arrive before it or with it.
// The server handles a stream's requests in order, so a resend caused by the NACK would come
// before the answer to the later subscription: the barrier, not a clock, bounds the wait.
func nack(_ context.Context, c client, o options) (any, error) {
	requested := map[string]bool{}
	for _, n := range o.names {
		requested[n] = true
	}
	if err := c.Subscribe(o.names); err != nil {
		return nil, fmt.Errorf("sending the subscription: %v", err)
	}
	u, err := c.Recv(time.Now().Add(o.timeout))
	if errors.Is(err, errDeadline) {
		return nil, fmt.Errorf("no response within %s", o.timeout)
	}
	if err != nil {
		return nil, err
	}
	got := map[string]*checked{}
	if err := checkUpdate(u, requested, got); err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("first response (nonce %s) carries no resource to NACK", u.Nonce)
	}
	rejected := map[string]string{}
	for n, ch := range got {
		rejected[n] = ch.Version
	}
	const message = "rejected by the metamesh xdsclient conformance test"
	if err := c.Nack(u, message); err != nil {
		return nil, fmt.Errorf("sending the NACK: %v", err)
	}
	requested[o.barrier] = true
	if err := c.Subscribe(append(append([]string{}, o.names...), o.barrier)); err != nil {
		return nil, fmt.Errorf("subscribing to the barrier %s: %v", o.barrier, err)
	}
	deadline := time.Now().Add(o.timeout)
	others := 0
	for {
		v, err := c.Recv(deadline)
		if errors.Is(err, errDeadline) {
			return nil, fmt.Errorf("the barrier %s did not arrive within %s after the NACK", o.barrier, o.timeout)
		}
		if err != nil {
			return nil, fmt.Errorf("after the NACK: %v", err)
		}
		more := map[string]*checked{}
		if err := checkUpdate(v, requested, more); err != nil {
			return nil, fmt.Errorf("after the NACK: %v", err)
		}
		for n, ch := range more {
			if rejected[n] == ch.Version {
				return nil, fmt.Errorf("NACKed version %s of %s was sent again (nonce %s)", ch.Version, n, v.Nonce)
			}
		}
		if err := c.Ack(v); err != nil {
			return nil, err
		}
		if more[o.barrier] == nil {
			others++
			continue
		}
		return map[string]any{
			"scenario": o.scenario, "mode": o.mode, "ok": true, "nodeId": nodeID,
			"nackedNonce": u.Nonce, "nackedVersions": rejected, "resent": false, "otherResponses": others,
			"barrierNonce": v.Nonce, "barrierResources": sortedKeys(more),
		}, nil
	}
}

// liveUpdate: receive and ACK everything, print a ready line, then wait for a new version of
// -watch (whose first route goes to -expect-cluster, if given), check it and ACK it.
func liveUpdate(_ context.Context, c client, o options) (any, error) {
	got, _, err := receiveAll(c, o)
	if err != nil {
		return nil, err
	}
	old := got[o.watch]
	versions := map[string]string{}
	for n, ch := range got {
		versions[n] = ch.Version
	}
	emit(map[string]any{"event": "ready", "scenario": o.scenario, "mode": o.mode, "versions": versions, "firstRouteClusters": old.FirstRouteClusters})

	requested := map[string]bool{}
	for _, n := range o.names {
		requested[n] = true
	}
	deadline := time.Now().Add(o.updateTimeout)
	var lastMismatch error
	for {
		u, err := c.Recv(deadline)
		if errors.Is(err, errDeadline) {
			if lastMismatch != nil {
				return nil, fmt.Errorf("within %s only non-matching new versions arrived; last: %v", o.updateTimeout, lastMismatch)
			}
			return nil, fmt.Errorf("no new version of %s (still %s) within %s", o.watch, old.Version, o.updateTimeout)
		}
		if err != nil {
			return nil, err
		}
		now := map[string]*checked{}
		if err := checkUpdate(u, requested, now); err != nil {
			return nil, err
		}
		if err := c.Ack(u); err != nil {
			return nil, fmt.Errorf("sending the ACK for nonce %s: %v", u.Nonce, err)
		}
		ch := now[o.watch]
		if ch == nil || ch.Version == old.Version {
			continue
		}
		if err := checkExpectedCluster(o, ch); err != nil {
			lastMismatch = err
			continue
		}
		return map[string]any{
			"scenario": o.scenario, "mode": o.mode, "ok": true, "nodeId": nodeID,
			"resource": o.watch, "oldVersion": old.Version, "newVersion": ch.Version,
			"oldFirstRouteClusters": old.FirstRouteClusters, "firstRouteClusters": ch.FirstRouteClusters,
			"routes": ch.Routes,
		}, nil
	}
}

func missing(requested map[string]bool, got map[string]*checked) string {
	var m []string
	for n := range requested {
		if got[n] == nil {
			m = append(m, n)
		}
	}
	return list(m)
}

func keysOf(m map[string]*checked) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedKeys(m map[string]*checked) []string {
	k := keysOf(m)
	sort.Strings(k)
	return k
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return "[" + strings.Join(c, ", ") + "]"
}
