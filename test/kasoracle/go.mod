// The oracle for pkg/access: KAS 16.5's own way of reading an agent
// configuration file (sigs.k8s.io/yaml, protojson, protoc-gen-validate
// rules) at the exact library versions gitlab-agent 8daa08cc builds with.
// A separate module so that the main module keeps its own versions and the
// plugin links none of this.
module gitlab.com/kubectl-gitlab/kubectl-gitlab/test/kasoracle

go 1.26.0

require (
	github.com/envoyproxy/protoc-gen-validate v1.0.2
	gitlab.com/kubectl-gitlab/kubectl-gitlab v0.0.0
	google.golang.org/protobuf v1.31.0
	sigs.k8s.io/yaml v1.6.0
)

require (
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)

replace gitlab.com/kubectl-gitlab/kubectl-gitlab => ../..

// gitlab-agent 8daa08cc builds with sigs.k8s.io/yaml v1.3.0 (and its
// gopkg.in/yaml.v2 v2.4.0); the main module's newer requirement must not
// move it.
replace sigs.k8s.io/yaml => sigs.k8s.io/yaml v1.3.0
