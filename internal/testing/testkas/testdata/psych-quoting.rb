# Writes how Ruby's YAML (Psych) writes each string value, the way GitLab
# dumps a job's kubeconfig (YAML.dump of a Hash). testkas's psychScalar is
# checked against this table
# (internal/testing/testkas/testdata/psych-quoting.tsv).
#
#   ruby internal/testing/testkas/testdata/psych-quoting.rb > internal/testing/testkas/testdata/psych-quoting.tsv
#
# The first line names the versions; each other line: the input as a JSON string, a tab, the value as Psych wrote it.
require 'yaml'
require 'json'

words = %w[
  apps default kube-system my-app-123-production gitlab gitlab-deploy agent:11 agent:1234
  group/agents:prod group/sub/infra:staging other-group/cluster-management:shared
  ci:11:glcbt-64_yzPwzR2Ldd6sSb_JQzjN ci:1234:JOBTOKEN eyJhbGciOiJSUzI1NiJ9.x.y
  https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/ https://kas.gitlab.example/k8s-proxy
  https://35.1.2.3 https://127.0.0.1:6443 LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
  yes Yes YES no No on On off Off true True TRUE false False null Null NULL NuLL y Y n N
  yEs tRue nUll ~ Ok ok t f yesno yes1 nope offset online truely
  0 00 007 0755 08 09 0089 0x1F 0X1F 0b101 0o17 0o777 1 12 123 -1 +1 1_000 1,000 1_ 1__0
  1e3 1E3 1e-3 1e+3 0e0 1e10 12e5 1.5e3 1.5e+3 1. .5 1.0 -1.5 +.5 1._5 1,5 1.2.3 1..2
  12:30 1:2:3 12:30.5 99:99 -12:30 2024-01-01 2024-1-1 2024-13-01 2024-02-30 2024-00-10 20240101
  .inf -.inf +.inf .Inf .nan .NaN :sym :a a: :
  << < > = == ! !tag & &anchor * *star % %x @ @x ` `x | |x ' 'x " "x # #x #hash
  - -x -dash ? ?x , ,x [ [x] ] { {x} } . .x / /x \\ \\x ~x +x
  a#b a,b a[b] a{b} a|b a>b a'b a"b a\\b a%b a@b a`b a!b a&b a*b a?b a-b a.b a/b a:b a;b a=b a~b a^b a$b a(b) a+b
  key: key:: a:: a:b:c CamelCase _under _ __ x
]
specials = [
  '', ' ', 'a b', 'with space', 'trailing ', ' leading', 'a: b', 'a :b', 'a #b', 'a# b', 'a - b',
  '- x', '? x', ': x', '-- x', '--- x', '---', '...', '... x', '--', '..', 'a - ', '"quoted"',
  "'single'", 'it\'s', 'say "hi"', '"', '\'', 'a "b" c', '1 2', 'yes no', 'null x', '~ x',
  '2024-01-01 10:00:00', '2024-01-01T10:00:00Z', '2024-1-1 1:00:00 +01:00', '12:30 x',
  '!important', '&x y', '*x y', '@at x', '%x y', '`x y', '[a, b]', '{a: b}', 'a, b'
]
puts "# written by internal/testing/testkas/testdata/psych-quoting.rb: ruby #{RUBY_VERSION}, psych #{Psych::VERSION}, libyaml #{Psych::LIBYAML_VERSION}"
(words + specials).uniq.each do |s|
  out = YAML.dump({ 'k' => s })
  prefix = "---\nk: "
  raise "unexpected dump #{out.inspect}" unless out.start_with?(prefix) && out.end_with?("\n")
  value = out[prefix.length..-2]
  next if value.include?("\n") # folded or literal: not modelled
  puts "#{JSON.generate(s)}\t#{value}"
end
