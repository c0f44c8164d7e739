// Command gcp-rds is the peer for bench/xds-fanout.ts: a minimal RDS server on go-control-plane's
// SnapshotCache (pkg/cache/v3) and xDS server (pkg/server/v3), RouteDiscoveryService only.
//
//	gcp-rds -addr 127.0.0.1:0 -http 127.0.0.1:0 -resources routes.json
//
// routes.json is {"resources":[<RouteConfiguration as proto3 JSON>, ...]} (exported by the TS side,
// loaded with protojson). All nodes share one snapshot (constant node hash). Prints one line
// {"xdsPort":P,"httpPort":H} on stdout when listening. POST /swap with one RouteConfiguration as
// proto3 JSON replaces the resource of that name and sets a new snapshot (version+1); it answers
// after SetSnapshot returned.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/encoding/protojson"
	"time"
)

const nodeKey = "bench"

type constantHash struct{}

func (constantHash) ID(*core.Node) string { return nodeKey }

type state struct {
	mu      sync.Mutex
	cache   cachev3.SnapshotCache
	routes  map[string]*route.RouteConfiguration
	order   []string
	version int
}

func (s *state) publish() error {
	res := make([]types.Resource, 0, len(s.order))
	for _, n := range s.order {
		res = append(res, s.routes[n])
	}
	s.version++
	snap, err := cachev3.NewSnapshot(strconv.Itoa(s.version), map[resourcev3.Type][]types.Resource{resourcev3.RouteType: res})
	if err != nil {
		return err
	}
	return s.cache.SetSnapshot(context.Background(), nodeKey, snap)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "gRPC listen address")
	httpAddr := flag.String("http", "127.0.0.1:0", "HTTP trigger listen address")
	file := flag.String("resources", "", "JSON file {\"resources\":[RouteConfiguration...]}")
	flag.Parse()

	raw, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		log.Fatal(err)
	}
	s := &state{cache: cachev3.NewSnapshotCache(false, constantHash{}, nil), routes: map[string]*route.RouteConfiguration{}}
	for _, r := range doc.Resources {
		rc := &route.RouteConfiguration{}
		if err := protojson.Unmarshal(r, rc); err != nil {
			log.Fatalf("protojson: %v", err)
		}
		s.routes[rc.Name] = rc
		s.order = append(s.order, rc.Name)
	}
	if err := s.publish(); err != nil {
		log.Fatal(err)
	}

	srv := serverv3.NewServer(context.Background(), s.cache, nil)
	g := grpc.NewServer(
		grpc.MaxConcurrentStreams(100000),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 60 * time.Second, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{PermitWithoutStream: true}),
	)
	routeservice.RegisterRouteDiscoveryServiceServer(g, srv)
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/swap", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc := &route.RouteConfiguration{}
		if err := protojson.Unmarshal(body, rc); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.routes[rc.Name]; !ok {
			http.Error(w, "unknown resource "+rc.Name, 404)
			return
		}
		s.routes[rc.Name] = rc
		if err := s.publish(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d\n", s.version)
	})
	go func() { log.Fatal(http.Serve(hl, mux)) }()
	fmt.Printf("{\"xdsPort\":%d,\"httpPort\":%d}\n", lis.Addr().(*net.TCPAddr).Port, hl.Addr().(*net.TCPAddr).Port)
	log.Fatal(g.Serve(lis))
}
