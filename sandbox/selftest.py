#!/usr/bin/env python3
"""Self-test of flowetl-sandbox, one vendor after another, each read as a careful
client would from the vendor reference alone: every list paged as the docs say, the
ground truth recomputed from the responses with exact decimals and compared with
GET /_sandbox/truth, then advance with incremental reads, the faults, reset and
determinism. Posiflora is here; Goflow, Flowwow and Flow Retail are in
selftest_parts/ (common.py holds the shared client and checks), with the Posiflora
order analytics (pf_analytics.py) and the --mismatch switches of every vendor
(mismatch.py).

usage: selftest.py path/to/flowetl-sandbox [--scale X] [--only VENDOR[,VENDOR...]]
Exits non-zero on the first failed check; prints NOTE lines for the known
disagreements with the vendor reference it tolerates. Standard library only."""

import http.client
import json
import os
import sys
import time
import zlib
from collections import defaultdict
from decimal import Decimal

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from selftest_parts import common, flowretail, flowwow, goflow, mismatch, pf_analytics  # noqa: E402
from selftest_parts.common import Sandbox, check, dec, fmt4  # noqa: E402

CREDS = {"data": {"type": "sessions", "attributes": {"username": "demo", "password": "demo-secret"}}}


class PfSandbox(Sandbox):
    """A sandbox with the Posiflora client calls (login, JSON:API pages)."""

    def login(self):
        st, _, body = self.raw("POST", "/posiflora/api/v1/sessions", CREDS)
        check(st == 200, "login answers 200")
        attrs = json.loads(body)["data"]["attributes"]
        self.token, self.refresh_token = attrs["accessToken"], attrs["refreshToken"]
        return attrs

    def api(self, path, expect=200):
        st, hdrs, body = self.raw("GET", "/posiflora/api" + path,
                                  headers={"Authorization": "Bearer " + self.token})
        check(st == expect, "GET %s answers %s (got %s: %r)" % (path, expect, st, body[:300]))
        check(hdrs.get("Content-Type") == "application/vnd.api+json", "JSON:API content type")
        return json.loads(body, parse_float=Decimal)

    def read_all(self, path, sep="?"):
        """Pages through a list with page[size]=100; returns (records, first meta)."""
        out, meta, number = [], None, 1
        while True:
            doc = self.api("%s%spage[size]=100&page[number]=%d" % (path, sep, number))
            if meta is None:
                meta = doc["meta"]
            check(doc["meta"]["page"] == {"number": number, "size": 100}, "meta.page echoes the page")
            if not doc["data"]:
                break
            out.extend(doc["data"])
            number += 1
        check(len(out) == meta["total"], "%s: read %d rows = meta.total %d" % (path, len(out), meta["total"]))
        check(len({r["id"] for r in out}) == len(out), "%s: ids are unique" % path)
        return out, meta


def truth_from_api(stores, cats, items, bouquets, customers, orders, details):
    m = {}
    m["stores.count"] = str(len(stores))
    m["categories.count"] = str(len(cats))
    m["products.count"] = str(len(items) + len(bouquets))
    m["customers.count"] = str(len(customers))
    groups = {"new": "open", "assembled": "open", "courier": "open", "done": "completed",
              "canceled": "canceled", "notAccepted": "canceled", "returned": "returned"}
    cnt = defaultdict(int)
    sums = defaultdict(Decimal)
    for o in orders:
        a = o["attributes"]
        total = dec(a["totalAmount"])
        cnt["orders.count"] += 1
        sums["orders.total"] += total
        sums["orders.paid_total"] += dec(a["paymentsAmount"])
        cnt["orders.status_group." + groups[a["status"]]] += 1
        if o["relationships"]["customer"]["data"] is None:
            cnt["orders.no_customer"] += 1
        cnt["day.%s.orders" % a["date"]] += 1
        sums["day.%s.total" % a["date"]] += total
        sid = o["relationships"]["store"]["data"]["id"]
        cnt["store.%s.orders" % sid] += 1
        sums["store.%s.total" % sid] += total
        for inc in details[o["id"]].get("included", []):
            ia = inc["attributes"]
            if inc["type"] == "order-lines":
                cnt["order_lines.count"] += 1
                sums["order_lines.quantity"] += dec(ia["qty"])
                sums["order_lines.line_total"] += dec(ia["totalAmount"])
            elif inc["type"] == "order-payments":
                cnt["payments.count"] += 1
                sign = 1 if ia["paymentType"] == "payment" else -1
                sums["payments.amount"] += sign * dec(ia["amount"])
                sums["payments.bonus_amount"] += dec(ia["bonusAmount"])
    for s in stores:
        cnt["store.%s.orders" % s["id"]] += 0
        sums["store.%s.total" % s["id"]] += 0
    for k in ("orders.no_customer", "orders.status_group.open", "orders.status_group.completed",
              "orders.status_group.canceled", "orders.status_group.returned"):
        cnt[k] += 0
    for k, v in cnt.items():
        m[k] = str(v)
    for k, v in sums.items():
        m[k] = fmt4(v)
    return m


