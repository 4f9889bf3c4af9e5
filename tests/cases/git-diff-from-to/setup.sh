# v1: the repository as committed in repo/. v2: prod moves to web v2, staging scales
# to 2, and the api's staging mode changes.
git init -q
git add -A
git commit -q -m "config v1"
git tag v1
ln -sfn ../v2 repo/web/prod/templates
printf 'replicas: 2\n' > repo/web/staging/parameters.yaml
printf 'mode: debug\n' > repo/api/staging/parameters.yaml
git add -A
git commit -q -m "prod runs web v2; staging scales to 2"
git tag -a -m "release 2" v2
