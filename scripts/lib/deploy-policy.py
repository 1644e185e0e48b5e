"""Checks what a schema cannot on rendered Kubernetes manifests (`kustomize build` output): the
shop's rules for its six services, and that the objects refer to each other consistently.

    python deploy-policy.py RENDERED.yaml

Prints one line per violation and exits 1 if there is any. Run by scripts/validate-deploy.sh with
the kubernetes-validate venv's Python (it needs PyYAML).
"""

import sys

import yaml

# The port plan (README.md); the image's user (Dockerfile: USER 10001).
SERVICES = {
    "gateway": 8080,
    "products": 8081,
    "orders": 8082,
    "payments": 8083,
    "order-history": 8084,
    "identity": 8085,
}
PUBLIC = "gateway"
AUTOSCALED = {"orders", "payments"}
USER_ID = 10001
# Above the services' drain: preStop, in-flight stream entries (CONSUMER_HANDLER_TIMEOUT_MS, 10 s),
# the outbox relay, HTTP.
MIN_GRACE_SECONDS = 30
SECRET_KEYS = {
    "REDIS_URL": set(SERVICES),
    "MONGODB_URI": set(SERVICES) - {PUBLIC},
    "SHOP_ADMIN_TOKEN": {PUBLIC},
}


def main(path):
    with open(path, encoding="utf-8") as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    errors = []
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o

    deployments = by_kind.get("Deployment", {})
    services = by_kind.get("Service", {})
    configmaps = by_kind.get("ConfigMap", {})
    secrets = by_kind.get("Secret", {})
    for name in SERVICES:
        if name not in deployments:
            errors.append(f"deployment/{name}: missing")
        if name not in services:
            errors.append(f"service/{name}: missing")

    images = set()
    for name, d in deployments.items():
        where = f"deployment/{name}"
        err = lambda msg, where=where: errors.append(f"{where}: {msg}")  # noqa: E731
        labels = d["metadata"].get("labels", {})
        pod = d["spec"]["template"]
        pod_labels = pod["metadata"].get("labels", {})
        for lbl in (labels, pod_labels):
            if lbl.get("app.kubernetes.io/name") != name:
                err("label app.kubernetes.io/name must be the service's name")
            if lbl.get("app.kubernetes.io/part-of") != "shop":
                err("label app.kubernetes.io/part-of must be shop")
        if not matches(d["spec"]["selector"].get("matchLabels", {}), pod_labels):
            err("spec.selector does not select the pod template's labels")
        if name in AUTOSCALED and "replicas" in d["spec"]:
            err("spec.replicas is set, but an HPA owns the replica count (an apply would reset it)")

        spec = pod["spec"]
        if spec.get("automountServiceAccountToken") is not False:
            err("automountServiceAccountToken must be false")
        if spec.get("terminationGracePeriodSeconds", 30) < MIN_GRACE_SECONDS:
            err(f"terminationGracePeriodSeconds must be at least {MIN_GRACE_SECONDS}")
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            err("securityContext.runAsNonRoot must be true")
        if psc.get("runAsUser") != USER_ID:
            err(f"securityContext.runAsUser must be {USER_ID} (the image's user)")
        for key in ("runAsGroup", "fsGroup"):
            if not isinstance(psc.get(key), int) or psc[key] == 0:
                err(f"securityContext.{key} must be set, and not 0 (root)")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            err("securityContext.seccompProfile.type must be RuntimeDefault")

        containers = spec.get("containers", [])
        if len(containers) != 1:
            err("must have exactly one container")
            continue
        c = containers[0]
        images.add(c.get("image"))
        if "command" in c:
            err("must not set command (it would replace the image's tini entrypoint); use args")
        if name in SERVICES and c.get("args", [None])[0] != name:
            err(f"args must start with the binary's name ({name!r})")
        csc = c.get("securityContext", {})
        if csc.get("readOnlyRootFilesystem") is not True:
            err("container readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            err("container allowPrivilegeEscalation must be false")
        if csc.get("capabilities", {}).get("drop") != ["ALL"]:
            err("container capabilities.drop must be [ALL]")
        if csc.get("privileged"):
            err("container must not be privileged")
        for kind in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in c.get("resources", {}).get(kind, {}):
                    err(f"resources.{kind}.{res} must be set")

        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        port = SERVICES.get(name)
        if port is not None and list(ports.values()) != [port]:
            err(f"must expose exactly its port {port}")
        env = {e["name"]: e for e in c.get("env", [])}
        bind = env.get("BIND_ADDR", {}).get("value", f"0.0.0.0:{port}")
        if port is not None and not bind.endswith(f":{port}"):
            err(f"BIND_ADDR {bind} does not listen on the container port {port}")
        for probe, path in (
            ("startupProbe", None),
            ("livenessProbe", "/health/live"),
            ("readinessProbe", "/health/ready"),
        ):
            get = c.get(probe, {}).get("httpGet")
            if not get:
                err(f"{probe} must be an httpGet probe")
                continue
            if path and get.get("path") != path:
                err(f"{probe} must GET {path}")
            if get.get("port") not in ports and get.get("port") not in ports.values():
                err(f"{probe} uses port {get.get('port')!r}, which the container does not expose")

        # Every reference resolves: the generated (hash-suffixed) names included.
        for source in c.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            pool = configmaps if "configMapRef" in source else secrets
            if ref and ref["name"] not in pool and not ref.get("optional"):
                err(f"envFrom refers to {ref['name']}, which is not in the output")
        for e in env.values():
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            ref_kind, pool = "secret", secrets
            if not ref:
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                ref_kind, pool = "configmap", configmaps
            if not ref:
                continue
            target = pool.get(ref["name"])
            if target is None:
                err(f"env {e['name']} refers to {ref_kind}/{ref['name']}, not in the output")
            elif ref["key"] not in {**target.get("data", {}), **target.get("stringData", {})}:
                err(f"env {e['name']} refers to key {ref['key']} missing from {ref_kind}/{ref['name']}")
        for key, users in SECRET_KEYS.items():
            if name in users and key not in env:
                err(f"must read {key} from the Secret")
            if name not in users and key in env:
                err(f"must not get {key} (least privilege)")

    if len(images) > 1:
        errors.append(f"deployments use different images {sorted(map(str, images))}: one for all")

    for name, s in services.items():
        where = f"service/{name}"
        target = deployments.get(name)
        if s["spec"].get("type", "ClusterIP") != "ClusterIP":
            errors.append(f"{where}: must be ClusterIP (the Ingress is the only way in)")
        if target is None:
            errors.append(f"{where}: no deployment of that name")
            continue
        pod = target["spec"]["template"]
        if not matches(s["spec"].get("selector", {}), pod["metadata"].get("labels", {})):
            errors.append(f"{where}: selector does not select deployment/{name}'s pods")
        names = {p.get("name") for p in pod["spec"]["containers"][0].get("ports", [])}
        numbers = {p["containerPort"] for p in pod["spec"]["containers"][0].get("ports", [])}
        for p in s["spec"].get("ports", []):
            if p.get("targetPort", p["port"]) not in names | numbers:
                errors.append(f"{where}: targetPort {p.get('targetPort')} is not a container port")
            if name in SERVICES and p["port"] != SERVICES[name]:
                errors.append(f"{where}: port {p['port']} is not the port plan's {SERVICES[name]}")

    for name, ing in by_kind.get("Ingress", {}).items():
        for rule in ing["spec"].get("rules", []):
            for p in rule.get("http", {}).get("paths", []):
                backend = p["backend"].get("service", {}).get("name")
                if backend != PUBLIC:
                    errors.append(f"ingress/{name}: routes {p.get('path')} to {backend}: only {PUBLIC} is public")
                # The operators' endpoints are not public: no rule may match /api/ops/anything.
                path, kind = p.get("path", "/"), p.get("pathType", "Prefix")
                probe = "/api/ops/streams"
                covers = probe == path or (kind != "Exact" and (path == "/" or probe.startswith(path.rstrip("/") + "/")))
                if covers:
                    errors.append(f"ingress/{name}: {kind} {path} routes {probe}: /api/ops/* must stay internal")

    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    for name in AUTOSCALED:
        if name not in hpas:
            errors.append(f"horizontalpodautoscaler/{name}: missing")
    for name, h in hpas.items():
        ref = h["spec"]["scaleTargetRef"]
        if ref.get("kind") != "Deployment" or ref.get("name") not in deployments:
            errors.append(f"horizontalpodautoscaler/{name}: targets {ref.get('kind')}/{ref.get('name')}, not in the output")
        if h["spec"].get("minReplicas", 1) < 2:
            errors.append(f"horizontalpodautoscaler/{name}: minReplicas must be at least 2")

    for name, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        sel = pdb["spec"].get("selector", {}).get("matchLabels", {})
        if not any(matches(sel, d["spec"]["template"]["metadata"].get("labels", {})) for d in deployments.values()):
            errors.append(f"poddisruptionbudget/{name}: selects no deployment's pods")

    for e in errors:
        print(e)
    return 1 if errors else 0


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
