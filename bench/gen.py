#!/usr/bin/env python3
"""Generates a synthetic configuration repository for benchmarks, twice:

* OUT/strata     — strata's layout: per component, versions v1–v3 (minijinja
                   templates + values.yaml + a `_helpers.j2` partial) and one target
                   per environment (`templates` link, `parameters.yaml` layered from
                   the component root down, and a `kustomization.yaml` with a
                   strategic-merge and a JSON 6902 patch);
* OUT/kustomize  — the same configuration as plain kustomize: a base per
                   component+version (the version rendered with its defaults), an
                   overlay per component+environment (namespace, labels, images,
                   replicas, a patch holding the parameter differences, and the same
                   two patches), and a bundle per environment listing its overlays.

Both trees yield the same objects (bench/run.py checks a sample). Everything is
a pure function of (size, seed): the same arguments give the same bytes.

With --git, OUT/strata becomes a git repository with three commits, tagged
`bench-base`, `bench-one` (one component's version link bumped in one
environment) and `bench-all` (that component bumped in every environment), for
the `strata diff --from REV` benchmark.

Usage: python3 bench/gen.py --size small|medium|large|extra-large [--seed N] --out DIR [--git] [--no-patches]

extra-large (1,000 components × 100 environments = 100,000 targets) takes
minutes and gigabytes: it is refused under CI=true.
Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

# components × environments
SIZES = {"small": (20, 5), "medium": (50, 20), "large": (200, 50), "extra-large": (1000, 100)}
# Sizes too large to generate in CI (minutes and gigabytes): refused under CI=true.
NOT_IN_CI = {"extra-large"}
VERSIONS = ["v1", "v2", "v3"]

WORDS = [
    "orders", "cart", "checkout", "billing", "invoices", "ledger", "catalog", "pricing",
    "inventory", "search", "recommend", "reviews", "profile", "accounts", "auth", "session",
    "notify", "mailer", "sms", "push", "media", "thumbnails", "upload", "reports",
    "analytics", "events", "audit", "risk", "fraud", "shipping", "tracking", "returns",
    "loyalty", "coupons", "gateway", "geo", "tax", "quotes", "wishlist", "feeds",
]
ROLES = ["api", "worker", "web", "sync", "cron", "indexer", "proxy", "consumer"]
TEAMS = ["payments", "catalog", "identity", "search", "platform", "growth",
         "fulfilment", "messaging", "insights", "risk", "media", "core"]
REGIONS = [
    "eastus", "westus", "centralus", "northeurope", "westeurope", "uksouth", "francecentral",
    "germanywestcentral", "swedencentral", "japaneast", "japanwest", "koreacentral",
    "southeastasia", "eastasia", "australiaeast", "brazilsouth", "canadacentral",
    "southafricanorth", "uaenorth", "centralindia",
]
POOLS = ["general", "compute", "memory", "batch"]

# ---------------------------------------------------------------------------
# A small YAML writer: block style, strings quoted unless plainly safe.

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:@-]*$")
_YAML11 = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _scalar(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _YAML11 and not s.endswith(":"):
        return s
    return json.dumps(s)


def to_yaml(v, ind: int = 0) -> str:
    out: list[str] = []
    _emit(v, ind, out)
    return "".join(out)


def _emit(v, ind: int, out: list[str]) -> None:
    pad = " " * ind
    if isinstance(v, dict):
        if not v:
            out.append(pad + "{}\n")
        for k, x in v.items():
            _emit_entry(pad + _scalar(k) + ":", x, ind, out)
    elif isinstance(v, list):
        if not v:
            out.append(pad + "[]\n")
        for x in v:
            if isinstance(x, dict) and x:
                sub: list[str] = []
                _emit(x, ind + 2, sub)
                first = "".join(sub)
                out.append(pad + "- " + first[ind + 2:])
            else:
                _emit_entry(pad + "-", x, ind, out)
    else:
        out.append(pad + _scalar(v) + "\n")


def _emit_entry(head: str, x, ind: int, out: list[str]) -> None:
    if isinstance(x, dict) and x:
        out.append(head + "\n")
        _emit(x, ind + 2, out)
    elif isinstance(x, list) and x:
        out.append(head + "\n")
        _emit(x, ind + 2, out)
    elif isinstance(x, str) and "\n" in x:
        body = x[:-1] if x.endswith("\n") else x
        out.append(head + (" |\n" if x.endswith("\n") else " |-\n"))
        for line in body.split("\n"):
            out.append((" " * (ind + 2) + line if line else "") + "\n")
    elif isinstance(x, dict):
        out.append(head + " {}\n")
    elif isinstance(x, list):
        out.append(head + " []\n")
    else:
        out.append(head + " " + _scalar(x) + "\n")


# ---------------------------------------------------------------------------
# Helm's merge: maps merge deeply, scalars and lists replace.

def merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def checksum(config: dict) -> str:
    # What `Values.config | toJson | sha256sum` gives: compact JSON, insertion order.
    return hashlib.sha256(json.dumps(config, separators=(",", ":")).encode()).hexdigest()


# ---------------------------------------------------------------------------
# The model: names, versions, environments, values layers.

class Model:
    def __init__(self, size: str, seed: int, patches: bool):
        n_comp, n_env = SIZES[size]
        self.rng = random.Random(f"{size}/{seed}")
        self.size, self.seed, self.patches = size, seed, patches
        names = [f"{w}-{r}" for w in WORDS for r in ROLES]
        k = 2
        while len(names) < n_comp:  # more components than words × roles (extra-large): numbered
            names += [f"{w}-{r}-{k}" for w in WORDS for r in ROLES]
            k += 1
        self.rng.shuffle(names)
        self.components = sorted(names[:n_comp])
        pre = ["dev", "staging"] if n_env < 10 else ["dev", "qa", "staging", "perf"]
        prod = []
        for i in range(n_env - len(pre)):
            r = REGIONS[i % len(REGIONS)]
            prod.append(f"prod/{r}" if i < len(REGIONS) else f"prod/{r}-{i // len(REGIONS) + 1}")
        self.environments = pre + prod
        self.team = {c: self.rng.choice(TEAMS) for c in self.components}
        self.depends = {}
        for i, c in enumerate(self.components):
            k = self.rng.choice([0, 0, 1, 1, 2])
            self.depends[c] = sorted(self.rng.sample(self.components[:i], min(k, i)))
        self.defaults = {c: {v: self._defaults(c, i + 1) for i, v in enumerate(VERSIONS)} for c in self.components}
        self.version = {}  # (component, environment) -> version
        for c in self.components:
            for e in self.environments:
                if e in ("dev", "qa"):
                    v = "v3"
                elif e in ("staging", "perf"):
                    v = self.rng.choice(["v2", "v3", "v3"])
                else:
                    v = self.rng.choice(["v1", "v2", "v2", "v2", "v3"])
                self.version[(c, e)] = v
        self.params = {}  # (component, directory inside it) -> parameters
        for c in self.components:
            self.params[(c, "")] = {"config": {"SERVICE_OWNER": self.team[c]}}
            self.params[(c, "prod")] = {
                "replicas": 3,
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                "autoscaling": {"minReplicas": 3, "maxReplicas": 12},
                "config": {"LOG_LEVEL": "warn"},
            }
            for e in self.environments:
                self.params[(c, e)] = self._target_params(c, e)

    def _defaults(self, c: str, k: int) -> dict:
        team = self.team[c]
        rng = random.Random(f"{self.size}/{self.seed}/{c}/{k}")
        major = rng.randint(1, 4)
        config = {
            "LOG_LEVEL": "info",
            "HTTP_PORT": "8080" if k < 3 else "8081",
            "UPSTREAM_URL": f"http://{c}-upstream.{team}.svc.cluster.local:8080",
            "CACHE_TTL_SECONDS": str(rng.choice([30, 60, 300, 900])),
            "FEATURE_NEW_CHECKOUT": "false",
        }
        for i in range(rng.randint(3, 8)):
            config[f"{rng.choice(WORDS).upper()}_{rng.choice(ROLES).upper()}_{i}"] = rng.choice(
                ["true", "false", "enabled", "1000", "https://example.com/x", "eu-west"])
        if k >= 2:
            config["METRICS_ENABLED"] = "true"
        if k >= 3:
            config["TRACING_SAMPLE_RATE"] = "0.1"
        d = {
            "team": team,
            "image": {
                "repository": f"registry.example.com/{team}/{c}",
                "tag": f"{major}.{k + rng.randint(0, 3)}.{rng.randint(0, 20)}",
                "pullPolicy": "IfNotPresent",
            },
            "replicas": 2,
            "port": 8080 if k < 3 else 8081,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
            "sidecar": {
                "image": f"registry.example.com/platform/log-shipper:2.{k}.1",
                "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
            },
            "probes": {"path": "/healthz", "initialDelaySeconds": 5, "periodSeconds": 10},
            "config": config,
            "autoscaling": {"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 75},
            "global": {"environment": "none"},
        }
        return d

    def _target_params(self, c: str, e: str) -> dict:
        rng = random.Random(f"{self.size}/{self.seed}/{c}/{e}")
        d = self.defaults[c][self.version[(c, e)]]
        if e == "dev":
            return {
                "namespace": f"{self.team[c]}-dev",
                "replicas": 1,
                "image": {"tag": d["image"]["tag"] + f"-rc.{rng.randint(1, 9)}"},
                "config": {"LOG_LEVEL": "debug"},
                "autoscaling": {"minReplicas": 1, "maxReplicas": 2},
            }
        if e in ("qa", "staging", "perf"):
            p = {"config": {"FEATURE_NEW_CHECKOUT": "true"}}
            if e == "perf":
                p["resources"] = {"limits": {"cpu": "2"}}
            return p
        region = e.split("/", 1)[1]
        p = {"config": {"REGION_ENDPOINT": f"https://{region}.api.example.com"}}
        if rng.random() < 0.3:
            p["replicas"] = rng.randint(4, 6)
        if rng.random() < 0.2:
            p["autoscaling"] = {"maxReplicas": 20}
        return p

    def env_label(self, e: str) -> str:
        return e.replace("/", "-")

    def namespace(self, c: str, e: str) -> str:
        return self.params[(c, e)].get("namespace", self.team[c])

    def layers(self, c: str, e: str) -> list[dict]:
        """The values layers of a target, lowest first (defaults, strata.yaml env, parameters)."""
        out = [self.defaults[c][self.version[(c, e)]], {"global": {"environment": self.env_label(e)}}]
        parts = e.split("/")
        for i in range(len(parts) + 1):
            key = "/".join(parts[:i])
            if (c, key) in self.params:
                out.append(self.params[(c, key)])
        return out

    def values(self, c: str, e: str) -> dict:
        v: dict = {}
        for layer in self.layers(c, e):
            v = merge(v, layer)
        return v

    def site_patches(self, c: str, e: str) -> tuple[dict, list]:
        """The target's own kustomize patches: a strategic merge and a JSON 6902 patch."""
        rng = random.Random(f"{self.size}/{self.seed}/{c}/{e}/patch")
        smp = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": c},
            "spec": {"template": {"spec": {
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": rng.choice(POOLS), "effect": "NoSchedule"}],
                "containers": [{"name": "app", "env": [{"name": "ENVIRONMENT", "value": self.env_label(e)}]}],
            }}},
        }
        ops = [
            {"op": "add", "path": "/spec/behavior", "value": {
                "scaleDown": {"stabilizationWindowSeconds": rng.choice([60, 300, 600])}}},
            {"op": "replace", "path": "/spec/metrics/0/resource/target/averageUtilization", "value": rng.choice([60, 70, 80])},
        ]
        return smp, ops


