"""Write good.json and bad.json for this case (seeded: run it again, same files).

GOOD is a project configuration of about 5,000 leaves; BAD is the same configuration
edited in about 300 places, one of which (`run_as_root` of the payments gateway) matters.
"""

import copy
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CULPRIT = "payments-gateway"
WORDS = ["api", "auth", "billing", "cart", "catalog", "checkout", "search", "media", "notify",
         "orders", "profile", "reports", "ledger", "inventory", "pricing", "shipping", "tax",
         "review", "gateway", "worker"]
ENV_KEYS = ["LOG_LEVEL", "LOG_FORMAT", "DB_POOL_SIZE", "DB_TIMEOUT_MS", "CACHE_TTL_S", "HTTP_TIMEOUT_MS",
            "RETRY_MAX", "QUEUE_PREFETCH", "TRACE_SAMPLE_RATE", "REGION", "FEATURE_SET", "GC_PERCENT"]
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]


def service(rng, name):
    return {
        "name": name,
        "image": f"registry.example.com/atlas/{name}:{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "replicas": rng.randint(1, 6),
        "env": {key: env_value(rng, key) for key in ENV_KEYS},
        "resources": {
            "requests": {"cpu": f"{rng.choice([100, 250, 500])}m", "memory": f"{rng.choice([128, 256, 512])}Mi"},
            "limits": {"cpu": rng.choice(["500m", "1", "2"]), "memory": f"{rng.choice([512, 1024, 2048])}Mi"},
        },
        "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
        ],
        "healthcheck": {"path": "/healthz", "interval_s": 10, "timeout_s": rng.choice([1, 2, 5]), "failure_threshold": 3},
        "labels": {"team": rng.choice(["core", "growth", "money", "platform"]), "tier": rng.choice(["frontend", "backend", "batch"]),
                   "cost-center": f"cc-{rng.randint(100, 999)}", "managed-by": "atlas"},
        "annotations": {"owner": f"{rng.choice(['ana', 'ben', 'chen', 'dev', 'eli'])}@example.com",
                        "runbook": f"https://wiki.example.com/runbooks/{name}", "oncall": rng.choice(["primary", "secondary"])},
        "security": {"run_as_root": False, "read_only_root_fs": True, "capabilities_drop": ["ALL"]},
        "autoscaling": {"enabled": rng.random() < 0.5, "min": 2, "max": rng.randint(4, 20), "target_cpu": rng.choice([60, 70, 80])},
    }


def env_value(rng, key):
    if key == "LOG_LEVEL":
        return rng.choice(["debug", "info", "warn", "error"])
    if key == "LOG_FORMAT":
        return rng.choice(["json", "text"])
    if key == "REGION":
        return rng.choice(REGIONS)
    if key == "FEATURE_SET":
        return rng.choice(["stable", "beta", "canary"])
    if key == "TRACE_SAMPLE_RATE":
        return str(rng.choice([0.01, 0.05, 0.1, 0.25]))
    return str(rng.randint(1, 5000))


def changed(rng, key, old):
    while (new := env_value(rng, key)) == old:
        pass
    return new


def settings(rng):
    return {
        "logging": {"level": "info", "format": "json", "retention_days": 30, "sinks": ["stdout", "loki"]},
        "network": {"ingress": {"class": "nginx", "tls": {"enabled": True, "min_version": "TLS1.2"}, "hsts_max_age": 31536000},
                    "egress": {"allow": ["*.example.com", "api.stripe.com", "hooks.slack.com"], "deny_private_ranges": True}},
        "database": {"engine": "postgres", "version": "16.3", "pool": {"min": 5, "max": 100, "idle_timeout_s": 300},
                     "backups": {"enabled": True, "schedule": "0 3 * * *", "retention_days": 14}},
        "cache": {"engine": "redis", "version": "7.2", "max_memory_mb": 4096, "eviction": "allkeys-lru"},
        "regions": {region: {"enabled": rng.random() < 0.8, "weight": rng.randint(1, 100), "min_nodes": rng.randint(1, 5),
                             "max_nodes": rng.randint(6, 40), "spot": rng.random() < 0.5, "zone_count": rng.randint(2, 3),
                             "cidr": f"10.{i}.0.0/16", "nat_gateways": rng.randint(1, 3),
                             "quotas": {"cpu": rng.randint(64, 512), "memory_gb": rng.randint(256, 2048), "volumes": rng.randint(50, 500),
                                        "load_balancers": rng.randint(2, 20), "public_ips": rng.randint(2, 16)}}
                    for i, region in enumerate(REGIONS)},
        "alerts": [{"name": f"{w}-error-rate", "threshold": rng.choice([0.01, 0.02, 0.05]), "window": "5m",
                    "severity": rng.choice(["page", "ticket"]), "channels": ["#alerts", "pagerduty"]} for w in WORDS],
    }


