package main

// The manifest-stream mode (-manifests): the output of `metamesh generate -o manifests`, read
// the way `kubectl apply -f -` reads it. The stream is split into documents on `---` lines (as
// kubectl's YAML reader does), each document converted to JSON with strict YAML rules (YAML 1.1
// scalars, duplicate keys rejected; sigs.k8s.io/yaml, the library kubectl uses), and then:
//
//   - only apiVersion, kind, metadata and spec may appear at the top (exact, case-sensitive
//     names); metadata may hold only name, namespace, labels and annotations;
//   - the kind must be one metamesh applies (ServiceEntry, EnvoyFilter, VirtualService); any
//     other kind fails;
//   - each object then gets the same checks as in the JSON document mode: apiVersion, DNS-1123
//     name, a namespace (kubectl would otherwise apply it to the current context's namespace),
//     label and annotation syntax, and the spec parsed strictly into the official Istio type;
//   - the same kind/namespace/name twice fails (one would silently overwrite the other).
//
// Route tables are not in the stream (they are served over xDS), so an EnvoyFilter's
// rds.routeConfigName is not cross-checked here; the JSON document mode checks it.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

var (
	manifestTopKeys      = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true}
	manifestMetadataKeys = map[string]bool{"name": true, "namespace": true, "labels": true, "annotations": true}
)

// CheckManifests runs every check on a multi-document YAML manifest stream.
func CheckManifests(data []byte) *Result {
	res := &Result{}
	c := &checker{
		res:           res,
		manifests:     true,
		routeNames:    map[string]bool{},
		referenced:    map[string]bool{},
		patchClusters: map[string]bool{},
		rdsClusters:   map[string]string{},
	}
	seen := map[string]bool{}
	for i, doc := range splitYAMLDocuments(data) {
		where := fmt.Sprintf("document %d", i+1)
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			c.fail("Manifest", "", where, "not valid YAML: %s", strings.Join(strings.Fields(err.Error()), " "))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue // an empty document (only comments or whitespace): kubectl skips it too
		}
		kind, ok := c.checkEnvelope(where, js)
		if !ok {
			continue
		}
		var id struct {
			Metadata struct{ Name, Namespace string } `json:"metadata"`
		}
		_ = json.Unmarshal(js, &id)
		key := kind + " " + id.Metadata.Namespace + "/" + id.Metadata.Name
		if seen[key] {
			c.fail(kind, id.Metadata.Namespace, id.Metadata.Name, "appears more than once in the stream")
		}
		seen[key] = true
		res.Checked++
		switch kind {
		case "ServiceEntry":
			c.checkServiceEntry(i, js)
		case "EnvoyFilter":
			c.checkEnvoyFilter(i, js)
		case "VirtualService":
			c.checkVirtualService(i, js)
		}
	}
	c.finish()
	return res
}

// checkEnvelope enforces the exact top-level and metadata keys and the kinds a manifest may have.
func (c *checker) checkEnvelope(where string, js []byte) (string, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		c.fail("Manifest", "", where, "not a mapping: %v", err)
		return "", false
	}
	var kind string
	if err := json.Unmarshal(top["kind"], &kind); err != nil || kind == "" {
		c.fail("Manifest", "", where, "kind is missing or not a string")
		return "", false
	}
	ok := true
	for _, k := range sortedKeys(top) {
		if !manifestTopKeys[k] {
			c.fail(kind, "", where, "unknown field %q", k)
			ok = false
		}
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(top["metadata"], &meta); err != nil || meta == nil {
		c.fail(kind, "", where, "metadata is missing or not a mapping")
		return "", false
	}
	for _, k := range sortedKeys(meta) {
		if !manifestMetadataKeys[k] {
			c.fail(kind, "", where, "unknown field \"metadata.%s\"", k)
			ok = false
		}
	}
	switch kind {
	case "ServiceEntry", "EnvoyFilter", "VirtualService":
	default:
		c.fail(kind, "", where, "kind %q is not one metamesh applies (ServiceEntry, EnvoyFilter, VirtualService)", kind)
		ok = false
	}
	return kind, ok
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// splitYAMLDocuments splits a stream on document separators the way kubectl's YAML reader does:
// a line starting with "---" followed by nothing but whitespace or a comment.
func splitYAMLDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "---"); ok {
			if t := strings.TrimSpace(rest); t == "" || strings.HasPrefix(t, "#") {
				if cur.Len() > 0 {
					docs = append(docs, bytes.Clone(cur.Bytes()))
					cur.Reset()
				}
				continue
			}
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	if cur.Len() > 0 {
		docs = append(docs, cur.Bytes())
	}
	return docs
}
