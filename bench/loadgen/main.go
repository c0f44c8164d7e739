// Command loadgen opens N SotW RDS streams (envoy.service.route.v3.RouteDiscoveryService/StreamRoutes)
// against an xDS server, each on its own HTTP/2 connection (like N sidecars), each subscribing to
// the same resource names and ACKing every response. Driven by bench/xds-fanout.ts over
// stdin/stdout (JSON lines on stdout; commands on stdin):
//
//	start-up         opens the streams (-mode steady: at most -dial-concurrency at a time;
//	                 -mode storm: all at once), then prints {"event":"ready",...} once every stream
//	                 has received and ACKed a response carrying all names.
//	"arm"            records each stream's current version_info; prints {"event":"armed"}.
//	"t0 <unixNanos>" waits until every stream has received and ACKed a response with a new
//	                 version_info; prints {"event":"changed",...} with latencies from t0.
//	"quit"           closes every stream and exits.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

const rdsType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"

type stream struct {
	mu            sync.Mutex
	version       string // version_info of the last ACKed response
	armedVersion  string
	armed         bool
	changedAckNs  int64 // wall clock of the ACK of the first new version after "arm"
	firstAckNs    int64
	responses     int64
	bytes         int64
	err           error
}

var (
	ready     atomic.Int64
	changed   atomic.Int64
	failed    atomic.Int64
	notify    = make(chan struct{}, 1)
	nameCount int
)

func wake() {
	select {
	case notify <- struct{}{}:
	default:
	}
}

func run(ctx context.Context, addr string, id int, names []string, s *stream, window int32) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20))}
	if window > 0 {
		opts = append(opts, grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		fail(s, err)
		return
	}
	defer conn.Close()
	st, err := routeservice.NewRouteDiscoveryServiceClient(conn).StreamRoutes(ctx)
	if err != nil {
		fail(s, err)
		return
	}
	node := &corev3.Node{Id: fmt.Sprintf("sidecar~10.1.%d.%d~bench-%d.bench~bench.svc.cluster.local", id>>8, id&255, id), Cluster: "bench-client"}
	if err := st.Send(&discoveryv3.DiscoveryRequest{Node: node, ResourceNames: names, TypeUrl: rdsType}); err != nil {
		fail(s, err)
		return
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			if ctx.Err() == nil {
				fail(s, err)
			}
			return
		}
		size := int64(proto.Size(resp))
		if err := st.Send(&discoveryv3.DiscoveryRequest{VersionInfo: resp.VersionInfo, ResourceNames: names, TypeUrl: rdsType, ResponseNonce: resp.Nonce}); err != nil {
			fail(s, err)
			return
		}
		now := time.Now().UnixNano()
		s.mu.Lock()
		s.responses++
		s.bytes += size
		s.version = resp.VersionInfo
		if s.firstAckNs == 0 && len(resp.Resources) == nameCount {
			s.firstAckNs = now
			s.mu.Unlock()
			ready.Add(1)
			wake()
			continue
		}
		if s.armed && s.changedAckNs == 0 && resp.VersionInfo != s.armedVersion {
			s.changedAckNs = now
			s.mu.Unlock()
			changed.Add(1)
			wake()
			continue
		}
		s.mu.Unlock()
	}
}

func fail(s *stream, err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	failed.Add(1)
	wake()
}

