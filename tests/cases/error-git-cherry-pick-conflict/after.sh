# Nothing moved.
git log --format='%h %s' release/v1
git tag --list
