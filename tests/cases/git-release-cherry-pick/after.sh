# What moved: the new branch and tag; the work tree, index and HEAD did not.
git log --format='%h %s%n%b' release/v1
git tag --list
git rev-parse --abbrev-ref HEAD
git status --short
