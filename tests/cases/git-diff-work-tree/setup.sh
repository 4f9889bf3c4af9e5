# One commit, then an uncommitted change: the work tree side says so.
git init -q
git add -A
git commit -q -m "config v1"
printf 'replicas: 5\n' > repo/web/prod/parameters.yaml