# ---------------------------------------------------------------------------
# Objects, as the templates below render them. `env` None leaves out the
# environment label and `ns` None the namespace (a kustomize base).

def common_labels(c: str, v: dict, env: str | None) -> dict:
    labels = {
        "app.kubernetes.io/name": c,
        "app.kubernetes.io/part-of": v["team"],
        "app.kubernetes.io/managed-by": "strata",
    }
    if env is not None:
        labels["environment"] = env
    return labels


def meta(c: str, v: dict, env: str | None, ns: str | None) -> dict:
    m = {"name": c}
    if ns is not None:
        m["namespace"] = ns
    m["labels"] = common_labels(c, v, env)
    return m


def objects(c: str, k: int, v: dict, env: str | None, ns: str | None) -> list[dict]:
    probe = {"httpGet": {"path": v["probes"]["path"], "port": "http"},
             "initialDelaySeconds": v["probes"]["initialDelaySeconds"], "periodSeconds": v["probes"]["periodSeconds"]}
    app = {
        "name": "app",
        "image": f"{v['image']['repository']}:{v['image']['tag']}",
        "imagePullPolicy": v["image"]["pullPolicy"],
        "ports": [{"name": "http", "containerPort": v["port"], "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": c}}],
        "readinessProbe": probe,
        "livenessProbe": dict(probe, failureThreshold=3),
    }
    if k >= 3:
        app["startupProbe"] = {"httpGet": {"path": v["probes"]["path"], "port": "http"}, "failureThreshold": 30, "periodSeconds": 2}
        app["securityContext"] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                  "capabilities": {"drop": ["ALL"]}}
    app["resources"] = v["resources"]
    sidecar = {
        "name": "log-shipper",
        "image": v["sidecar"]["image"],
        "args": ["--input=/var/log/app", "--format=json"],
        "volumeMounts": [{"name": "logs", "mountPath": "/var/log/app"}],
        "resources": v["sidecar"]["resources"],
    }
    app["volumeMounts"] = [{"name": "logs", "mountPath": "/var/log/app"}]
    pod_labels = {"app.kubernetes.io/name": c}
    if env is not None:
        pod_labels["environment"] = env
    pod_spec = {"serviceAccountName": c}
    if k >= 2:
        pod_spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}
    pod_spec["containers"] = [app, sidecar]
    pod_spec["volumes"] = [{"name": "logs", "emptyDir": {}}]
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(c, v, env, ns),
        "spec": {
            "replicas": v["replicas"],
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": c}},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": {"checksum/config": checksum(v["config"])}},
                "spec": pod_spec,
            },
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": meta(c, v, env, ns),
        "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": c},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
    }
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(c, v, env, ns),
                 "data": dict(sorted(v["config"].items()))}
    hpa = {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(c, v, env, ns),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": c},
            "minReplicas": v["autoscaling"]["minReplicas"],
            "maxReplicas": v["autoscaling"]["maxReplicas"],
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": v["autoscaling"]["targetCPUUtilizationPercentage"]}}}],
        },
    }
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(c, v, env, ns),
          "automountServiceAccountToken": False}
    return [("configmap.yaml", configmap), ("deployment.yaml", deployment), ("hpa.yaml", hpa),
            ("service.yaml", service), ("serviceaccount.yaml", sa)]