def truth_from_sandbox(sb):
    lines = sb.control("GET", "truth").splitlines()
    check(lines == sorted(lines, key=lambda s: s.encode()), "truth lines are sorted byte-wise")
    return {l.split("\t")[1]: l.split("\t")[2] for l in lines if l.startswith("posiflora\t")}


def check_order_detail(o, doc):
    """One order's detail: the lines add up, payments match paymentsAmount."""
    a = doc["data"]["attributes"]
    inc = doc.get("included", [])
    lines = [i for i in inc if i["type"] == "order-lines"]
    pays = [i for i in inc if i["type"] == "order-payments"]
    methods = {i["id"] for i in inc if i["type"] == "payment-methods"}
    check(len(lines) == len(doc["data"]["relationships"]["lines"]["data"]) >= 1, "lines included")
    check(sum(dec(l["attributes"]["totalAmount"]) for l in lines) == dec(a["totalAmount"]),
          "order %s: line totals add up to totalAmount" % o)
    for l in lines:
        la = l["attributes"]
        check(dec(la["amount"]) == dec(la["qty"]) * dec(la["price"]), "amount = qty x price")
        if la["manualSetting"]:
            check(dec(la["totalAmount"]) > dec(la["amount"]), "a manual line is a markup")
    paid = sum((1 if p["attributes"]["paymentType"] == "payment" else -1) * dec(p["attributes"]["amount"])
               for p in pays)
    check(paid == dec(a["paymentsAmount"]), "order %s: payments add up to paymentsAmount" % o)
    for p in pays:
        check(dec(p["attributes"]["amount"]) > 0, "payment amounts are positive")
        check(p["relationships"]["method"]["data"]["id"] in methods, "payment method included")


def read_everything(sb):
    stores, smeta = sb.read_all("/v1/stores")
    check("revision" in smeta, "stores meta has revision")
    cats, _ = sb.read_all("/v1/categories")
    items, _ = sb.read_all("/v1/inventory-items")
    bouquets, bmeta = sb.read_all("/v1/bouquets")
    check("revision" in bmeta and "totalAmount" in bmeta, "bouquets meta")
    customers, cmeta = sb.read_all("/v1/customers")
    check("revision" in cmeta, "customers meta has revision")
    orders, ometa = sb.read_all("/v1/orders", "?sort=updatedAt&")
    keys = [(o["attributes"]["updatedAt"], o["id"]) for o in orders]
    check(keys == sorted(keys), "sort=updatedAt is ordered, ties by id")
    check(all("lines" not in o["relationships"] for o in orders), "the order list has no lines")
    details = {}
    for o in orders:
        doc = sb.api("/v1/orders/%s?include=lines,payments,payments.method" % o["id"])
        check_order_detail(o["id"], doc)
        details[o["id"]] = doc
    return stores, cats, items, bouquets, customers, orders, details, ometa, cmeta


def compare_truth(sb, data, what):
    got = truth_from_api(*data[:7])
    want = truth_from_sandbox(sb)
    check(len(want) > 20 and len(got) > 20, "%s: truth has its metrics" % what)
    diff = sorted(set(got.items()) ^ set(want.items()))
    check(not diff, "%s: truth recomputed from the API equals /_sandbox/truth; diff %s" % (what, diff[:6]))


