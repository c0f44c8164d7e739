package main

import (
	"metamesh/test/conformance/envoy/mpconvert"

	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoodDocumentPasses(t *testing.T) {
	res := CheckDocument(load(t, "good.json"))
	if res.Checked != 8 {
		t.Errorf("checked %d objects, want 8", res.Checked)
	}
	for _, f := range res.Failures {
		t.Errorf("unexpected failure: %s", f)
	}
	for _, w := range res.Warnings {
		t.Errorf("unexpected warning: %s", w)
	}
	var out bytes.Buffer
	if code := Report(&out, res, true); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if got := out.String(); got != "conformance: 8 objects checked, 0 failures\n" {
		t.Errorf("report = %q", got)
	}
}

// Each bad-*.json is good.json broken in exactly one way; it must fail with
// exactly one failure containing the given substring.
var badCases = map[string]struct{ object, substr string }{
	"bad-unknown-ef-field.json": {"EnvoyFilter istio-system/aeraki-outbound-", `unknown field "contxt"`},
	"bad-missing-stat-prefix.json": {"EnvoyFilter istio-system/aeraki-outbound-",
		"invalid MetaProtocolProxy.StatPrefix: value length must be at least 1 runes"},
	"bad-router-not-last.json": {"EnvoyFilter istio-system/aeraki-outbound-",
		"metaProtocolFilters must end with aeraki.meta_protocol.filters.router"},
	"bad-empty-domains.json": {"RouteConfiguration thrift-sample-server.meta-thrift.svc.cluster.local_20880:",
		"invalid VirtualHost.Domains: value must contain at least 1 item(s)"},
	"bad-rds-no-route.json": {"EnvoyFilter istio-system/aeraki-gateway-outbound-",
		`rds.routeConfigName "thrift-sample-server.meta-thrift.svc.cluster.local_9090" has no matching entry in routes[]`},
	"bad-inbound-no-selector.json": {"EnvoyFilter istio-system/aeraki-inbound-",
		"SIDECAR_INBOUND patch without a non-empty spec.workloadSelector.labels"},
	"bad-inbound-empty-selector-value.json": {"EnvoyFilter istio-system/aeraki-inbound-",
		`SIDECAR_INBOUND patch with empty workloadSelector label value for key "app"`},
	"bad-unknown-filter.json": {"EnvoyFilter istio-system/aeraki-inbound-",
		`unknown filter name "aeraki.meta_protocol.filters.metadata-exchange"`},
	"bad-se-field.json": {"ServiceEntry meta-dubbo/aeraki-org-apache-dubbo-samples-basic-api-demoservice:",
		`invalid value for enum field resolution: "STATICK"`},
	"bad-se-name.json": {"ServiceEntry meta-dubbo/aeraki-org.apache.dubbo.DemoService:",
		"metadata.name: \"aeraki-org.apache.dubbo.DemoService\" is not a valid DNS-1123 subdomain"},
	"bad-missing-context.json": {"EnvoyFilter istio-system/aeraki-outbound-", "match.context is missing"},
	"bad-rds-no-config-source.json": {"EnvoyFilter istio-system/aeraki-outbound-",
		"invalid Rds.ConfigSource: value is required"},
	"bad-filter-config-type.json": {"EnvoyFilter istio-system/aeraki-outbound-",
		`config for "aeraki.meta_protocol.filters.istio_stats" has type "aeraki.meta_protocol_proxy.filters.router.v1alpha.Router"`},
	"bad-unresolvable-any.json": {"EnvoyFilter istio-system/aeraki-outbound-",
		`unable to resolve "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLogger"`},
	"bad-local-ratelimit-config.json": {"EnvoyFilter istio-system/aeraki-inbound-",
		"invalid LocalRateLimit.StatPrefix: value length must be at least 1 runes"},
	"bad-tracing-percent.json": {"EnvoyFilter istio-system/aeraki-outbound-",
		"invalid Percent.Value: value must be inside range [0, 100]"},
	"bad-two-virtual-hosts.json": {"RouteConfiguration thrift-sample-server.meta-thrift.svc.cluster.local_20880:",
		"2 virtual hosts: the data plane expects exactly one"},
	"bad-mirror-no-cluster.json": {"RouteConfiguration org.apache.dubbo.samples.basic.api.demoservice_20880:",
		"invalid RouteAction_RequestMirrorPolicy.Cluster: value length must be at least 1 bytes"},
	"bad-cluster-patch.json": {"EnvoyFilter istio-system/metamesh-xds-cluster:",
		"invalid Cluster.ConnectTimeout: value must be greater than 0s"},
	"bad-fill-interval.json": {"EnvoyFilter istio-system/aeraki-inbound-",
		"conditions[0].tokenBucket.fillInterval 10ms is below the data plane minimum of 50ms"},
	"bad-zero-weights.json": {"RouteConfiguration org.apache.dubbo.samples.basic.api.demoservice_20880:",
		"weightedClusters: weights sum to 0"},
	"bad-not-typed-struct.json": {"EnvoyFilter istio-system/aeraki-gateway-outbound-",
		"MetaProtocolProxy must be wrapped in type.googleapis.com/udpa.type.v1.TypedStruct"},
}

func TestBadDocumentsFail(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(badCases) {
		t.Errorf("%d bad fixtures on disk, %d in the table", len(files), len(badCases))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := badCases[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation in badCases", name)
			}
			res := CheckDocument(load(t, name))
			var out bytes.Buffer
			if code := Report(&out, res, false); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if len(res.Failures) != 1 {
				t.Errorf("got %d failures, want exactly 1:\n%s", len(res.Failures), out.String())
			}
			found := false
			for _, f := range res.Failures {
				line := f.String()
				if strings.HasPrefix(line, want.object) && strings.Contains(line, want.substr) {
					found = true
				}
			}
			if !found {
				t.Errorf("no failure for %q containing %q; report:\n%s", want.object, want.substr, out.String())
			}
			if !strings.HasPrefix(out.String(), "conformance: 8 objects checked, 1 failures\n") {
				t.Errorf("summary line: %q", strings.SplitN(out.String(), "\n", 2)[0])
			}
		})
	}
}

