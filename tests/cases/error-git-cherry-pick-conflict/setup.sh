# The fix on main touches the line release/v1 changed on its own: a conflict.
git init -q
git config user.name "Rel Engineer"
git config user.email rel@example.com
git add -A
git commit -q -m "config v1.0"
git tag v1.0
git branch release/v1
sed 's/memory: 128Mi/memory: 256Mi/' repo/web/v1/values.yaml > v && mv v repo/web/v1/values.yaml
git commit -q -am "fix: web memory limit"
git checkout -q release/v1
sed 's/memory: 128Mi/memory: 192Mi/' repo/web/v1/values.yaml > v && mv v repo/web/v1/values.yaml
git commit -q -am "release/v1: its own memory limit"
git checkout -q main
