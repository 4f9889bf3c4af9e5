# prod runs web v1; promote it to v2 (staging runs v2 already).
git init -q
git add -A
git commit -q -m "config"