def test_shapes(sb):
    st, _, body = sb.raw("POST", "/posiflora/api/v1/sessions",
                         {"data": {"type": "sessions", "attributes": {"username": "demo", "password": "no"}}})
    check(st == 401 and json.loads(body)["errors"][0]["status"] == "401", "wrong password: 401")
    attrs = sb.login()
    check(attrs["expireAt"].endswith("+00:00") and attrs["accessToken"].count(".") == 2, "session shape")
    doc = sb.api("/v1/orders?page[size]=101", 422)
    check(doc == {"errors": [{"status": "422", "title": "Page size must be leas or equal than 100",
                              "source": {"parameter": "page[size]"}}]}, "422 body for page[size]=101")
    check(sb.api("/v1/orders/00000000-0000-4000-8000-000000000000", 404)["errors"][0]["status"] == "404",
          "unknown order: 404")
    doc = sb.api("/v1/orders?page[size]=5&page[number]=100000")
    check(doc["data"] == [] and doc["meta"]["total"] > 0, "past the last page: empty data")
    doc = sb.api("/v1/inventory-items?page[size]=20&include=category")
    cat_ids = {i["relationships"]["category"]["data"]["id"] for i in doc["data"]}
    check({c["id"] for c in doc["included"]} == cat_ids, "include=category fills included")
    doc = sb.api("/v1/orders?page[size]=100&filter[statuses][]=done&filter[statuses][]=returned")
    check(all(o["attributes"]["status"] in ("done", "returned") for o in doc["data"]), "status filter")
    st, _, _ = sb.raw("GET", "/posiflora/api/v1/stores", headers={"Authorization": "Bearer nope"})
    check(st == 401, "bad bearer: 401")


def test_faults(sb):
    path = "/posiflora/api/v1/stores"
    auth = {"Authorization": "Bearer " + sb.token}
    sb.control("POST", "faults?p429=1&retry_after=4")
    st, h, body = sb.raw("GET", path, headers=auth)
    check(st == 429 and h.get("Retry-After") == "4" and b"errors" in body, "p429: 429 with Retry-After")
    sb.control("POST", "faults?burst500=2")
    got = [sb.raw("GET", path, headers=auth)[0] for _ in range(3)]
    check(got == [500, 500, 200], "burst500=2: two 500s then 200 (got %s)" % got)
    sb.control("POST", "faults?pcut=1")
    st, _, _ = sb.raw("GET", path, headers=auth)
    check(st is None, "pcut=1: body cut off")
    sb.control("POST", "faults?malformed=stores")
    st, _, body = sb.raw("GET", path, headers=auth)
    try:
        json.loads(body)
        ok = False
    except ValueError:
        ok = True
    check(st == 200 and ok, "malformed=stores: invalid JSON")
    sb.control("POST", "faults?token_ttl=1")
    time.sleep(1.1)
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 401 and b"Token expired" in body, "token_ttl=1: token expires")
    st, _, body = sb.raw("PATCH", "/posiflora/api/v1/sessions",
                         {"data": {"type": "sessions", "attributes": {"refreshToken": sb.refresh_token}}})
    check(st == 200, "refresh works")
    sb.control("POST", "faults?refresh_fail=1")
    st, _, _ = sb.raw("PATCH", "/posiflora/api/v1/sessions",
                      {"data": {"type": "sessions", "attributes": {"refreshToken": sb.refresh_token}}})
    check(st == 401, "refresh_fail=1: refresh answers 401")
    sb.control("POST", "faults?slow_ms=200")
    t0 = time.time()
    sb.raw("GET", path, headers=auth)
    check(time.time() - t0 >= 0.2, "slow_ms delays API answers")
    t0 = time.time()
    sb.control("GET", "stats")
    check(time.time() - t0 < 0.2, "control endpoints never fault")
    sb.control("POST", "faults")
    stats = dict(l.split("\t") for l in sb.control("GET", "stats").splitlines())
    check(int(stats["status_429"]) >= 1 and int(stats["cut"]) >= 1 and int(stats["malformed"]) >= 1,
          "stats count faults")
    check(int(stats["requests.stores"]) >= 8, "stats count faulted requests per endpoint")
    sb.login()


