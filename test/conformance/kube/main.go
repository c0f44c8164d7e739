// Command kubecheck checks a stream of Kubernetes manifests (the output of `helm template` of
// deploy/helm/metamesh) with the code a kube-apiserver runs on create, from k8s.io/kubernetes:
//
//   - strict decoding into the official versioned types (an unknown or duplicated field, or a
//     value of the wrong type, is an error, as with `kubectl apply --validate=strict`);
//   - the scheme's defaulting and the conversion to the internal types;
//   - the registry validation of each kind (ValidateDeployment, ValidateServiceCreate,
//     ValidatePodDisruptionBudget, ValidateClusterRole, ValidateValidatingWebhookConfiguration, …
//     with ValidateObjectMeta);
//   - for workloads, the "restricted" Pod Security Standard (k8s.io/pod-security-admission,
//     latest version), which a namespace labelled pod-security.kubernetes.io/enforce=restricted
//     enforces.
//
// CustomResourceDefinitions are only decoded strictly here; test/conformance/crd validates them.
// cert-manager Certificates are listed but not checked (no Kubernetes type to decode them into).
//
// Usage: kubecheck -f manifests.yaml   (prints one line per finding and a summary; exit 1 on any)
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	podutil "k8s.io/kubernetes/pkg/api/pod"
	"k8s.io/kubernetes/pkg/apis/admissionregistration"
	_ "k8s.io/kubernetes/pkg/apis/admissionregistration/install"
	admissionvalidation "k8s.io/kubernetes/pkg/apis/admissionregistration/validation"
	"k8s.io/kubernetes/pkg/apis/apps"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	appsvalidation "k8s.io/kubernetes/pkg/apis/apps/validation"
	"k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	corevalidation "k8s.io/kubernetes/pkg/apis/core/validation"
	"k8s.io/kubernetes/pkg/apis/policy"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	policyvalidation "k8s.io/kubernetes/pkg/apis/policy/validation"
	"k8s.io/kubernetes/pkg/apis/rbac"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
	rbacvalidation "k8s.io/kubernetes/pkg/apis/rbac/validation"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	sigsyaml "sigs.k8s.io/yaml"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func main() {
	file := flag.String("f", "", "YAML stream of manifests to check")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "usage: kubecheck -f manifests.yaml")
		os.Exit(2)
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	checked, failures := run(data, os.Stdout)
	fmt.Printf("kubecheck: %d objects checked, %d failures\n", checked, failures)
	if failures > 0 {
		os.Exit(1)
	}
}

func newScheme() *runtime.Scheme {
	// legacyscheme holds every built-in kind the install packages registered (versioned and
	// internal types, defaults, conversions); CRDs are added for strict decoding only.
	s := legacyscheme.Scheme
	if !s.IsGroupRegistered(apiextensionsv1.GroupName) {
		if err := apiextensionsv1.AddToScheme(s); err != nil {
			panic(err)
		}
	}
	return s
}

// run checks every document of the stream and reports each finding; it returns how many objects
// it checked and how many failed.
func run(data []byte, out io.Writer) (checked, failures int) {
	scheme := newScheme()
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	evaluator, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(out, "FAIL stream: %v\n", err)
			failures++
			break
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		checked++
		ref, problems := check(doc, scheme, strict, evaluator)
		if len(problems) == 0 {
			fmt.Fprintf(out, "ok   %s\n", ref)
			continue
		}
		failures++
		for _, p := range problems {
			fmt.Fprintf(out, "FAIL %s: %s\n", ref, p)
		}
	}
	return checked, failures
}

const certManagerGroup = "cert-manager.io"

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

