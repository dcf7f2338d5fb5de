# Writes the two sample job kubeconfigs of testdata/kubeconfig/gitlab/
# with Ruby's YAML, building the same hashes as GitLab's
# Gitlab::Kubernetes::Kubeconfig::Template (gitlabhq/gitlabhq
# lib/gitlab/kubernetes/kubeconfig/template.rb and entry/{cluster,user,context}.rb)
# filled in the order of Ci::GenerateKubeconfigService
# (app/services/ci/generate_kubeconfig_service.rb):
#
#   ruby testdata/kubeconfig/gitlab/job-kubeconfig.rb two-agents > testdata/kubeconfig/gitlab/two-agents.yaml
#   ruby testdata/kubeconfig/gitlab/job-kubeconfig.rb gitlab-deploy > testdata/kubeconfig/gitlab/two-agents-gitlab-deploy.yaml
require 'yaml'
require 'base64'

def cluster(name, url, ca_pem = nil)
  { name: name, cluster: { server: url, 'certificate-authority-data': ca_pem && Base64.strict_encode64(ca_pem) }.compact }
end

def user(name, token)
  { name: name, user: { token: token } }
end

def context(name, cluster, user, namespace = nil)
  { name: name, context: { cluster: cluster, namespace: namespace, user: user }.compact }
end

def deep_stringify(v)
  case v
  when Hash then v.to_h { |k, x| [k.to_s, deep_stringify(x)] }
  when Array then v.map { |x| deep_stringify(x) }
  else v
  end
end

job_token = 'glcbt-64_yzPwzR2Ldd6sSb_JQzjN'
clusters = [cluster('gitlab', 'https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/')]
users = [user('agent:11', "ci:11:#{job_token}"), user('agent:12', "ci:12:#{job_token}")]
contexts = [context('group/agents:prod', 'gitlab', 'agent:11', 'apps'), context('group/agents:staging', 'gitlab', 'agent:12')]
current = nil
if ARGV[0] == 'gitlab-deploy' # Template#merge_yaml appends the certificate cluster's entries
  clusters << cluster('gitlab-deploy', 'https://35.1.2.3', "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
  users << user('gitlab-deploy', 'eyJhbGciOiJSUzI1NiJ9.x.y')
  contexts << context('gitlab-deploy', 'gitlab-deploy', 'gitlab-deploy', 'my-app-123-production')
  current = 'gitlab-deploy'
end
print YAML.dump(deep_stringify({ apiVersion: 'v1', kind: 'Config', clusters: clusters, users: users, contexts: contexts,
                                 'current-context': current }.compact))
