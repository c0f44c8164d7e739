// Command conformance checks the JSON document printed by
// `metamesh generate -o json` against the official Istio, Envoy and
// MetaProtocol Proxy Go API types (strict proto3-JSON parsing plus the
// protoc-gen-validate rules), and re-runs the data plane's RDS conversion.
//
// Usage: go run . -f <file.json>   (use -f - for stdin)
//
//	go run . -manifests -f <stream.yaml>   (the output of `metamesh generate -o manifests`)
//	go run . -descriptors -f <dump.json>  (metamesh's Istio protos vs istio.io/api: descriptors.go)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	file := flag.String("f", "", "generate document to check (JSON; - for stdin)")
	quiet := flag.Bool("q", false, "do not print warnings")
	manifests := flag.Bool("manifests", false, "the input is a multi-document YAML manifest stream (generate -o manifests)")
	descriptors := flag.Bool("descriptors", false, "the input is a dump of metamesh's Istio proto messages, compared with istio.io/api")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "usage: conformance [-manifests] -f <file>")
		os.Exit(2)
	}
	var data []byte
	var err error
	if *file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(*file)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var res *Result
	if *descriptors {
		res = CheckDescriptors(data)
	} else if *manifests {
		res = CheckManifests(data)
	} else {
		res = CheckDocument(data)
	}
	os.Exit(Report(os.Stdout, res, !*quiet))
}

// Report prints the summary and returns the process exit code.
func Report(w io.Writer, res *Result, warnings bool) int {
	fmt.Fprintf(w, "conformance: %d objects checked, %d failures\n", res.Checked, len(res.Failures))
	for _, f := range res.Failures {
		fmt.Fprintln(w, f.String())
	}
	if warnings {
		for _, f := range res.Warnings {
			fmt.Fprintln(w, "warning: "+f.String())
		}
	}
	if len(res.Failures) > 0 {
		return 1
	}
	return 0
}
