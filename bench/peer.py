#!/usr/bin/env python3
"""peer.py: the straightforward script a user would write instead of flowetl.

Logs in to the sandbox's Posiflora API, pages through stores, categories,
inventory items, bouquets, customers and orders (page[size]=100, sorted by
updatedAt), fetches each order's detail with its lines and payments, and inserts
everything with executemany into simple tables (no star schema, no merge, no
cursor). Python's urllib and psycopg2, one request at a time.

    peer.py BASE_URL DSN

Prints one line of name=value figures: requests, records (read), rows (written),
bytes (JSON), seconds (wall).
"""
import json
import sys
import time
import urllib.request

import psycopg2

TABLES = """
DROP SCHEMA IF EXISTS peer CASCADE;
CREATE SCHEMA peer;
CREATE TABLE peer.store (id text PRIMARY KEY, title text);
CREATE TABLE peer.category (id text PRIMARY KEY, title text, parent_id text);
CREATE TABLE peer.product (id text PRIMARY KEY, kind text, title text, price numeric);
CREATE TABLE peer.customer (id text PRIMARY KEY, name text, phone text, updated_at timestamptz);
CREATE TABLE peer.orders (id text PRIMARY KEY, store_id text, customer_id text, status text,
    total numeric, paid numeric, created_at timestamptz, updated_at timestamptz);
CREATE TABLE peer.order_line (id text PRIMARY KEY, order_id text, product_id text, qty numeric,
    price numeric, total numeric);
CREATE TABLE peer.payment (id text PRIMARY KEY, order_id text, type text, amount numeric,
    created_at timestamptz);
"""


class Client:
    def __init__(self, base):
        self.base = base
        self.token = None
        self.requests = 0
        self.bytes = 0

    def call(self, method, path, body=None):
        headers = {"Accept": "application/vnd.api+json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req) as resp:
            raw = resp.read()
        self.requests += 1
        self.bytes += len(raw)
        return json.loads(raw)

    def login(self):
        doc = self.call("POST", "/v1/sessions", {"data": {"type": "sessions", "attributes": {
            "username": "demo", "password": "demo-secret"}}})
        self.token = doc["data"]["attributes"]["accessToken"]

    def pages(self, path, extra=""):
        page = 1
        while True:
            doc = self.call("GET", "%s?%spage[number]=%d&page[size]=100" % (path, extra, page))
            yield doc["data"]
            if len(doc["data"]) < 100:
                return
            page += 1


def rel_id(rec, name):
    data = rec.get("relationships", {}).get(name, {}).get("data")
    return data["id"] if isinstance(data, dict) else None


def main():
    base, dsn = sys.argv[1], sys.argv[2]
    start = time.monotonic()
    api = Client(base)
    db = psycopg2.connect(dsn)
    cur = db.cursor()
    cur.execute(TABLES)
    records = rows = 0
    api.login()

    def insert(sql, values):
        nonlocal rows
        cur.executemany(sql, values)
        rows += len(values)

    for data in api.pages("/v1/stores"):
        records += len(data)
        insert("INSERT INTO peer.store VALUES (%s, %s)",
               [(r["id"], r["attributes"].get("title")) for r in data])
    for data in api.pages("/v1/categories"):
        records += len(data)
        insert("INSERT INTO peer.category VALUES (%s, %s, %s)",
               [(r["id"], r["attributes"].get("title"), rel_id(r, "parent")) for r in data])
    for path in ("/v1/inventory-items", "/v1/bouquets"):
        for data in api.pages(path):
            records += len(data)
            insert("INSERT INTO peer.product VALUES (%s, %s, %s, %s)"
                   " ON CONFLICT (id) DO NOTHING",
                   [(r["id"], r["type"], r["attributes"].get("title"),
                     r["attributes"].get("price") or r["attributes"].get("amount"))
                    for r in data])
    for data in api.pages("/v1/customers"):
        records += len(data)
        insert("INSERT INTO peer.customer VALUES (%s, %s, %s, %s)",
               [(r["id"], r["attributes"].get("name"), r["attributes"].get("phone"),
                 r["attributes"].get("updatedAt")) for r in data])
    db.commit()
    for data in api.pages("/v1/orders", "sort=updatedAt&"):
        records += len(data)
        orders, lines, payments = [], [], []
        for o in data:
            detail = api.call("GET", "/v1/orders/%s?include=lines,payments,payments.method"
                              % o["id"])
            d = detail["data"]
            a = d["attributes"]
            records += 1 + len(detail.get("included", []))
            orders.append((d["id"], rel_id(d, "store"), rel_id(d, "customer"), a.get("status"),
                           a.get("totalAmount"), a.get("paymentsAmount"), a.get("createdAt"),
                           a.get("updatedAt")))
            for inc in detail.get("included", []):
                ia = inc["attributes"]
                if inc["type"] == "order-lines":
                    lines.append((inc["id"], d["id"], rel_id(inc, "item") or rel_id(inc, "bouquet"),
                                  ia.get("qty"), ia.get("price"), ia.get("totalAmount")))
                elif inc["type"] == "order-payments":
                    payments.append((inc["id"], d["id"], ia.get("paymentType"), ia.get("amount"),
                                     ia.get("createdAt")))
        insert("INSERT INTO peer.orders VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
               " ON CONFLICT (id) DO NOTHING", orders)
        insert("INSERT INTO peer.order_line VALUES (%s, %s, %s, %s, %s, %s)"
               " ON CONFLICT (id) DO NOTHING", lines)
        insert("INSERT INTO peer.payment VALUES (%s, %s, %s, %s, %s)"
               " ON CONFLICT (id) DO NOTHING", payments)
        db.commit()
    db.close()
    print("requests=%d records=%d rows=%d bytes=%d seconds=%.3f"
          % (api.requests, records, rows, api.bytes, time.monotonic() - start))


if __name__ == "__main__":
    main()
