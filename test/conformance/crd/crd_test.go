// Package crd checks metamesh's CustomResourceDefinitions (../../../crds) and
// the example objects under crds/examples with the validation code of the
// Kubernetes apiextensions-apiserver, i.e. the code a kube-apiserver runs when
// a CRD is created and when a custom resource is created:
//
//   - CRDs: v1 defaulting, conversion to the internal apiextensions types,
//     the CRD registry strategy (PrepareForCreate, warnings) and
//     validation.ValidateCustomResourceDefinition (structural schema rules,
//     CEL compilation and static cost estimation).
//   - Custom resources: pruning with unknown-field detection (as with
//     kubectl's default --validate=strict), metadata validation, OpenAPI
//     schema validation, embedded-resource and list-type validation, then the
//     x-kubernetes-validations CEL rules with the runtime cost budget.
//
// Run: cd test/conformance/crd && go test ./...   (add -v for a summary)
package crd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

const expectPrefix = "# expect:"

// crdDir is the repository's crds/ directory. It is read through the
// testdata/crds symlink when possible: `go test` caches results and only
// re-checks input files that lie (lexically) inside this module, so reading
// ../../../crds directly would let a cached "ok" hide a broken CRD or example.
var crdDir = func() string {
	const viaModule, direct = "testdata/crds", "../../../crds"
	if fi, err := os.Stat(viaModule); err == nil && fi.IsDir() {
		return viaModule
	}
	return direct
}()

var (
	validDir   = crdDir + "/examples/valid"
	invalidDir = crdDir + "/examples/invalid"
)

// servedVersion holds everything needed to validate objects of one version.
type servedVersion struct {
	structural      *structuralschema.Structural
	schemaValidator apiservervalidation.SchemaValidator
	celValidator    *cel.Validator
}

// loadedCRD is one CustomResourceDefinition accepted by the validation code.
type loadedCRD struct {
	file       string
	name       string
	group      string
	kind       string
	namespaced bool
	versions   map[string]*servedVersion
}

// summary is printed by TestMain so that `go test -v` shows what was covered.
var summary struct {
	crds, valid, invalid int
}

func TestMain(m *testing.M) {
	code := m.Run()
	if summary.crds > 0 {
		fmt.Printf("checked %d CRDs, %d valid examples, %d invalid examples\n",
			summary.crds, summary.valid, summary.invalid)
	}
	os.Exit(code)
}

// yamlFiles lists *.yaml / *.yml files directly in dir, sorted.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if ext := filepath.Ext(e.Name()); ext == ".yaml" || ext == ".yml" {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no YAML files in %s", dir)
	}
	return out
}

// strictJSON converts a single YAML document to JSON, rejecting duplicate keys.
func strictJSON(data []byte) ([]byte, error) {
	if docs := bytes.Count(append([]byte("\n"), data...), []byte("\n---")); docs > 1 {
		return nil, fmt.Errorf("expected one YAML document per file")
	}
	return yaml.YAMLToJSONStrict(data)
}

