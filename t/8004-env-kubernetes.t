#!/bin/sh
test_description='env/kubernetes: the manifests parse and agree; create-pod and delete-pod drive kubectl'
. ./test-lib.sh

K8S=$BUILDFARM_TOP/env/kubernetes
# Debian's python3 has python3-yaml (scripts/install-deps)
PY=python3
test -x /usr/bin/python3 && PY=/usr/bin/python3
test_lazy_prereq PYYAML '"$PY" -c "import yaml"'

test_expect_success PYYAML 'the manifests are YAML whose parts agree' '
	"$PY" - "$K8S"/*.yaml <<-\EOF
	import sys, yaml
	docs = {}
	for f in sys.argv[1:]:
	    for d in yaml.safe_load_all(open(f)):
	        assert d["apiVersion"] and d["kind"], f
	        assert d["metadata"]["name"], f
	        docs[(d["kind"], d["metadata"]["name"])] = d
	dep = docs[("Deployment", "buildlet-linux-amd64")]
	spec = dep["spec"]
	tmpl = spec["template"]
	for k, v in spec["selector"]["matchLabels"].items():
	    assert tmpl["metadata"]["labels"][k] == v, k
	c = tmpl["spec"]["containers"][0]
	a = c["args"]
	assert a[a.index("-reverse-type") + 1] == "linux-amd64"
	assert a[a.index("-keyfile") + 1] == "/etc/buildlet/key"
	vols = {v["name"]: v for v in tmpl["spec"]["volumes"]}
	sec = vols["key"]["secret"]["secretName"]
	assert "key" in docs[("Secret", sec)]["stringData"]
	cm = c["env"][0]["valueFrom"]["configMapKeyRef"]
	assert cm["key"] in docs[("ConfigMap", cm["name"])]["data"]
	assert tmpl["spec"]["securityContext"]["runAsNonRoot"] is True
	pod = docs[("Pod", "NAME")]
	assert pod["spec"]["volumes"][0]["secret"]["secretName"] == \
	    "buildlet-password"
	assert pod["spec"]["containers"][0]["args"][:2] == ["-listen", ":5936"]
	for d in docs.values():
	    if d["kind"] != "Namespace":
	        assert d["metadata"]["namespace"] == "buildfarm", d
	print("ok")
	EOF
'

test_expect_success PYYAML 'the control: a broken manifest does not parse' '
	sed "s/^  replicas: 2$/  replicas: [2/" "$K8S/reverse-buildlets.yaml" \
	    >bad.yaml &&
	test_must_fail "$PY" -c "import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))" bad.yaml 2>err
'

# kubectl: a stand-in for the cluster's client that logs its arguments
# and what it is fed, and answers as a cluster would
test_expect_success 'setup: a kubectl stand-in' '
	write_script kubectl <<-\EOF &&
	echo "$*" >>"$KLOG"
	case "$*" in
	*"get secret buildlet-password"*)
		printf "s3cret pw" | base64 ;;
	*"apply -f -"*)
		cat >>"$KLOG.applied" ;;
	*" wait "*)
		test -z "$KFAIL" || exit 1 ;;
	*"get pod"*)
		echo 10.1.2.3 ;;
	esac
	EOF
	KUBECTL=$TRASH_DIRECTORY/kubectl KLOG=$TRASH_DIRECTORY/klog &&
	BUILDFARM_K8S=$TRASH_DIRECTORY/k8s &&
	export KUBECTL KLOG BUILDFARM_K8S
'

test_expect_success 'create-pod: applies the pod, waits, prints URL and password file' '
	"$K8S/create-pod" k8s-amd64-1 >out &&
	echo "http://10.1.2.3:5936 $TRASH_DIRECTORY/k8s/password" >expect &&
	test_cmp expect out &&
	echo "s3cret pw" >expect && test_cmp expect k8s/password &&
	test_grep "^  name: k8s-amd64-1$" klog.applied &&
	test_grep "^-n buildfarm wait --for=condition=Ready --timeout=120s pod/k8s-amd64-1$" klog
'

test_expect_success 'create-pod: a pod never ready is deleted, exit 111' '
	: >klog &&
	test_expect_code 111 env KFAIL=1 "$K8S/create-pod" k8s-amd64-2 2>err &&
	test_grep "not ready" err &&
	test_grep "^-n buildfarm delete pod k8s-amd64-2 --wait=false$" klog
'

test_expect_success 'delete-pod; bad names; -h' '
	: >klog &&
	"$K8S/delete-pod" k8s-amd64-1 &&
	test_grep "^-n buildfarm delete pod k8s-amd64-1 --ignore-not-found --wait=false$" klog &&
	test_expect_code 100 "$K8S/create-pod" Bad_Name 2>err &&
	test_expect_code 100 "$K8S/delete-pod" x/y 2>err &&
	test_expect_code 100 "$K8S/create-pod" 2>err &&
	"$K8S/create-pod" -h >out && test_grep "^usage: create-pod name$" out &&
	"$K8S/delete-pod" -h >out && test_grep "^usage: delete-pod name$" out
'

test_done
