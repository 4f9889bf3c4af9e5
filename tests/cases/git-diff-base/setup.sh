# main: v1, then a commit of its own (the api's prod mode); feature: branched from v1,
# scales web in staging. `--base main` shows only the branch's change.
git init -q
git add -A
git commit -q -m "config v1"
git checkout -q -b feature
printf 'replicas: 2\n' > repo/web/staging/parameters.yaml
git commit -q -am "scale web in staging"
git checkout -q main
printf 'mode: quiet\n' > repo/api/prod/parameters.yaml
git add -A
git commit -q -m "api quiet in prod"
git checkout -q feature