def build():
    rng = random.Random(5000)
    names = [f"{a}-{b}" for a in WORDS for b in ("api", "worker", "gateway", "sync", "cron")]
    rng.shuffle(names)
    names = names[:84]
    names.insert(23, CULPRIT)
    names.insert(5, "legacy-reports")  # so the culprit is service 24 in GOOD, 23 in BAD
    good_body = {
        "apiVersion": "config/v3",
        "project": "atlas",
        "revision": 1841,
        "updated_at": "2024-06-10T09:12:44Z",
        "settings": settings(rng),
        "services": [service(rng, name) for name in names],
        "feature_flags": {f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}": rng.random() < 0.5 for i in range(300)},
        "routes": [{"path": f"/{rng.choice(WORDS)}/v{rng.randint(1, 3)}/{i}", "service": rng.choice(names[6:]),
                    "methods": rng.sample(["GET", "POST", "PUT", "DELETE"], 2), "timeout_ms": rng.choice([1000, 3000, 10000]),
                    "retries": rng.randint(0, 3)} for i in range(120)],
    }
    bad_body = copy.deepcopy(good_body)
    edit(rng, bad_body)
    good = document(good_body, "atlas-console/8.4.1 (web)", "4c7e0a92-1f3b-4d6e-8a25-b9c1d0e7f364")
    bad = document(bad_body, "atlasctl/8.3.0 (linux; amd64) go1.22.4", "e2b9d5f0-6a18-4c73-9e4d-0f7a3c1b8d52")
    bad["headers"]["x-atlas-dry-run"] = "false"
    return good, bad


def edit(rng, body):
    """About 300 irrelevant edits, then the one that matters."""
    services = body["services"]
    del services[5]  # BAD's copy predates legacy-reports
    services.insert(40, service(rng, "beta-search"))
    others = [s for s in services if s["name"] != CULPRIT]
    for _ in range(120):
        s, key = rng.choice(others), rng.choice(ENV_KEYS)
        s["env"][key] = changed(rng, key, s["env"].get(key))
    for _ in range(20):
        rng.choice(others)["env"][f"LEGACY_{rng.randint(1, 10**6)}"] = "1"
    for _ in range(20):
        rng.choice(others)["env"].pop(rng.choice(ENV_KEYS), None)
    for _ in range(40):
        s = rng.choice(others)
        s["labels" if rng.random() < 0.5 else "annotations"]["owner" if rng.random() < 0.5 else "cost-center"] = f"x-{rng.randint(1, 999)}"
    for s in rng.sample(others, 30):
        s["replicas"] = s["replicas"] % 6 + 1
    for s in rng.sample(others, 20):
        s["image"] = s["image"].rsplit(":", 1)[0] + f":0.{rng.randint(0, 99)}.0"
    for flag in rng.sample(sorted(body["feature_flags"]), 40):
        body["feature_flags"][flag] = not body["feature_flags"][flag]
    for route in rng.sample(body["routes"], 10):
        route["timeout_ms"] += 500
    del body["routes"][12], body["routes"][60]
    body["routes"].append({"path": "/search/v4/beta", "service": "beta-search", "methods": ["GET"], "timeout_ms": 800, "retries": 1})
    for region in rng.sample(sorted(body["settings"]["regions"]), 5):
        quotas = body["settings"]["regions"][region]["quotas"]
        quotas["cpu"], quotas["public_ips"] = quotas["cpu"] // 2, quotas["public_ips"] + 1
    body["settings"]["logging"].update({"level": "debug", "retention_days": 7})
    body["settings"]["cache"]["max_memory_mb"] = 2048
    body["revision"], body["updated_at"] = 1837, "2024-06-03T16:40:02Z"
    next(s for s in services if s["name"] == CULPRIT)["security"]["run_as_root"] = True


def document(body, user_agent, request_id):
    return {
        "method": "PUT",
        "url": "https://api.example.com/v1/projects/atlas/config",
        "headers": {
            "accept": "application/json",
            "authorization": "Bearer atl_EXAMPLE_" + request_id[:8],
            "content-type": "application/json",
            "user-agent": user_agent,
            "x-request-id": request_id,
        },
        "body": body,
    }


if __name__ == "__main__":
    for name, doc in zip(("good", "bad"), build()):
        (HERE / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
