package main

// Type registry used by every protojson / Any operation in the harness.
//
// The blank imports below make the concrete message types that may appear
// inside google.protobuf.Any values known to the global protobuf registry, so
// that "@type" URLs in the generated JSON resolve. The four MetaProtocol codec
// config messages (aeraki.meta_protocol.codec.*Codec) are not part of the
// published Go API module, so they are described here at run time as empty
// proto3 messages (which is what they are in the data plane sources).

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"

	// MetaProtocol Proxy API (non-deprecated copy; the aeraki/... copy registers
	// the same proto names and must not be imported alongside it).
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/config/route/v1alpha"
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/filters/global_ratelimit/v1alpha"
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/filters/istio_stats/v1alpha"
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/filters/local_ratelimit/v1alpha"
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/filters/metadata_exchange/v1alpha"
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/filters/router/v1alpha"
	_ "github.com/aeraki-mesh/meta-protocol-control-plane-api/meta_protocol_proxy/v1alpha"

	// TypedStruct (both spellings accepted by Envoy / Istio).
	_ "github.com/cncf/xds/go/udpa/type/v1"
	_ "github.com/cncf/xds/go/xds/type/v3"

	// Envoy types that can legitimately appear in Anys of what we check.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

const typeURLPrefix = "type.googleapis.com/"

// Codec registered names (Envoy factory names) and their config message names.
var codecConfigTypes = map[string]protoreflect.FullName{
	"aeraki.meta_protocol.codec.dubbo":  "aeraki.meta_protocol.codec.DubboCodec",
	"aeraki.meta_protocol.codec.thrift": "aeraki.meta_protocol.codec.ThriftCodec",
	"aeraki.meta_protocol.codec.trpc":   "aeraki.meta_protocol.codec.TrpcCodec",
	"aeraki.meta_protocol.codec.brpc":   "aeraki.meta_protocol.codec.BrpcCodec",
}

// localTypes holds the run-time described codec messages.
var localTypes = func() *protoregistry.Types {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("metamesh/conformance/aeraki_meta_protocol_codecs.proto"),
		Package: proto.String("aeraki.meta_protocol.codec"),
		Syntax:  proto.String("proto3"),
	}
	for _, n := range []string{"DubboCodec", "ThriftCodec", "TrpcCodec", "BrpcCodec"} {
		fdp.MessageType = append(fdp.MessageType, &descriptorpb.DescriptorProto{Name: proto.String(n)})
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		panic(err)
	}
	t := new(protoregistry.Types)
	for i := 0; i < fd.Messages().Len(); i++ {
		if err := t.RegisterMessage(dynamicpb.NewMessageType(fd.Messages().Get(i))); err != nil {
			panic(err)
		}
	}
	return t
}()

// resolver looks in the local codec types first, then in the global registry.
type resolver struct{}

func (resolver) FindMessageByName(n protoreflect.FullName) (protoreflect.MessageType, error) {
	if mt, err := localTypes.FindMessageByName(n); err == nil {
		return mt, nil
	}
	return protoregistry.GlobalTypes.FindMessageByName(n)
}

func (resolver) FindMessageByURL(u string) (protoreflect.MessageType, error) {
	if mt, err := localTypes.FindMessageByURL(u); err == nil {
		return mt, nil
	}
	return protoregistry.GlobalTypes.FindMessageByURL(u)
}

func (resolver) FindExtensionByName(n protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByName(n)
}

func (resolver) FindExtensionByNumber(m protoreflect.FullName, f protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByNumber(m, f)
}

// validator is implemented by every protoc-gen-validate generated message.
type validator interface{ ValidateAll() error }

// validate runs ValidateAll when the message has PGV rules; messages without
// generated validators (e.g. the run-time codec messages) pass trivially.
func validate(m proto.Message) error {
	if v, ok := m.(validator); ok {
		return v.ValidateAll()
	}
	return nil
}

// unpackAny resolves an Any into its concrete message using our resolver.
func unpackAny(a *anypb.Any) (proto.Message, error) {
	if a.GetTypeUrl() == "" {
		return nil, fmt.Errorf("Any has an empty type URL")
	}
	if !strings.HasPrefix(a.GetTypeUrl(), typeURLPrefix) {
		return nil, fmt.Errorf("Any type URL %q does not start with %q", a.GetTypeUrl(), typeURLPrefix)
	}
	return anypb.UnmarshalNew(a, proto.UnmarshalOptions{Resolver: resolver{}})
}

// walkAnys visits every google.protobuf.Any nested anywhere in m (depth first),
// unpacks it, validates the inner message and walks into it as well. It
// reports one string per problem, prefixed by a JSON-style field path.
func walkAnys(m protoreflect.Message, path string, report func(string)) {
	if !m.IsValid() {
		return
	}
	if m.Descriptor().FullName() == "google.protobuf.Any" {
		a := &anypb.Any{}
		if am, ok := m.Interface().(*anypb.Any); ok {
			a = am
		} else {
			b, err := proto.Marshal(m.Interface())
			if err == nil {
				err = proto.Unmarshal(b, a)
			}
			if err != nil {
				report(fmt.Sprintf("%s: cannot read Any: %v", path, err))
				return
			}
		}
		inner, err := unpackAny(a)
		if err != nil {
			report(fmt.Sprintf("%s: %v", path, err))
			return
		}
		if err := validate(inner); err != nil {
			report(fmt.Sprintf("%s (%s): %v", path, a.GetTypeUrl(), err))
		}
		walkAnys(inner.ProtoReflect(), path, report)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + fd.JSONName()
		switch {
		case fd.IsList():
			if fd.Message() == nil {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkAnys(l.Get(i).Message(), fmt.Sprintf("%s[%d]", p, i), report)
			}
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				walkAnys(mv.Message(), fmt.Sprintf("%s[%v]", p, k.Interface()), report)
				return true
			})
		case fd.Message() != nil:
			walkAnys(v.Message(), p, report)
		}
		return true
	})
}
