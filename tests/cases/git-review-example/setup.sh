# The example (issue 25): a git copy of example-repo/, then one commit that
# reorders the database container's env list, adds a port, changes its image and
# moves frontend/eastus to v2.
cp -a "$CASE/../../../example-repo" repo
git init -q
git add -A
git commit -q -m "example-repo"
cp "$CASE/statefulset.yaml" repo/database/v1/statefulset.yaml
sed -i 's/tag: "16.4-bookworm"/tag: "16.6-bookworm"/' repo/database/v1/values.yaml
ln -sfn ../v2 repo/frontend/eastus/templates
git add -A
git commit -q -m "database: metrics port, env reordered, postgres 16.6; frontend/eastus on v2"