func waitFor(counter *atomic.Int64, target int64, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for counter.Load()+failed.Load() < target {
		select {
		case <-notify:
		case <-deadline:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return counter.Load() >= target
}

func quantiles(ms []float64) map[string]any {
	if len(ms) == 0 {
		return map[string]any{"n": 0}
	}
	sort.Float64s(ms)
	q := func(p float64) float64 {
		i := int(float64(len(ms))*p+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(ms) {
			i = len(ms) - 1
		}
		return round(ms[i])
	}
	return map[string]any{"p50": q(0.5), "p99": q(0.99), "max": round(ms[len(ms)-1]), "min": round(ms[0]), "n": len(ms)}
}

func round(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func firstError(streams []*stream) string {
	for _, s := range streams {
		s.mu.Lock()
		e := s.err
		s.mu.Unlock()
		if e != nil {
			return e.Error()
		}
	}
	return ""
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18000", "xDS server address")
	n := flag.Int("n", 1000, "streams (one connection each)")
	namesFlag := flag.String("names", "", "comma-separated resource names")
	mode := flag.String("mode", "steady", "steady | storm")
	dialConc := flag.Int("dial-concurrency", 200, "steady mode: streams being set up at once")
	window := flag.Int("window", 0, "HTTP/2 initial stream+conn window (0 = grpc-go default with BDP)")
	timeout := flag.Duration("timeout", 120*time.Second, "per-phase timeout")
	flag.Parse()
	names := strings.Split(*namesFlag, ",")
	nameCount = len(names)
	ctx, cancel := context.WithCancel(context.Background())
	streams := make([]*stream, *n)
	for i := range streams {
		streams[i] = &stream{}
	}

	start := time.Now()
	var wg sync.WaitGroup
	if *mode == "storm" {
		gate := make(chan struct{})
		for i := range streams {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-gate
				run(ctx, *addr, i, names, streams[i], int32(*window))
			}(i)
		}
		start = time.Now()
		close(gate)
	} else {
		sem := make(chan struct{}, *dialConc)
		go func() {
			for i := range streams {
				sem <- struct{}{}
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					go func() {
						// release the slot once this stream holds its routes (or failed)
						for {
							streams[i].mu.Lock()
							done := streams[i].firstAckNs != 0 || streams[i].err != nil
							streams[i].mu.Unlock()
							if done {
								<-sem
								return
							}
							time.Sleep(2 * time.Millisecond)
						}
					}()
					run(ctx, *addr, i, names, streams[i], int32(*window))
				}(i)
			}
		}()
	}
	ok := waitFor(&ready, int64(*n), *timeout)
	startNs := start.UnixNano()
	first := make([]float64, 0, *n)
	var bytes, responses int64
	for _, s := range streams {
		s.mu.Lock()
		if s.firstAckNs != 0 {
			first = append(first, float64(s.firstAckNs-startNs)/1e6)
		}
		bytes += s.bytes
		responses += s.responses
		s.mu.Unlock()
	}
	allMs := 0.0
	if len(first) > 0 {
		sort.Float64s(first)
		allMs = first[len(first)-1]
	}
	emit(map[string]any{"event": "ready", "ok": ok, "mode": *mode, "streams": *n, "holding": ready.Load(), "failed": failed.Load(), "firstError": firstError(streams),
		"allHoldRoutesMs": round(allMs), "perStreamHoldMs": quantiles(first), "responses": responses, "bytesReceived": bytes})

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd := strings.Fields(in.Text())
		if len(cmd) == 0 {
			continue
		}
		switch cmd[0] {
		case "arm":
			changed.Store(0)
			for _, s := range streams {
				s.mu.Lock()
				s.armed, s.armedVersion, s.changedAckNs = true, s.version, 0
				s.responses, s.bytes = 0, 0
				s.mu.Unlock()
			}
			emit(map[string]any{"event": "armed"})
		case "t0":
			t0, _ := strconv.ParseInt(cmd[1], 10, 64)
			live := int64(*n) - failed.Load()
			ok := waitFor(&changed, live, *timeout)
			lat := make([]float64, 0, *n)
			var bytes, responses int64
			for _, s := range streams {
				s.mu.Lock()
				if s.changedAckNs != 0 {
					lat = append(lat, float64(s.changedAckNs-t0)/1e6)
				}
				bytes += s.bytes
				responses += s.responses
				s.mu.Unlock()
			}
			emit(map[string]any{"event": "changed", "ok": ok, "acked": changed.Load(), "failed": failed.Load(), "ackMs": quantiles(lat), "responses": responses, "bytesReceived": bytes})
		case "quit":
			cancel()
			wg.Wait()
			emit(map[string]any{"event": "bye"})
			return
		}
	}
	cancel()
}
