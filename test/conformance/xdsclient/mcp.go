package main

// The mcp scenario: connect to metamesh's xDS server the way istiod's MCP client does for a
// configSources entry xds://host:port (istio.io/istio pkg/adsc with ConfigInitialRequests, as
// pilot's bootstrap uses it), and read everything with Istio's own Go types (istio.io/api):
//
//   - one ADS stream, state of the world;
//   - on connect, one wildcard request per type URL istiod 1.31 reads (istiodTypeURLs), the node
//     only on the first (metadata GENERATOR=api, ISTIO_REVISION, ISTIO_VERSION=65536.65536.65536),
//     each with a timestamp string as response_nonce (adsc sets time.Now().String());
//   - every response ACKed at once with its nonce and version_info, the node, no names.
//
// Every type URL must be answered (istiod is not ready until then). Each resource must be an Any
// of istio.mcp.v1alpha1.Resource named "<namespace>/<name>" with a version, whose body is the
// v1alpha3 message of its kind; bodies are decoded with istio.io/api's registered types and must
// hold no field those types do not know. The summary carries every object as a Kubernetes-style
// object (apiVersion, kind, metadata, spec as protojson), for the harness's manifest checks.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	mcp "istio.io/api/mcp/v1alpha1"
	_ "istio.io/api/networking/v1alpha3"
)

// The type URLs istiod 1.31 requests on connect: MeshConfig, then its Pilot collections.
var istiodTypeURLs = []string{
	"core/v1alpha1/MeshConfig",
	"networking.istio.io/v1/DestinationRule",
	"networking.istio.io/v1alpha3/EnvoyFilter",
	"networking.istio.io/v1/Gateway",
	"networking.istio.io/v1beta1/ProxyConfig",
	"networking.istio.io/v1/ServiceEntry",
	"networking.istio.io/v1/Sidecar",
	"networking.istio.io/v1/VirtualService",
	"networking.istio.io/v1/WorkloadEntry",
	"networking.istio.io/v1/WorkloadGroup",
	"security.istio.io/v1/AuthorizationPolicy",
	"security.istio.io/v1/PeerAuthentication",
	"security.istio.io/v1/RequestAuthentication",
	"telemetry.istio.io/v1/Telemetry",
	"extensions.istio.io/v1alpha1/WasmPlugin",
	"extensions.istio.io/v1alpha1/TrafficExtension",
}

const mcpResourceType = "type.googleapis.com/istio.mcp.v1alpha1.Resource"
const istiodNodeID = "istiod~10.0.0.9~istiod-local.istio-system~istio-system.svc.cluster.local"

