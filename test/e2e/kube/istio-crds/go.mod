// Scratch module that pins Istio's API module, whose kubernetes/customresourcedefinitions.gen.yaml
// holds the CRDs the e2e tests install (test/e2e/support/kube-build.ts reads it from the Go
// module cache with `go mod download -json`). Nothing is built here.
module metamesh.test/istio-crds

go 1.26

require istio.io/api v1.31.1
