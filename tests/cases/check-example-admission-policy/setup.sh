# A copy of example-repo/ whose frontend in eastus runs one replica: the repository's
# admission policy (platform/v1/admission-policy.yaml) refuses it.
cp -a "$CASE/../../../example-repo" repo
sed 's/^replicas: 3$/replicas: 1/' repo/frontend/eastus/parameters.yaml > p && mv p repo/frontend/eastus/parameters.yaml
