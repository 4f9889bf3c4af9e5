# A fix made in web/v2 (the memory limit) is needed in web/v1, which prod runs; v1's own
# image tag stays.
git init -q
git add -A
git commit -q -m "config"
sed 's/memory: 128Mi/memory: 256Mi/' repo/web/v2/values.yaml > v && mv v repo/web/v2/values.yaml
git commit -q -am "fix: web memory limit in v2"
