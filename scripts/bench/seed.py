#!/usr/bin/env python3
"""Generate the benchmark's key pool: N keys, 1% `need_refresh`, the rest mostly `healthy`.

    seed.py json N FILE [R]      write a seed file for the in-memory store (APP__STORE__SEED_FILE)
    seed.py mongo N URI DB       drop database DB and load the same pool into it (needs pymongo)

R (default N/100) is how many keys are `need_refresh`, spread evenly over the pool.

The pool holds the proxy `proxy-6`, N keys in the shapes the existing programs write (DESIGN.md
section 2) and one active binding per key. The output is the same for the same N.
"""

import datetime
import json
import sys

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
PROXY = "proxy-6"


def status_of(index, refresh_every):
    if index % refresh_every == 0:
        return "need_refresh"
    if index % 100 == 1:
        return "rate_limited"
    if index % 100 == 2:
        return "exhausted"
    return "healthy"


def pool(count, need_refresh=None):
    """Yields (key, binding) pairs with Python values; dates are aware datetimes."""
    refresh_every = count // (need_refresh or max(count // 100, 1))
    for index in range(count):
        created = START + datetime.timedelta(minutes=index)
        key_id = f"oh-key-{int(created.timestamp() * 1000)}-b{index:05d}"
        key = {
            "_id": key_id,
            "apiKey": f"sk-bench-{index:08d}-0123456789abcdef",
            "status": status_of(index, refresh_every),
            "tokensUsed": index * 10,
            "requestsCount": index,
            "lastError": None,
            "createdAt": created,
        }
        if key["status"] == "need_refresh":
            key["lastError"] = "401 token_not_found_in_db"
            key["lastUsedAt"] = created + datetime.timedelta(days=1)
            key["updatedAt"] = created + datetime.timedelta(days=1, seconds=1)
        binding = {
            "_id": f"{index + 1:024x}",  # an ObjectId's hex
            "proxyId": PROXY,
            "openhandsKeyId": key_id,
            "priority": 1 + index % 10,
            "isActive": True,
            "createdAt": created + datetime.timedelta(seconds=1),
        }
        yield key, binding


def proxy():
    return {"_id": PROXY, "name": "bench egress", "type": "socks5", "host": "127.0.0.1",
            "port": 1080, "status": "healthy", "isActive": True, "createdAt": START}


def to_extended_json(document):
    out = {}
    for field, value in document.items():
        if isinstance(value, datetime.datetime):
            value = {"$date": value.strftime("%Y-%m-%dT%H:%M:%SZ")}
        elif field == "_id" and len(str(value)) == 24 and "-" not in str(value):
            value = {"$oid": value}
        out[field] = value
    return out


def write_json(count, path, need_refresh=None):
    keys, bindings = [], []
    for key, binding in pool(count, need_refresh):
        keys.append(to_extended_json(key))
        bindings.append(to_extended_json(binding))
    seed = {"proxies": [to_extended_json(proxy())], "openhands_keys": keys,
            "openhands_bindings": bindings}
    with open(path, "w", encoding="utf-8") as file:
        json.dump(seed, file, separators=(",", ":"))


def load_mongo(count, uri, db_name):
    from bson import ObjectId
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        client.drop_database(db_name)
        db = client[db_name]
        db.proxies.insert_one(proxy())
        keys, bindings = [], []
        for key, binding in pool(count):
            binding["_id"] = ObjectId(binding["_id"])
            keys.append(key)
            bindings.append(binding)
        for start in range(0, count, 1000):
            db.openhands_keys.insert_many(keys[start:start + 1000], ordered=False)
            db.openhands_bindings.insert_many(bindings[start:start + 1000], ordered=False)


def main(argv):
    if len(argv) in (4, 5) and argv[1] == "json":
        write_json(int(argv[2]), argv[3], int(argv[4]) if len(argv) == 5 else None)
    elif len(argv) == 5 and argv[1] == "mongo":
        load_mongo(int(argv[2]), argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
