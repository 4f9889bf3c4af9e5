# The ported file, written in the work tree (not committed; blob ids left out).
git status --short
git diff | sed '/^index /d'
