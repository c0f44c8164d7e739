// adsclient asks a real istiod for what one proxy gets, the way pilot-agent does: one ADS stream
// on istiod's plaintext gRPC port, the node id and metadata pilot-agent sends, CDS first, then LDS,
// each response ACKed. It prints the clusters and listeners as one JSON document on stdout
// (protojson, every Any resolved with the types Istio registers) and exits.
//
// Used by the e2e tests (test/e2e/support/istiod.ts); not part of metamesh.
//
//	adsclient -addr 127.0.0.1:15010 -type sidecar -ip 10.0.1.11 -name pod -namespace dubbo \
//	  -labels '{"app":"x"}' -istio-version 1.31 [-timeout 20s]
//
// Exit status: 0 with the JSON; 1 when istiod did not answer both within -timeout or closed the
// stream; 2 for a usage error; 3 when istiod sent something this client cannot decode (a gap in
// the types it registers: asking again will not help). The reason is on stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	// Registers every Envoy extension type Istio knows, so each typed_config decodes, and the
	// TypedStructs EnvoyFilter patches carry (metamesh's MetaProtocol Proxy config among them).
	_ "github.com/cncf/xds/go/udpa/type/v1"
	_ "github.com/cncf/xds/go/xds/type/v3"
	_ "istio.io/istio/pkg/config/xds"
)

const (
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
)

type options struct {
	addr, proxyType, ip, name, namespace, labels, istioVersion, serviceAccount string
	timeout                                                                    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "", "istiod's plaintext gRPC address, host:port")
	flag.StringVar(&o.proxyType, "type", "sidecar", "sidecar or router (a gateway)")
	flag.StringVar(&o.ip, "ip", "10.0.0.1", "the proxy's IP (INSTANCE_IPS and the node id)")
	flag.StringVar(&o.name, "name", "proxy", "the pod name")
	flag.StringVar(&o.namespace, "namespace", "default", "the pod namespace")
	flag.StringVar(&o.labels, "labels", "{}", "the pod labels, a JSON object of strings")
	flag.StringVar(&o.istioVersion, "istio-version", "", "ISTIO_VERSION to send (istiod's own)")
	flag.StringVar(&o.serviceAccount, "service-account", "default", "the pod's ServiceAccount")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Second, "how long to wait for both answers")
	flag.Parse()
	if o.addr == "" || (o.proxyType != "sidecar" && o.proxyType != "router") {
		fmt.Fprintln(os.Stderr, "adsclient: -addr is required and -type must be sidecar or router")
		os.Exit(2)
	}
	node, err := nodeOf(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "adsclient: %v\n", err)
		os.Exit(2)
	}
	res, err := fetch(o, node)
	if err != nil {
		fmt.Fprintf(os.Stderr, "adsclient: %v\n", err)
		os.Exit(1)
	}
	out, err := render(node.Id, res[clusterType], res[listenerType])
	if err != nil {
		fmt.Fprintf(os.Stderr, "adsclient: %v\n", err)
		os.Exit(3)
	}
	os.Stdout.Write(out)
}

// nodeOf builds the node pilot-agent would send for this pod (the fields istiod reads).
func nodeOf(o options) (*core.Node, error) {
	labels := map[string]string{}
	if err := json.Unmarshal([]byte(o.labels), &labels); err != nil {
		return nil, fmt.Errorf("-labels is not a JSON object of strings: %v", err)
	}
	labelValues := map[string]any{}
	for k, v := range labels {
		labelValues[k] = v
	}
	workload := o.name
	if app, ok := labels["app"]; ok {
		workload = app
	}
	meta, err := structpb.NewStruct(map[string]any{
		"ISTIO_VERSION":     o.istioVersion,
		"NAMESPACE":         o.namespace,
		"NAME":              o.name,
		"LABELS":            labelValues,
		"CLUSTER_ID":        "Kubernetes",
		"MESH_ID":           "cluster.local",
		"WORKLOAD_NAME":     workload,
		"OWNER":             fmt.Sprintf("kubernetes://apis/apps/v1/namespaces/%s/deployments/%s", o.namespace, workload),
		"INSTANCE_IPS":      o.ip,
		"INTERCEPTION_MODE": "REDIRECT",
		"SERVICE_ACCOUNT":   o.serviceAccount,
		"PROXY_CONFIG":      map[string]any{"discoveryAddress": o.addr},
	})
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", o.proxyType, o.ip, o.name, o.namespace, o.namespace)
	return &core.Node{Id: id, Cluster: workload + "." + o.namespace, Metadata: meta}, nil
}

// fetch asks for CDS, ACKs it, asks for LDS, ACKs it, and returns both responses by type URL.
func fetch(o options, node *core.Node) (map[string]*discovery.DiscoveryResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the ADS stream: %v", err)
	}
	defer stream.CloseSend()
	if err := stream.Send(&discovery.DiscoveryRequest{Node: node, TypeUrl: clusterType}); err != nil {
		return nil, err
	}
	got := map[string]*discovery.DiscoveryResponse{}
	for got[clusterType] == nil || got[listenerType] == nil {
		res, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("waiting for %s: %v", missing(got), err)
		}
		// Anything else istiod pushes (EDS, RDS, …) is ACKed and ignored.
		if err := stream.Send(&discovery.DiscoveryRequest{TypeUrl: res.TypeUrl, VersionInfo: res.VersionInfo, ResponseNonce: res.Nonce}); err != nil {
			return nil, err
		}
		if res.TypeUrl == clusterType && got[clusterType] == nil {
			got[clusterType] = res
			if err := stream.Send(&discovery.DiscoveryRequest{TypeUrl: listenerType}); err != nil {
				return nil, err
			}
		} else if res.TypeUrl == listenerType {
			got[listenerType] = res
		}
	}
	return got, nil
}

func missing(got map[string]*discovery.DiscoveryResponse) string {
	if got[clusterType] == nil {
		return "CDS"
	}
	return "LDS"
}

// render prints {node, clusters: [...], listeners: [...]}, each resource as protojson.
func render(id string, cds, lds *discovery.DiscoveryResponse) ([]byte, error) {
	clusters, err := decodeAll(cds)
	if err != nil {
		return nil, err
	}
	listeners, err := decodeAll(lds)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(map[string]any{"node": id, "clusters": clusters, "listeners": listeners}, "", " ")
}

func decodeAll(res *discovery.DiscoveryResponse) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(res.Resources))
	for _, a := range res.Resources {
		msg, err := a.UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("decoding a %s: %v", a.TypeUrl, err)
		}
		text, err := protojson.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("printing a %s: %v", a.TypeUrl, err)
		}
		out = append(out, text)
	}
	return out, nil
}
