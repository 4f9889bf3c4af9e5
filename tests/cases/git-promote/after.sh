# Only the link moved.
git status --short
readlink repo/web/prod/templates