func check(doc []byte, scheme *runtime.Scheme, strict runtime.Decoder, evaluator psapolicy.Evaluator) (string, []string) {
	// cert-manager's Certificate (webhook.certificate.certManager) is another project's custom
	// resource: no Kubernetes type to decode it into. Its schema is cert-manager's CRD's business.
	var head metav1.PartialObjectMetadata
	if sigsyaml.Unmarshal(doc, &head) == nil && strings.HasPrefix(head.APIVersion, certManagerGroup+"/") {
		return fmt.Sprintf("%s %s/%s (not checked: cert-manager's kind)", head.Kind, head.Namespace, head.Name), nil
	}
	obj, gvk, err := strict.Decode(doc, nil, nil)
	if err != nil {
		// Name the object from a lenient read, so the finding says which one it is.
		var head metav1.PartialObjectMetadata
		_ = sigsyaml.Unmarshal(doc, &head)
		return fmt.Sprintf("%s %s/%s", head.Kind, head.Namespace, head.Name), []string{"decode: " + err.Error()}
	}
	accessor, _ := obj.(metav1.Object)
	ref := gvk.Kind
	if accessor != nil {
		ref = fmt.Sprintf("%s %s/%s", gvk.Kind, accessor.GetNamespace(), accessor.GetName())
	}
	if gvk.Group == apiextensionsv1.GroupName {
		return ref, nil
	}
	var problems []string
	if d, ok := obj.(*appsv1.Deployment); ok {
		problems = append(problems, podSecurity(evaluator, &d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec)...)
	}
	scheme.Default(obj)
	internal, err := scheme.ConvertToVersion(obj, schema.GroupVersion{Group: gvk.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		return ref, append(problems, "convert: "+err.Error())
	}
	errs, known := validate(internal)
	if !known {
		return ref, append(problems, fmt.Sprintf("kubecheck does not know how to validate %s", gvk))
	}
	for _, e := range errs {
		problems = append(problems, e.Error())
	}
	return ref, problems
}

// validate runs what the apiserver's registry strategy runs on create for the kind.
func validate(obj runtime.Object) (field.ErrorList, bool) {
	switch o := obj.(type) {
	case *apps.Deployment:
		return appsvalidation.ValidateDeployment(o, podutil.GetValidationOptionsFromPodTemplate(&o.Spec.Template, nil)), true
	case *core.Service:
		return corevalidation.ValidateServiceCreate(o), true
	case *core.ServiceAccount:
		return corevalidation.ValidateServiceAccount(o), true
	case *core.ConfigMap:
		return corevalidation.ValidateConfigMap(o), true
	case *core.Secret:
		return corevalidation.ValidateSecret(o), true
	case *policy.PodDisruptionBudget:
		return append(objectMeta(&o.ObjectMeta, true), policyvalidation.ValidatePodDisruptionBudget(o, policyvalidation.PodDisruptionBudgetValidationOptions{})...), true
	case *rbac.ClusterRole:
		return rbacvalidation.ValidateClusterRole(o, rbacvalidation.ClusterRoleValidationOptions{}), true
	case *rbac.ClusterRoleBinding:
		return rbacvalidation.ValidateClusterRoleBinding(o), true
	case *rbac.Role:
		return rbacvalidation.ValidateRole(o), true
	case *rbac.RoleBinding:
		return rbacvalidation.ValidateRoleBinding(o), true
	case *admissionregistration.ValidatingWebhookConfiguration:
		return admissionvalidation.ValidateValidatingWebhookConfiguration(o), true
	}
	return nil, false
}

// objectMeta is what the generic registry checks for kinds whose strategy leaves it out.
func objectMeta(meta *metav1.ObjectMeta, namespaced bool) field.ErrorList {
	return corevalidation.ValidateObjectMeta(meta, namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
}

// podSecurity evaluates a pod template against the latest "restricted" Pod Security Standard.
func podSecurity(evaluator psapolicy.Evaluator, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []string {
	var problems []string
	for _, r := range evaluator.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, meta, spec) {
		if !r.Allowed {
			problems = append(problems, fmt.Sprintf("pod security (restricted): %s: %s", r.ForbiddenReason, r.ForbiddenDetail))
		}
	}
	return problems
}
