package main

// Kubernetes object-metadata syntax rules (written from the Kubernetes API
// conventions: DNS-1123 subdomain/label, qualified label keys, label values).

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var (
	dns1123LabelRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubdomainRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	qualifiedNameRe    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	labelValueRe       = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
)

func checkDNS1123Label(s string) error {
	if len(s) == 0 {
		return fmt.Errorf("must be non-empty")
	}
	if len(s) > 63 {
		return fmt.Errorf("%q is not a valid DNS-1123 label: longer than 63 characters", s)
	}
	if !dns1123LabelRe.MatchString(s) {
		return fmt.Errorf("%q is not a valid DNS-1123 label (lower-case alphanumerics and '-', alphanumeric at both ends)", s)
	}
	return nil
}

func checkDNS1123Subdomain(s string) error {
	if len(s) == 0 {
		return fmt.Errorf("must be non-empty")
	}
	if len(s) > 253 {
		return fmt.Errorf("%q is not a valid DNS-1123 subdomain: longer than 253 characters", s)
	}
	if !dns1123SubdomainRe.MatchString(s) {
		return fmt.Errorf("%q is not a valid DNS-1123 subdomain (lower-case alphanumerics, '-' and '.')", s)
	}
	return nil
}

// checkLabelKey validates a Kubernetes label/annotation key ([prefix/]name).
func checkLabelKey(k string) error {
	name := k
	if i := strings.LastIndex(k, "/"); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if err := checkDNS1123Subdomain(prefix); err != nil {
			return fmt.Errorf("key %q: prefix %v", k, err)
		}
	}
	if len(name) == 0 || len(name) > 63 || !qualifiedNameRe.MatchString(name) {
		return fmt.Errorf("key %q is not a valid qualified name", k)
	}
	return nil
}

func checkLabelValue(v string) error {
	if len(v) > 63 || !labelValueRe.MatchString(v) {
		return fmt.Errorf("value %q is not a valid label value", v)
	}
	return nil
}

// checkLabels returns one problem per invalid entry, in key order.
func checkLabels(what string, labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		if err := checkLabelKey(k); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", what, err))
		}
		if err := checkLabelValue(labels[k]); err != nil {
			out = append(out, fmt.Sprintf("%s[%s]: %v", what, k, err))
		}
	}
	return out
}