# ---------------------------------------------------------------------------
# Templates (minijinja). They must render exactly what `objects` builds.

HELPERS = """\
{#- Labels every object of the component carries. -#}
{% macro labels(name, team, environment) -%}
app.kubernetes.io/name: {{ name }}
app.kubernetes.io/part-of: {{ team }}
app.kubernetes.io/managed-by: strata
environment: {{ environment }}
{%- endmacro %}
"""

META = """\
metadata:
  name: {{ Release.Name }}
  namespace: {{ Release.Namespace }}
  labels:
    {{- h.labels(Release.Name, Values.team, Values.global.environment) | nindent(4) }}
"""


def templates(k: int) -> dict[str, str]:
    imp = '{% import "_helpers.j2" as h %}\n'
    startup = ""
    if k >= 3:
        startup = """\
          startupProbe:
            httpGet:
              path: {{ Values.probes.path }}
              port: http
            failureThreshold: 30
            periodSeconds: 2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
"""
    pod_security = ""
    if k >= 2:
        pod_security = """\
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
"""
    deployment = imp + """\
apiVersion: apps/v1
kind: Deployment
""" + META + """\
spec:
  replicas: {{ Values.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ Release.Name }}
        environment: {{ Values.global.environment }}
      annotations:
        checksum/config: {{ Values.config | toJson | sha256sum }}
    spec:
      serviceAccountName: {{ Release.Name }}
""" + pod_security + """\
      containers:
        - name: app
          image: "{{ Values.image.repository }}:{{ Values.image.tag }}"
          imagePullPolicy: {{ Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ Values.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ Release.Name }}
          readinessProbe:
            httpGet:
              path: {{ Values.probes.path }}
              port: http
            initialDelaySeconds: {{ Values.probes.initialDelaySeconds }}
            periodSeconds: {{ Values.probes.periodSeconds }}
          livenessProbe:
            httpGet:
              path: {{ Values.probes.path }}
              port: http
            initialDelaySeconds: {{ Values.probes.initialDelaySeconds }}
            periodSeconds: {{ Values.probes.periodSeconds }}
            failureThreshold: 3
""" + startup + """\
          resources:
            {{- Values.resources | toYaml | nindent(12) }}
          volumeMounts:
            - name: logs
              mountPath: /var/log/app
        - name: log-shipper
          image: {{ Values.sidecar.image }}
          args:
            - --input=/var/log/app
            - --format=json
          volumeMounts:
            - name: logs
              mountPath: /var/log/app
          resources:
            {{- Values.sidecar.resources | toYaml | nindent(12) }}
      volumes:
        - name: logs
          emptyDir: {}
"""
    service = imp + "apiVersion: v1\nkind: Service\n" + META + """\
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {{ Release.Name }}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
"""
    configmap = imp + "apiVersion: v1\nkind: ConfigMap\n" + META + """\
data:
{%- for key, value in Values.config | dictsort %}
  {{ key }}: {{ value | quote }}
{%- endfor %}
"""
    hpa = imp + "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n" + META + """\
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ Release.Name }}
  minReplicas: {{ Values.autoscaling.minReplicas }}
  maxReplicas: {{ Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ Values.autoscaling.targetCPUUtilizationPercentage }}
"""
    sa = imp + "apiVersion: v1\nkind: ServiceAccount\n" + META + "automountServiceAccountToken: false\n"
    return {"_helpers.j2": HELPERS, "configmap.yaml": configmap, "deployment.yaml": deployment,
            "hpa.yaml": hpa, "service.yaml": service, "serviceaccount.yaml": sa}