def test_list_include(sb, details):
    """The orders list under include= (docs/sandbox.md, pf_list_include): the
    vendor's list includes payments and their methods, never lines; the switch
    lines adds them, partial leaves out every fifth order's, none ignores include,
    refuse answers 400."""
    q = "/v1/orders?page[size]=20&include=lines,payments,payments.method"

    def by_type(doc, t):
        return {i["id"]: i for i in doc.get("included", []) if i["type"] == t}

    def same_as_detail(o, doc, lines_too):
        det = details[o["id"]]
        want_pays = {p["id"] for p in o["relationships"]["payments"]["data"]}
        check(want_pays <= set(by_type(doc, "order-payments")), "list includes the order's payments")
        for m in {p["relationships"]["method"]["data"]["id"] for p in by_type(det, "order-payments").values()}:
            check(m in by_type(doc, "payment-methods"), "list includes the payments' methods")
        if lines_too:
            check(o["relationships"]["lines"] == det["data"]["relationships"]["lines"],
                  "list names the detail's lines")

    doc = sb.api(q)
    check(all("lines" not in o["relationships"] for o in doc["data"]), "vendor: no lines on the list")
    check(not by_type(doc, "order-lines"), "vendor: no lines included")
    for o in doc["data"]:
        same_as_detail(o, doc, False)
    sb.control("POST", "faults?pf_list_include=lines")
    doc = sb.api(q)
    got = by_type(doc, "order-lines")
    for o in doc["data"]:
        same_as_detail(o, doc, True)
        check(all(l["id"] in got for l in o["relationships"]["lines"]["data"]), "lines: all included")
    check(not by_type(sb.api("/v1/orders?page[size]=20"), "order-lines"), "lines: only when asked")
    sb.control("POST", "faults?pf_list_include=partial")
    doc = sb.api(q)
    got = by_type(doc, "order-lines")
    missing = [o for o in doc["data"]
               if not all(l["id"] in got for l in o["relationships"]["lines"]["data"])]
    check(len(missing) == 4, "partial: every fifth order's lines left out (%d of 20)" % len(missing))
    sb.control("POST", "faults?pf_list_include=none")
    doc = sb.api(q)
    check("included" not in doc and all("lines" not in o["relationships"] for o in doc["data"]),
          "none: include ignored")
    sb.control("POST", "faults?pf_list_include=refuse")
    st, _, _ = sb.raw("GET", "/posiflora/api" + q, headers={"Authorization": "Bearer " + sb.token})
    check(st == 400, "refuse: the list answers 400 to include=")
    check(len(sb.api("/v1/orders?page[size]=5")["data"]) == 5, "refuse: without include it answers")
    sb.control("POST", "faults")