type mcpObject struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   mcpMeta         `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
	// Not part of a manifest: what istiod keys its cache on.
	Version    string `json:"version"`
	CreateTime string `json:"createTime,omitempty"`
}

type mcpMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type mcpType struct {
	VersionInfo string      `json:"versionInfo"`
	Objects     []mcpObject `json:"objects"`
}

type mcpSummary struct {
	Scenario  string              `json:"scenario"`
	OK        bool                `json:"ok"`
	NodeID    string              `json:"nodeId"`
	Responses int                 `json:"responses"`
	Types     map[string]*mcpType `json:"types"`
}

func istiodNode() *corev3.Node {
	meta, _ := structpb.NewStruct(map[string]any{"GENERATOR": "api", "ISTIO_REVISION": "default", "ISTIO_VERSION": "65536.65536.65536"})
	return &corev3.Node{Id: istiodNodeID, Metadata: meta}
}

func runMcp(ctx context.Context, conn *grpc.ClientConn, timeout time.Duration) (*mcpSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the ADS stream: %v", err)
	}
	for i, t := range istiodTypeURLs {
		req := &discoveryv3.DiscoveryRequest{TypeUrl: t, ResponseNonce: time.Now().String()}
		if i == 0 {
			req.Node = istiodNode()
		}
		if err := stream.Send(req); err != nil {
			return nil, fmt.Errorf("sending the request for %s: %v", t, err)
		}
	}
	s := &mcpSummary{Scenario: "mcp", NodeID: istiodNodeID, Types: map[string]*mcpType{}}
	requested := map[string]bool{}
	for _, t := range istiodTypeURLs {
		requested[t] = true
	}
	for len(s.Types) < len(istiodTypeURLs) {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) || err != nil {
			return nil, fmt.Errorf("after %d responses, types not answered %v: %v", s.Responses, unanswered(s), err)
		}
		s.Responses++
		if !requested[r.TypeUrl] {
			return nil, fmt.Errorf("response for a type URL not requested: %q", r.TypeUrl)
		}
		if _, dup := s.Types[r.TypeUrl]; dup {
			return nil, fmt.Errorf("%s answered twice before every type was answered (nothing changed)", r.TypeUrl)
		}
		if r.Nonce == "" || r.VersionInfo == "" {
			return nil, fmt.Errorf("%s: empty nonce or version_info", r.TypeUrl)
		}
		t, err := decodeMcpResponse(r)
		if err != nil {
			return nil, fmt.Errorf("%s (nonce %s): %v", r.TypeUrl, r.Nonce, err)
		}
		s.Types[r.TypeUrl] = t
		ack := &discoveryv3.DiscoveryRequest{TypeUrl: r.TypeUrl, ResponseNonce: r.Nonce, VersionInfo: r.VersionInfo, Node: istiodNode()}
		if err := stream.Send(ack); err != nil {
			return nil, fmt.Errorf("sending the ACK for %s: %v", r.TypeUrl, err)
		}
	}
	_ = stream.CloseSend()
	s.OK = true
	return s, nil
}

func unanswered(s *mcpSummary) []string {
	var out []string
	for _, t := range istiodTypeURLs {
		if _, ok := s.Types[t]; !ok {
			out = append(out, t)
		}
	}
	return out
}

func decodeMcpResponse(r *discoveryv3.DiscoveryResponse) (*mcpType, error) {
	kind := r.TypeUrl[strings.LastIndex(r.TypeUrl, "/")+1:]
	t := &mcpType{VersionInfo: r.VersionInfo, Objects: []mcpObject{}}
	names := map[string]bool{}
	for i, a := range r.Resources {
		if a.TypeUrl != mcpResourceType {
			return nil, fmt.Errorf("resource %d: Any type %q, want %q", i, a.TypeUrl, mcpResourceType)
		}
		res := &mcp.Resource{}
		if err := proto.Unmarshal(a.Value, res); err != nil {
			return nil, fmt.Errorf("resource %d: %v", i, err)
		}
		if err := noUnknownFields(res.ProtoReflect(), "Resource"); err != nil {
			return nil, fmt.Errorf("resource %d: %v", i, err)
		}
		m := res.GetMetadata()
		parts := strings.Split(m.GetName(), "/")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("resource %d: name %q is not <namespace>/<name>", i, m.GetName())
		}
		if names[m.GetName()] {
			return nil, fmt.Errorf("%s twice in one response", m.GetName())
		}
		names[m.GetName()] = true
		if m.GetVersion() == "" {
			return nil, fmt.Errorf("%s: no metadata.version (istiod would update it at every push)", m.GetName())
		}
		wantBody := "type.googleapis.com/istio.networking.v1alpha3." + kind
		if res.GetBody().GetTypeUrl() != wantBody {
			return nil, fmt.Errorf("%s: body %q, want %q", m.GetName(), res.GetBody().GetTypeUrl(), wantBody)
		}
		body, err := res.GetBody().UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("%s: body: %v", m.GetName(), err)
		}
		if err := noUnknownFields(body.ProtoReflect(), kind); err != nil {
			return nil, fmt.Errorf("%s: %v", m.GetName(), err)
		}
		spec, err := protojson.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", m.GetName(), err)
		}
		o := mcpObject{
			APIVersion: "networking.istio.io/v1alpha3",
			Kind:       kind,
			Metadata:   mcpMeta{Name: parts[1], Namespace: parts[0], Labels: m.GetLabels(), Annotations: m.GetAnnotations()},
			Spec:       spec,
			Version:    m.GetVersion(),
		}
		if m.GetCreateTime() != nil {
			o.CreateTime = m.GetCreateTime().AsTime().UTC().Format(time.RFC3339Nano)
		}
		t.Objects = append(t.Objects, o)
	}
	if !sort.SliceIsSorted(t.Objects, func(a, b int) bool {
		return t.Objects[a].Metadata.Namespace+"/"+t.Objects[a].Metadata.Name < t.Objects[b].Metadata.Namespace+"/"+t.Objects[b].Metadata.Name
	}) {
		return nil, errors.New("resources are not sorted by name")
	}
	return t, nil
}

// noUnknownFields fails on any field the Go type does not know, anywhere in the message.
func noUnknownFields(m protoreflect.Message, path string) error {
	if u := m.GetUnknown(); len(u) > 0 {
		return fmt.Errorf("%s: %d bytes of fields %s does not know", path, len(u), m.Descriptor().FullName())
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					err = noUnknownFields(mv.Message(), p+"["+k.String()+"]")
					return err == nil
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := 0; i < v.List().Len() && err == nil; i++ {
					err = noUnknownFields(v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", p, i))
				}
			}
		case fd.Message() != nil:
			err = noUnknownFields(v.Message(), p)
		}
		return err == nil
	})
	return err
}
