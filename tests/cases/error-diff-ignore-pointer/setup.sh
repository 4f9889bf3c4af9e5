# A diff.ignore pointer without its leading `/`: an error at its line of strata.yaml.
cp -a "$CASE/../../../example-repo" repo
git init -q
git add -A
git commit -q -m "example-repo"
cat >> repo/strata.yaml <<'YAML'

diff:
  ignore:
    - kind: Deployment
      jsonPointers:
        - /spec/replicas
        - spec/template/metadata/annotations
YAML