def test_hostile(sb):
    """The hostile switches, on the Posiflora endpoints, the foreign host and the
    secrets list; the data itself never changes."""
    auth = {"Authorization": "Bearer " + sb.token}
    path = "/posiflora/api/v1/stores?page[size]=5"
    good = sb.raw("GET", path, headers=auth)[2]
    st, _, body = sb.raw("POST", "/_sandbox/hostile?empty=nope")
    check(st == 400, "hostile: unknown endpoint refused")
    sb.control("POST", "hostile?empty=stores")
    check(sb.raw("GET", path, headers=auth)[2] == b"{}", "empty=stores: 200 {}")
    sb.control("POST", "hostile?blank=stores")
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 200 and body == b"", "blank=stores: a 200 without a body")
    sb.control("POST", "hostile?gateway=stores")
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 200 and json.loads(body) == {"message": "Service temporarily unavailable"},
          "gateway=stores: the maintenance message")
    sb.control("POST", "hostile?cp1251=stores")
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 502 and "Ошибка шлюза".encode("cp1251") in body,
          "cp1251=stores: 502 with a windows-1251 page")
    sb.control("POST", "hostile?wrong_type=stores")
    doc = json.loads(sb.raw("GET", path, headers=auth)[2])
    check(doc["data"] == {} and doc["meta"] == json.loads(good)["meta"], "wrong_type=stores: data {}")
    sb.control("POST", "hostile?wrong_type=order_detail")
    oid = json.loads(sb.raw("GET", "/posiflora/api/v1/orders?page[size]=1", headers=auth)[2])["data"][0]["id"]
    doc = json.loads(sb.raw("GET", "/posiflora/api/v1/orders/" + oid, headers=auth)[2])
    check(doc["data"] == [], "wrong_type=order_detail: data []")
    sb.control("POST", "hostile?long_string=stores&long_mb=2")
    doc = json.loads(sb.raw("GET", path, headers=auth)[2])
    check(len(doc["data"][0]["hostileNote"]) == 2 << 20 and doc["data"][1:] == json.loads(good)["data"][1:],
          "long_string=stores: one string of 2 MiB in the first record")
    sb.control("POST", "hostile?short=stores")
    doc = json.loads(sb.raw("GET", path, headers=auth)[2])
    check(doc["data"] == json.loads(good)["data"][:-1] and doc["meta"] == json.loads(good)["meta"],
          "short=stores: the last record gone, meta.total kept")
    sb.control("POST", "hostile?few=stores")
    doc = json.loads(sb.raw("GET", path, headers=auth)[2])
    check(doc["data"] == json.loads(good)["data"][:1] and doc["meta"]["total"] == 1,
          "few=stores: a consistent list of one")
    sb.control("POST", "hostile?echo=stores")
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 400 and sb.token.encode() in body[:400], "echo=stores: 400 quoting the token")
    sb.control("POST", "hostile?echo=sessions:PATCH")
    sb.login()
    st, _, body = sb.raw("PATCH", "/posiflora/api/v1/sessions",
                         {"data": {"type": "sessions", "attributes": {"refreshToken": sb.refresh_token}}})
    check(st == 400 and sb.refresh_token.encode() in body, "echo=sessions:PATCH quotes the refresh token")
    secrets = sb.control("GET", "secrets").splitlines()
    check("demo-secret" in secrets and sb.token in secrets and sb.refresh_token in secrets
          and "gf-demo-token" in secrets, "secrets lists the password and the tokens issued")
    foreign = dict(l.split("\t") for l in sb.control("GET", "foreign").splitlines())
    check(foreign["url"].startswith("http://127.0.0.2:") and foreign["requests"] == "0",
          "the foreign host listens on 127.0.0.2")
    sb.control("POST", "hostile?redirect=sessions:POST")
    st, hdrs, _ = sb.raw("POST", "/posiflora/api/v1/sessions", CREDS)
    check(st == 307 and hdrs.get("Location") == foreign["url"] + "/posiflora/api/v1/sessions",
          "redirect=sessions:POST: 307 to the foreign host")
    host, port = foreign["url"][7:].split(":")
    fc = http.client.HTTPConnection(host, int(port), timeout=30)
    fc.request("POST", "/posiflora/api/v1/sessions", body=json.dumps(CREDS))
    r = fc.getresponse()
    r.read()
    check(r.status == 404, "the foreign host answers 404")
    fc.request("GET", "/x", headers={"Authorization": "Bearer nothing-known"})
    fc.getresponse().read()
    fc.close()
    foreign = dict(l.split("\t") for l in sb.control("GET", "foreign").splitlines())
    check(foreign["requests"] == "2" and foreign["with_secret"] == "1" and foreign["with_authorization"] == "1",
          "the foreign host counts requests, secrets and Authorization headers (%s)" % foreign)
    sb.control("POST", "hostile?endless=stores")
    sb.conn.request("GET", path, headers=auth)
    r = sb.conn.getresponse()
    first = b""
    while b'"data":[' not in first and len(first) < 4096:
        first += r.read1(4096)
    check(r.status == 200 and first.startswith(b'{"meta":') and b'"data":[' in first,
          "endless=stores: a list that starts")
    more = 0
    t0 = time.time()
    while time.time() - t0 < 0.3:
        more += len(r.read1(65536))
    check(more > 0, "endless=stores: bytes keep coming")
    sb.conn.close()
    sb.conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=30)
    sb.control("POST", "hostile")
    check(sb.raw("GET", path, headers=auth)[2] == good, "hostile off: the answer is back")
    sb.control("POST", "hostile?gzip_bomb=1&bomb_mb=3")
    check("gzip_bomb\t1" in sb.control("GET", "hostile"), "gzip_bomb set")
    check(zlib.decompress(gzip_bomb_file(sb), 16 + zlib.MAX_WBITS) ==
          b'[{"product_id":"' + b"A" * (3 << 20) + b'"}]', "gzip_bomb: a valid gzip of one long string")
    sb.control("POST", "hostile")


def gzip_bomb_file(sb):
    """A Goflow counts report file, through the file_url redirect."""
    h = {"Authorization": "Bearer gf-demo-token"}
    st, _, body = sb.raw("POST", "/goflow/v1/reports/inventory/counts",
                         {"columns": ["product_id", "warehouse_name", "on_hand"], "format": "json"}, h)
    check(st == 202, "report created")
    rid = json.loads(body)["id"]
    for _ in range(5):
        doc = json.loads(sb.raw("GET", "/goflow/v1/reports/%d" % rid, headers=h)[2])
        if doc["status"] == "completed":
            break
    url = doc["completed"]["file_url"]
    host, rest = url[7:].split("/", 1)
    c = http.client.HTTPConnection(host, timeout=30)
    c.request("GET", "/" + rest)
    r = c.getresponse()
    r.read()
    loc = r.getheader("Location")
    host, rest = loc[7:].split("/", 1)
    c = http.client.HTTPConnection(host, timeout=30)
    c.request("GET", "/" + rest)
    data = c.getresponse().read()
    c.close()
    return data


