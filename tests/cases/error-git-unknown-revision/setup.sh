git init -q
git add -A
git commit -q -m "config"
git tag v1
