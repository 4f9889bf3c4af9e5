# The ported file, written in the work tree (not committed).
git status --short
git diff