// loadCRD reproduces what the apiserver does on `kubectl create -f <crd>`.
func loadCRD(path string) (*loadedCRD, field.ErrorList, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	js, err := strictJSON(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("YAML: %w", err)
	}
	v1crd := &apiextensionsv1.CustomResourceDefinition{}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v1crd); err != nil {
		return nil, nil, nil, fmt.Errorf("decoding CustomResourceDefinition: %w", err)
	}
	if v1crd.APIVersion != "apiextensions.k8s.io/v1" || v1crd.Kind != "CustomResourceDefinition" {
		return nil, nil, nil, fmt.Errorf("not an apiextensions.k8s.io/v1 CustomResourceDefinition: %s %s", v1crd.APIVersion, v1crd.Kind)
	}

	// Defaulting and conversion to the internal version, as the apiserver's codec does.
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(v1crd)
	crd := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(v1crd, crd, nil); err != nil {
		return nil, nil, nil, fmt.Errorf("converting to internal: %w", err)
	}

	// The CRD registry strategy: create preparation, validation, warnings.
	ctx := context.Background()
	strategy := customresourcedefinition.NewStrategy(runtime.NewScheme())
	strategy.PrepareForCreate(ctx, crd)
	errs := crdvalidation.ValidateCustomResourceDefinition(ctx, crd)
	warnings := strategy.WarningsOnCreate(ctx, crd)
	if len(errs) > 0 {
		return nil, errs, warnings, nil
	}

	lc := &loadedCRD{
		file:       path,
		name:       crd.Name,
		group:      crd.Spec.Group,
		kind:       crd.Spec.Names.Kind,
		namespaced: crd.Spec.Scope == apiextensions.NamespaceScoped,
		versions:   map[string]*servedVersion{},
	}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		val, err := apiextensions.GetSchemaForVersion(crd, v.Name)
		if err != nil || val == nil || val.OpenAPIV3Schema == nil {
			return nil, nil, warnings, fmt.Errorf("version %s: no schema (%v)", v.Name, err)
		}
		s, err := structuralschema.NewStructural(val.OpenAPIV3Schema)
		if err != nil {
			return nil, nil, warnings, fmt.Errorf("version %s: structural schema: %w", v.Name, err)
		}
		sv, _, err := apiservervalidation.NewSchemaValidator(val.OpenAPIV3Schema)
		if err != nil {
			return nil, nil, warnings, fmt.Errorf("version %s: schema validator: %w", v.Name, err)
		}
		lc.versions[v.Name] = &servedVersion{
			structural:      s,
			schemaValidator: sv,
			celValidator:    cel.NewValidator(s, true, celconfig.PerCallLimit),
		}
	}
	return lc, nil, warnings, nil
}

// loadAllCRDs loads every CRD under crdDir and fails the test on any error.
func loadAllCRDs(t *testing.T) map[string]*loadedCRD {
	t.Helper()
	byGroupKind := map[string]*loadedCRD{}
	for _, f := range yamlFiles(t, crdDir) {
		lc, errs, warnings, err := loadCRD(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, w := range warnings {
			t.Errorf("%s: apiserver warning: %s", f, w)
		}
		if len(errs) > 0 {
			t.Fatalf("%s: CustomResourceDefinition rejected:\n%s", f, formatErrs(errs))
		}
		key := lc.group + "/" + lc.kind
		if prev, dup := byGroupKind[key]; dup {
			t.Fatalf("%s and %s both define %s", prev.file, f, key)
		}
		byGroupKind[key] = lc
	}
	return byGroupKind
}

func formatErrs(errs field.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("  - ")
		b.WriteString(e.Error())
		b.WriteString("\n")
	}
	return b.String()
}

// blocking reports whether the apiserver would skip the CEL rules because the
// object already failed validation in a way CEL cannot cope with.
func blocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
			field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// validateObject runs the apiserver's create-time validation of a custom
