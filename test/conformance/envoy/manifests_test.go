package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// manifests-good.yaml is `metamesh generate -f examples/ -o manifests`: 1 ServiceEntry, 9
// EnvoyFilters, 1 VirtualService. (Its warnings are about the custom videopacket codec.)
func TestGoodManifestsPass(t *testing.T) {
	res := CheckManifests(load(t, "manifests-good.yaml"))
	if res.Checked != 11 {
		t.Errorf("checked %d objects, want 11", res.Checked)
	}
	for _, f := range res.Failures {
		t.Errorf("unexpected failure: %s", f)
	}
	var out bytes.Buffer
	if code := Report(&out, res, false); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// Each manifests-bad-*.yaml is manifests-good.yaml broken in exactly one way; it must fail with
// exactly one failure, naming the object (or document) and containing the given substring.
var badManifestCases = map[string]struct{ object, substr string }{
	"manifests-bad-unknown-kind.yaml":   {"Sidecar document 11", `kind "Sidecar" is not one metamesh applies`},
	"manifests-bad-no-namespace.yaml":   {"EnvoyFilter metamesh-inbound-video-server.video.svc.cluster.local-8000", "metadata.namespace: must be non-empty"},
	"manifests-bad-duplicate-key.yaml":  {"Manifest document 1", `key "namespace" already set in map`},
	"manifests-bad-top-field.yaml":      {"EnvoyFilter document 7", `unknown field "status"`},
	"manifests-bad-metadata-field.yaml": {"ServiceEntry document 1", `unknown field "metadata.creationTimestamp"`},
	"manifests-bad-name.yaml":           {"ServiceEntry video/Video-Server", "is not a valid DNS-1123 subdomain"},
	"manifests-bad-label-bool.yaml":     {"EnvoyFilter [7]", "cannot unmarshal bool into Go struct field objectMeta.metadata.labels of type string"},
	"manifests-bad-spec-field.yaml":     {"EnvoyFilter istio-system/metamesh-xds-cluster-istio-system.ingress", `unknown field "prioritty"`},
}

func TestBadManifestsFail(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "manifests-bad-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(badManifestCases) {
		t.Errorf("%d bad manifest fixtures on disk, %d in the table", len(files), len(badManifestCases))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := badManifestCases[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation in badManifestCases", name)
			}
			res := CheckManifests(load(t, name))
			var out bytes.Buffer
			if code := Report(&out, res, false); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if len(res.Failures) != 1 {
				t.Fatalf("got %d failures, want exactly 1:\n%s", len(res.Failures), out.String())
			}
			line := res.Failures[0].String()
			if !strings.HasPrefix(line, want.object+": ") || !strings.Contains(line, want.substr) || strings.Contains(line, "\n") {
				t.Errorf("failure %q: want one line for %q containing %q", line, want.object, want.substr)
			}
		})
	}
}

func TestSplitYAMLDocumentsLikeKubectl(t *testing.T) {
	in := "---\na: 1\n--- # second\nb: '---'\nc: |\n  ---x\n---\n\n---\nd: 2\n"
	got := splitYAMLDocuments([]byte(in))
	want := []string{"a: 1\n", "b: '---'\nc: |\n  ---x\n", "\n", "d: 2\n"}
	if len(got) != len(want) {
		t.Fatalf("got %d documents %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("document %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestEmptyDocumentsAreSkippedAndOtherKindsFail(t *testing.T) {
	res := CheckManifests([]byte("---\n# nothing\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: d}\n"))
	if res.Checked != 0 || len(res.Failures) != 1 || !strings.Contains(res.Failures[0].String(), `kind "ConfigMap" is not one metamesh applies`) {
		t.Errorf("checked %d, failures %v", res.Checked, res.Failures)
	}
}