// The RDS conversion must carry exactly what the data plane reads.
func TestHTTPToMetaProtocolConversion(t *testing.T) {
	const in = `{
	  "name": "svc_20880",
	  "virtualHosts": [{"name": "dummy", "domains": ["*"], "routes": [{
	    "name": "r",
	    "match": {"prefix": "/", "headers": [{"name": "method", "exactMatch": "sayHello"}]},
	    "route": {
	      "weightedClusters": {"clusters": [{"name": "a", "weight": 30, "metadataMatch": {}}, {"name": "b", "weight": 70}], "totalWeight": 100},
	      "hashPolicy": [{"header": {"headerName": "method"}}],
	      "requestMirrorPolicies": [{"cluster": "m", "runtimeFraction": {"defaultValue": {"numerator": 10, "denominator": "TEN_THOUSAND"}, "runtimeKey": "k"}}],
	      "timeout": "3s"
	    },
	    "requestHeadersToAdd": [{"header": {"key": "foo", "value": "bar"}}],
	    "responseHeadersToAdd": [{"header": {"key": "baz", "value": "qux"}}]
	  }]}]
	}`
	rc := &routev3.RouteConfiguration{}
	if err := protojson.Unmarshal([]byte(in), rc); err != nil {
		t.Fatal(err)
	}
	mrc, problems, dropped := mpconvert.HTTPToMetaProtocolRoute(rc)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if err := mrc.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	got, err := protojson.MarshalOptions{}.Marshal(mrc)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"name":"svc_20880","routes":[{"name":"r","match":{"metadata":[{"name":"method","exactMatch":"sayHello"}]},` +
		`"route":{"weightedClusters":{"clusters":[{"name":"a","weight":30},{"name":"b","weight":70}]},"hashPolicy":["method"],` +
		`"requestMirrorPolicies":[{"cluster":"m","runtimeFraction":{"defaultValue":{"numerator":10,"denominator":"TEN_THOUSAND"}}}]},` +
		`"requestMutation":[{"key":"foo","value":"bar"}],"responseMutation":[{"key":"baz","value":"qux"}]}]}`
	if norm(string(got)) != want {
		t.Errorf("converted:\n got %s\nwant %s", norm(string(got)), want)
	}
	wantDropped := []string{
		"virtualHosts[0].routes[0].route.timeout",
		"virtualHosts[0].routes[0].route.weightedClusters.clusters[0].metadataMatch",
		"virtualHosts[0].routes[0].route.requestMirrorPolicies[0].runtimeFraction.runtimeKey",
	}
	for _, w := range wantDropped {
		if !contains(dropped, w) {
			t.Errorf("dropped fields %v lack %q", dropped, w)
		}
	}
}

func norm(s string) string { return strings.ReplaceAll(s, " ", "") }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Codec config Anys resolve through the run-time described codec messages.
func TestCodecTypesResolve(t *testing.T) {
	for name, full := range codecConfigTypes {
		if _, err := (resolver{}).FindMessageByURL(typeURLPrefix + string(full)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
