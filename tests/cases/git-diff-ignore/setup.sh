# diff.ignore: the after side's strata.yaml hides the database image (which changes in
# every environment) and the frontend's version labels; the diff says how many it hid.
cp -a "$CASE/../../../example-repo" repo
git init -q
git add -A
git commit -q -m "example-repo"
sed -i 's/tag: "16.4-bookworm"/tag: "16.6-bookworm"/' repo/database/v1/values.yaml
cat >> repo/strata.yaml <<'YAML'

diff:
  ignore:
    - kind: StatefulSet
      name: database
      jsonPointers: [/spec/template/spec/containers/0/image]
    - group: apps
      kind: Deployment
      jsonPointers: [/metadata/labels/app.kubernetes.io~1version, /spec/replicas]
YAML
sed -i 's/replicas: 3/replicas: 5/' repo/frontend/eastus/parameters.yaml
git add -A
git commit -q -m "postgres 16.6, hidden"
