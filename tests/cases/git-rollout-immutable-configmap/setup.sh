# A git copy of example-repo/. Commit `immutable`: frontend v1 (eastus, the canary
# wave) makes its ConfigMap immutable. Commit `api-url` then changes that ConfigMap's
# data through eastus's parameters: the API server refuses that update.
cp -a "$CASE/../../../example-repo" repo
git init -q
git add -A
git commit -q -m "example repository"
sed -i 's/^data:/immutable: true\ndata:/' repo/frontend/v1/configmap.yaml
git add -A
git commit -q -m "frontend v1: the nginx ConfigMap is immutable"
git tag immutable
printf 'replicas: 3\napiUrl: http://api-v2.shop.svc.cluster.local\n' > repo/frontend/eastus/parameters.yaml
git add -A
git commit -q -m "eastus: the frontend talks to api-v2"
git tag api-url