// resource. It returns the field errors; errText is the message the
// apiserver would send back (empty if the object is accepted).
func validateObject(crds map[string]*loadedCRD, path string) (errs field.ErrorList, errText string, lc *loadedCRD, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", nil, err
	}
	js, err := strictJSON(data)
	if err != nil {
		return nil, "", nil, fmt.Errorf("YAML: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, "", nil, fmt.Errorf("decoding object: %w", err)
	}
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	if err != nil {
		return nil, "", nil, err
	}
	lc = crds[gv.Group+"/"+u.GetKind()]
	if lc == nil {
		return nil, "", nil, fmt.Errorf("no CRD for %s %s", u.GetAPIVersion(), u.GetKind())
	}
	sv := lc.versions[gv.Version]
	if sv == nil {
		return nil, "", lc, fmt.Errorf("%s: version %s is not served", lc.name, gv.Version)
	}
	if lc.namespaced && u.GetNamespace() == "" {
		u.SetNamespace("default") // kubectl/apiserver use the request namespace
	}
	obj := u.UnstructuredContent()

	// Decoding: prune unknown fields; strict field validation turns them into errors.
	unknown := structuralpruning.PruneWithOptions(obj, sv.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var parts []string
		for _, p := range unknown {
			parts = append(parts, fmt.Sprintf("unknown field %q", p))
		}
		return nil, "strict decoding error: " + strings.Join(parts, ", "), lc, nil
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, sv.structural)
	structuraldefaulting.Default(obj, sv.structural)

	ctx := context.Background()
	var om metav1.ObjectMeta
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj["metadata"].(map[string]interface{}), &om); err != nil {
		return nil, "", lc, fmt.Errorf("metadata: %w", err)
	}
	errs = append(errs, metavalidation.ValidateObjectMeta(&om, lc.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, sv.schemaValidator)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj, sv.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, sv.structural, obj)...)
	if blocking(errs) {
		errs = append(errs, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"))
	} else {
		celErrs, _ := sv.celValidator.Validate(ctx, nil, sv.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	if len(errs) == 0 {
		return nil, "", lc, nil
	}
	gk := schema.GroupKind{Group: lc.group, Kind: lc.kind}
	return errs, apierrors.NewInvalid(gk, u.GetName(), errs).Error(), lc, nil
}

// expectation returns the substring announced by the first line of an invalid example.
func expectation(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return "", fmt.Errorf("empty file")
	}
	line := strings.TrimSpace(sc.Text())
	if !strings.HasPrefix(line, expectPrefix) {
		return "", fmt.Errorf("first line must be %q followed by a substring of the expected error", expectPrefix)
	}
	exp := strings.TrimSpace(strings.TrimPrefix(line, expectPrefix))
	if exp == "" {
		return "", fmt.Errorf("empty expectation")
	}
	return exp, nil
}

func TestCRDsAreAccepted(t *testing.T) {
	crds := loadAllCRDs(t)
	if len(crds) < 2 {
		t.Fatalf("expected at least 2 CRDs in %s, found %d", crdDir, len(crds))
	}
	summary.crds = len(crds)
}

func TestValidExamplesAreAccepted(t *testing.T) {
	crds := loadAllCRDs(t)
	perKind := map[string]int{}
	for _, f := range yamlFiles(t, validDir) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, text, lc, err := validateObject(crds, f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if text != "" {
				t.Fatalf("%s: valid example rejected: %s", f, text)
			}
			perKind[lc.kind]++
			summary.valid++
		})
	}
	for _, lc := range crds {
		if perKind[lc.kind] == 0 {
			t.Errorf("no valid example for %s", lc.kind)
		}
	}
}

func TestInvalidExamplesAreRejected(t *testing.T) {
	crds := loadAllCRDs(t)
	perKind := map[string]int{}
	for _, f := range yamlFiles(t, invalidDir) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			exp, err := expectation(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			errs, text, lc, err := validateObject(crds, f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if text == "" {
				t.Fatalf("%s: invalid example accepted (expected error containing %q)", f, exp)
			}
			if !strings.Contains(text, exp) {
				t.Fatalf("%s: error does not contain %q:\n%s", f, exp, text)
			}
			// Each invalid example must break exactly one rule.
			var real field.ErrorList
			for _, e := range errs {
				if e.Field != "<nil>" && e.Field != "" {
					real = append(real, e)
				}
			}
			if len(errs) > 0 && len(real) != 1 {
				t.Fatalf("%s: expected exactly one violation, got %d:\n%s", f, len(real), formatErrs(errs))
			}
			t.Logf("rejected as expected: %s", text)
			perKind[lc.kind]++
			summary.invalid++
		})
	}
	for _, lc := range crds {
		if perKind[lc.kind] == 0 {
			t.Errorf("no invalid example for %s", lc.kind)
		}
	}
}
