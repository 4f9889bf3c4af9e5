# v1.0 is deployed; on main since: a new image tag (not picked), then the fix (a
# memory limit). The fix alone goes onto release/v1 as v1.1.
git init -q
git config user.name "Rel Engineer"
git config user.email rel@example.com
git add -A
git commit -q -m "config v1.0"
git tag v1.0
sed 's/tag: "1.0.0"/tag: "1.2.0"/' repo/web/v1/values.yaml > v && mv v repo/web/v1/values.yaml
git commit -q -am "web 1.2.0"
sed 's/memory: 128Mi/memory: 256Mi/' repo/web/v1/values.yaml > v && mv v repo/web/v1/values.yaml
git commit -q -am "fix: web memory limit"
