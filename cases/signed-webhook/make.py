"""Write good.json and bad.json for this case (deterministic: run it again, same files).

The stored signatures are the ones the sender computed over its own bytes: Python's
`json.dumps(body)`, with a space after each `,` and `:`. The documents keep the parsed
body, not those bytes, and reqbisect sends a native document's JSON body compact, so
without a hook even the baselines fail the signature check.
"""

import copy
import importlib.util
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_hook():
    spec = importlib.util.spec_from_file_location("signed_webhook_hook", HERE / "hook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def delivery(*, event_id, timestamp, user_agent, body):
    wire = json.dumps(body).encode()
    return {
        "method": "POST",
        "url": "https://fulfilment.partner.example/hooks/orders",
        "headers": {
            "content-type": "application/json",
            "user-agent": user_agent,
            "x-webhook-id": event_id,
            "x-webhook-timestamp": str(timestamp),
            "x-webhook-signature": load_hook().signature(str(timestamp), wire),
        },
        "body": body,
    }


def build():
    order = {
        "id": "ord_4812",
        "currency": "EUR",
        "amount": 4990,
        "items": [
            {"sku": "TRAIL-42", "name": "Trail runner, size 42", "quantity": 1, "unit_amount": 4490},
            {"sku": "SOCK-3P", "name": "Running socks (3 pairs)", "quantity": 1, "unit_amount": 500},
        ],
        "customer": {"id": "cus_9931", "email": "mara.keller@example.org", "locale": "de-DE"},
        "shipping": {"method": "standard", "country": "DE", "postal_code": "10115"},
    }
    good_body = {
        "id": "evt_01HZX4K8W4J1",
        "type": "order.paid",
        "created": 1718035200,
        "api_version": "2023-10-16",
        "data": {"order": order},
    }
    new_order = copy.deepcopy(order)
    # The new sender's serialiser writes money as decimal strings, and adds some fields.
    new_order["amount"] = "49.90"
    new_order["tax"] = {"rate": "0.19", "included": True}
    new_order["customer"]["locale"] = "de-AT"
    new_order["items"][1]["quantity"] = 2
    new_order["items"][1]["discount"] = {"code": "SOCKS2", "amount": 500}
    bad_body = {
        "id": "evt_01J0C7Q2M9PX",
        "type": "order.paid",
        "created": 1718121600,
        "api_version": "2024-06-01",
        "livemode": True,
        "attempt": 1,
        "data": {"order": new_order, "previous_attributes": {}},
    }
    good = delivery(event_id=good_body["id"], timestamp=1718035200, user_agent="ShopHooks/3.9.2", body=good_body)
    bad = delivery(event_id=bad_body["id"], timestamp=1718121600, user_agent="ShopHooks/4.0.0 (+https://shop.example/hooks)", body=bad_body)
    return good, bad


if __name__ == "__main__":
    for name, doc in zip(("good.json", "bad.json"), build()):
        (HERE / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