def test_advance(sb, before):
    ometa, cmeta = before[7], before[8]
    clock0 = dict(l.split("\t")[1:] for l in sb.control("GET", "truth").splitlines()
                  if l.startswith("sandbox\t"))["clock"]
    out = sb.control("POST", "advance?steps=3")
    changes = {l.split("\t")[1]: int(l.split("\t")[2]) for l in out.splitlines() if "changes." in l}
    check(changes["changes.orders_created"] > 0 and changes["changes.customers_updated"] > 0, "advance changes")
    # Incremental orders: everything updated since the old clock, merged over the old read.
    new_orders, _ = sb.read_all("/v1/orders", "?filter[updatedAt][from]=%s&sort=updatedAt&" % clock0)
    check(len(new_orders) >= changes["changes.orders_created"], "updatedAt filter finds the new orders")
    orders = {o["id"]: o for o in before[5]}
    details = dict(before[6])
    for o in new_orders:
        orders[o["id"]] = o
        details[o["id"]] = sb.api("/v1/orders/%s?include=lines,payments,payments.method" % o["id"])
    check(len(orders) == len(before[5]) + changes["changes.orders_created"], "new orders counted once")
    by_rev, _ = sb.read_all("/v1/orders", "?filter[revision]=%d&" % (ometa["revision"] + 1))
    check({o["id"] for o in by_rev} == {o["id"] for o in new_orders}, "revision filter = updatedAt filter")
    # Incremental customers from the revision recorded before.
    custs = {c["id"]: c for c in before[4]}
    changed, _ = sb.read_all("/v1/customers", "?filter[revision]=%d&" % (cmeta["revision"] + 1))
    for c in changed:
        custs[c["id"]] = c
    check(len(custs) == len(before[4]) + changes["changes.customers_created"], "customers by revision")
    data = (before[0], before[1], before[2], before[3], list(custs.values()), list(orders.values()), details)
    compare_truth(sb, data, "after advance")


def main():
    binary = sys.argv[1]
    scale = sys.argv[sys.argv.index("--scale") + 1] if "--scale" in sys.argv else "0.2"
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
    sb = PfSandbox(binary, "--scale", scale, "--seed", "3")
    initial_truth = sb.control("GET", "truth")
    for name, vendor in (("goflow", goflow), ("flowwow", flowwow), ("flowretail", flowretail)):
        if only and name not in only:
            continue
        t0 = time.time()
        vendor.run(sb, binary, scale, Sandbox)
        sb.control("POST", "reset")
        check(sb.control("GET", "truth") == initial_truth, "%s: reset restores the initial data" % name)
        print("selftest: %s done in %.1f s" % (name, time.time() - t0))
    if only and "posiflora" not in only:
        sb.stop()
        for n in common.notes:
            print("NOTE:", n)
        print("selftest: %d checks passed" % common.checks)
        return
    test_shapes(sb)
    initial_truth = sb.control("GET", "truth")
    data = read_everything(sb)
    compare_truth(sb, data, "initial data")
    pf_analytics.run(sb, data[5], data[6])
    test_faults(sb)
    test_list_include(sb, data[6])
    test_hostile(sb)
    compare_truth(sb, data, "after the hostile switches")
    test_advance(sb, data)
    sb.control("POST", "reset")
    check(sb.control("GET", "truth") == initial_truth, "reset restores the initial data")
    twin = PfSandbox(binary, "--scale", scale, "--seed", "3")
    twin.login()
    check(twin.control("GET", "truth") == initial_truth, "same seed, same truth")
    page = "/v1/orders?page[size]=50&page[number]=2&sort=-modifiedAt"
    check(twin.api(page) == sb.api(page), "same seed, same pages")
    twin.stop()
    t0 = time.time()
    mismatch.run(sb, binary, scale, "3", PfSandbox)
    print("selftest: mismatch switches done in %.1f s" % (time.time() - t0))
    sb.stop()
    for n in common.notes:
        print("NOTE:", n)
    print("selftest: %d checks passed" % common.checks)


if __name__ == "__main__":
    main()