# ---------------------------------------------------------------------------
# Strategic-merge difference of two objects: what a kustomize user writes in an
# overlay to turn the base into the target's object. Lists of named items merge
# by `name`; other lists are replaced whole.

def smp_diff(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        out = {}
        for k, v in b.items():
            if k not in a:
                out[k] = v
            elif a[k] != v:
                out[k] = smp_diff(a[k], v)
        for k in a:
            if k not in b:
                out[k] = None
        return out
    if (isinstance(a, list) and isinstance(b, list) and a and len(a) == len(b)
            and all(isinstance(x, dict) and "name" in x for x in a + b)
            and [x["name"] for x in a] == [x["name"] for x in b]):
        items = []
        for x, y in zip(a, b):
            if x != y:
                d = smp_diff(x, y)
                items.append({"name": y["name"], **{k: w for k, w in d.items() if k != "name"}})
        return items
    return b


# ---------------------------------------------------------------------------
# Writers

def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_strata(m: Model, root: Path) -> None:
    envs = {e: {"values": {"global": {"environment": m.env_label(e)}}} for e in m.environments}
    write(root / "strata.yaml", "# Generated by bench/gen.py; see bench/README.md.\n" + to_yaml({"environments": envs}))
    for c in m.components:
        cdir = root / c
        comp = {"namespace": m.team[c], "owners": [f"team-{m.team[c]}"]}
        if m.depends[c]:
            comp["dependsOn"] = m.depends[c]
        write(cdir / "component.yaml", to_yaml(comp))
        for k, ver in enumerate(VERSIONS, start=1):
            for name, text in templates(k).items():
                write(cdir / ver / name, text)
            write(cdir / ver / "values.yaml", f"# Defaults of {c} {ver}.\n" + to_yaml(m.defaults[c][ver]))
        write(cdir / "parameters.yaml", to_yaml(m.params[(c, "")]))
        if any(e.startswith("prod/") for e in m.environments):
            write(cdir / "prod" / "parameters.yaml", to_yaml(m.params[(c, "prod")]))
        for e in m.environments:
            tdir = cdir / e
            tdir.mkdir(parents=True, exist_ok=True)
            link = tdir / "templates"
            depth = len(e.split("/"))
            os.symlink("../" * depth + m.version[(c, e)], link)
            write(tdir / "parameters.yaml", to_yaml(m.params[(c, e)]))
            if m.patches:
                smp, ops = m.site_patches(c, e)
                kust = {"patches": [
                    {"target": {"kind": "Deployment", "name": c}, "patch": to_yaml(smp)},
                    {"target": {"group": "autoscaling", "version": "v2", "kind": "HorizontalPodAutoscaler", "name": c},
                     "patch": to_yaml(ops)},
                ]}
                write(tdir / "kustomization.yaml", to_yaml(kust))


def write_kustomize(m: Model, root: Path) -> None:
    for c in m.components:
        for k, ver in enumerate(VERSIONS, start=1):
            bdir = root / "bases" / c / ver
            objs = objects(c, k, m.defaults[c][ver], None, None)
            for name, obj in objs:
                write(bdir / name, to_yaml(obj))
            write(bdir / "kustomization.yaml", to_yaml({"resources": [n for n, _ in objs]}))
    for e in m.environments:
        depth = len(e.split("/"))
        for c in m.components:
            ver = m.version[(c, e)]
            k = VERSIONS.index(ver) + 1
            d = m.defaults[c][ver]
            v = m.values(c, e)
            label, ns = m.env_label(e), m.namespace(c, e)
            # The base after the overlay's transformers (namespace, labels, images, replicas) ...
            moved = merge(d, {"image": {"tag": v["image"]["tag"]}, "replicas": v["replicas"]})
            before = dict(objects(c, k, moved, label, ns))
            after = dict(objects(c, k, v, label, ns))
            kust: dict = {"resources": ["../" * (depth + 2) + f"bases/{c}/{ver}"], "namespace": ns,
                          "labels": [{"pairs": {"environment": label}, "includeTemplates": True}]}
            if v["image"]["tag"] != d["image"]["tag"]:
                kust["images"] = [{"name": d["image"]["repository"], "newTag": v["image"]["tag"]}]
            if v["replicas"] != d["replicas"]:
                kust["replicas"] = [{"name": c, "count": v["replicas"]}]
            # ... and a patch with what the parameters change beyond that.
            patches = []
            for name in before:
                diff = smp_diff(before[name], after[name])
                if diff:
                    obj = after[name]
                    diff = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": {"name": c}, **diff}
                    patches.append(diff)
            odir = root / "overlays" / e / c
            entries = []
            if patches:
                write(odir / "parameters-patch.yaml", "---\n".join(to_yaml(p) for p in patches))
                entries.append({"path": "parameters-patch.yaml"})
            if m.patches:
                smp, ops = m.site_patches(c, e)
                entries.append({"target": {"kind": "Deployment", "name": c}, "patch": to_yaml(smp)})
                entries.append({"target": {"group": "autoscaling", "version": "v2", "kind": "HorizontalPodAutoscaler",
                                           "name": c}, "patch": to_yaml(ops)})
            if entries:
                kust["patches"] = entries
            write(odir / "kustomization.yaml", to_yaml(kust))
        write(root / "envs" / e / "kustomization.yaml",
              to_yaml({"resources": ["../" * (depth + 1) + f"overlays/{e}/{c}" for c in m.components]}))


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    return subprocess.run(["git", "-C", str(root), *args], check=True, env=env,
                          capture_output=True, text=True).stdout.strip()


def write_history(m: Model, root: Path) -> dict:
    """Three commits: base, one target of one component bumped, all its targets bumped."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "core.symlinks", "true")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "tag", "bench-base")
    rng = random.Random(f"{m.size}/{m.seed}/history")
    c = rng.choice(m.components)
    prod = [e for e in m.environments if e.startswith("prod/")] or m.environments
    first = rng.choice(prod)

    def bump(e: str) -> None:
        cur = m.version[(c, e)]
        nxt = VERSIONS[(VERSIONS.index(cur) + 1) % len(VERSIONS)]
        link = root / c / e / "templates"
        link.unlink()
        os.symlink("../" * len(e.split("/")) + nxt, link)

    bump(first)
    git(root, "commit", "-q", "-am", f"{c}: bump {first}")
    git(root, "tag", "bench-one")
    for e in m.environments:
        if e != first:
            bump(e)
    git(root, "commit", "-q", "-am", f"{c}: bump every environment")
    git(root, "tag", "bench-all")
    return {"component": c, "one": f"{c}/{first}", "environments": len(m.environments)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=SIZES, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--git", action="store_true", help="make OUT/strata a git repository with three tagged commits")
    ap.add_argument("--no-patches", dest="patches", action="store_false",
                    help="leave out the kustomization.yaml patches (for a strata without them)")
    a = ap.parse_args()
    if a.size in NOT_IN_CI and os.environ.get("CI") == "true":
        print(f"error: --size {a.size} is not generated in CI (minutes and gigabytes); use small, medium or large",
              file=sys.stderr)
        return 2
    if a.out.exists():
        shutil.rmtree(a.out)
    m = Model(a.size, a.seed, a.patches)
    write_strata(m, a.out / "strata")
    write_kustomize(m, a.out / "kustomize")
    meta = {
        "size": a.size, "seed": a.seed, "patches": a.patches,
        "components": m.components, "environments": m.environments,
        "targets": len(m.components) * len(m.environments),
        "resources": len(m.components) * len(m.environments) * 5,
    }
    if a.git:
        meta["history"] = write_history(m, a.out / "strata")
    write(a.out / "meta.json", json.dumps(meta, indent=1) + "\n")
    print(f"{a.out}: {len(m.components)} components × {len(m.environments)} environments = "
          f"{meta['targets']} targets, {meta['resources']} resources", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
