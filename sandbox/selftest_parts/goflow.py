"""Goflow: read every list the way shared/reference/goflow.md says a client must
(`{data, next}`, follow `next` as an opaque URL until it is null or empty, never
build page URLs), run the inventory counts and values reports (POST, poll, follow
file_url and its redirect without the token, gzip or plain, json, jsonl and csv),
recompute the truth with exact decimals and compare; then the incremental order
sync of shared/design/sources.md (status_updated_at watermark plus a re-scan by
date), the rate limits, the faults, reset and determinism."""

import csv
import io
import json
import time
import urllib.parse
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from .common import check, check_faults, compare_truth, dec, fmt4, gunzip_if, jload, retrying

TOKEN = "gf-demo-token"
AUTH = {"Authorization": "Bearer " + TOKEN}
COUNT_COLS = ["product_id", "warehouse_name", "on_hand", "available", "on_purchase_order"]
VALUE_COLS = ["product_id", "warehouse_name", "inventory_value_average", "available_value_average"]


def base(sb):
    return sb.url("/goflow/v1")


def get(sb, url):
    return sb.http("GET", url, headers=AUTH)


def origin(sb):
    """The sandbox's origin as its absolute links spell it."""
    return sb.url("").encode()


def read_list(sb, path, max_pages=10000):
    """Every record of a list, following `next`; checks the page shape, that `next`
    ends and never repeats, and that no id is served twice."""
    url = base(sb) + path
    out, seen_next = [], set()
    for _ in range(max_pages):
        st, hdrs, body = retrying(lambda: get(sb, url))
        check(st == 200, "GET %s answers 200 (got %s: %r)" % (url, st, body[:200]))
        doc = jload(body)
        check(isinstance(doc, dict) and isinstance(doc.get("data"), list) and "next" in doc,
              "%s: a page is {data: [...], next}" % path)
        out.extend(doc["data"])
        nxt = doc["next"]
        if nxt is None or nxt == "":
            break
        check(isinstance(nxt, str) and nxt not in seen_next, "%s: next is a new link each page" % path)
        check(doc["data"], "%s: a page with a next link is not empty" % path)
        seen_next.add(nxt)
        check(urllib.parse.urlsplit(nxt).scheme == "http",
              "%s: next is an absolute URL, to GET as-is (goflow.md 2)" % path)
        url = nxt
        check(urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(base(sb)).netloc,
              "%s: next stays on the API host" % path)
    else:
        check(False, "%s: next links end" % path)
    ids = [r["id"] for r in out]
    check(len(set(ids)) == len(ids), "%s: no id is served twice (%d records)" % (path, len(ids)))
    return out


def q(params):
    return urllib.parse.urlencode(params, safe="[]:")


# ---- reports ------------------------------------------------------------------------


def run_report(sb, kind, columns, fmt):
    """POST the generator, poll until completed, download file_url; answers
    (rows as dicts of strings, records_count)."""
    st, hdrs, body = sb.http("POST", base(sb) + "/reports/inventory/" + kind,
                             {"columns": columns, "format": fmt,
                              "order_by": [{"field": "product_id", "direction": "asc"}]}, AUTH)
    check(st == 202, "POST reports/inventory/%s answers 202 (got %s: %r)" % (kind, st, body[:200]))
    created = jload(body)
    check(isinstance(created.get("id"), int) and created.get("location"), "202 body is {id, location}")
    loc = created["location"]
    check(loc.startswith(base(sb) + "/"), "location is an absolute URL on the API host (goflow.md 1)")
    check(loc.endswith("/v1/reports/%d" % created["id"]), "location is /v1/reports/{id}")
    for _ in range(20):
        st, _, body = retrying(lambda: get(sb, loc))
        check(st == 200, "poll report answers 200 (got %s)" % st)
        rep = jload(body)
        check(rep["id"] == created["id"] and rep["status"] in ("queued", "processing", "completed", "error"),
              "report status is one of the documented four")
        check(rep["status"] == "error" or rep.get("error") is None, "error is null unless status error")
        if rep["status"] == "completed":
            break
        check(rep["completed"] is None, "completed is null until the report is done")
        check(rep["status"] != "error", "report fails: %r" % rep.get("error"))
    else:
        check(False, "report %s completes" % kind)
    done = rep["completed"]
    url = urllib.parse.urljoin(loc, done["file_url"])
    api_host = urllib.parse.urlsplit(base(sb)).netloc
    for _ in range(5):
        # The token goes only to the API host; a CDN host gets none (goflow.md 3).
        same = urllib.parse.urlsplit(url).netloc == api_host
        st, hdrs, data = sb.http("GET", url, headers=AUTH if same else {})
        if st in (301, 302, 303, 307, 308):
            url = urllib.parse.urljoin(url, hdrs["location"])
            continue
        break
    check(st == 200, "report file downloads (got %s: %r)" % (st, data[:200]))
    text = gunzip_if(data).decode("utf-8")
    if fmt == "json":
        rows = json.loads(text, parse_float=str, parse_int=str)
        check(isinstance(rows, list), "a json report file is an array of rows")
    elif fmt == "jsonl":
        rows = [json.loads(l, parse_float=str, parse_int=str) for l in text.splitlines() if l.strip()]
    else:
        rd = csv.reader(io.StringIO(text, newline=""))
        head = next(rd)
        check(head == columns, "csv header is the columns asked for (%s)" % head)
        rows = [dict(zip(head, r)) for r in rd]
    for r in rows:
        check(sorted(r) == sorted(columns), "a row has exactly the columns asked for")
    check(len(rows) == done["records_count"], "%s %s: rows %d = records_count %d"
          % (kind, fmt, len(rows), done["records_count"]))
    return [{k: str(v) for k, v in r.items()} for r in rows]


def read_inventory(sb):
    """Counts as json, jsonl and csv (the same rows), and values as json."""
    counts = run_report(sb, "counts", COUNT_COLS, "json")
    key = lambda r: (r["product_id"], r["warehouse_name"])
    for fmt in ("csv", "jsonl"):
        other = run_report(sb, "counts", COUNT_COLS, fmt)
        check(sorted(other, key=key) == sorted(counts, key=key), "counts report: %s rows = json rows" % fmt)
    check(len({key(r) for r in counts}) == len(counts), "counts report: one row per product x warehouse")
    values = run_report(sb, "values", VALUE_COLS, "json")
    check({key(r) for r in values} == {key(r) for r in counts}, "values report: the counts report's rows")
    return counts, values


# ---- truth --------------------------------------------------------------------------


def line_total(line):
    """price x quantity less the discounts (negative amounts; sources.md)."""
    qty = dec(line["quantity"]["amount"])
    total = Decimal(0)
    for c in line["charges"]:
        check(c["type"] in ("price", "discount"), "line charge types are price and discount: %s" % c["type"])
        if c["type"] == "price":
            total += dec(c["amount"]) * qty
        else:
            total -= abs(dec(c["amount"]))
    return total


def check_order(o):
    """An order adds up: lines to the subtotal, subtotal + order charges + taxes to the
    total; currencies are lower-case."""
    sub = sum((line_total(l) for l in o["lines"]), Decimal(0))
    check(dec(o["summary"]["subtotal"]["amount"]) == sub, "order %s: lines add up to subtotal" % o["id"])
    extra = sum((dec(c["amount"]) for c in o["charges"]), Decimal(0))
    taxes = sum((dec(t["amount"]) for t in o["taxes"]), Decimal(0))
    taxes += sum((dec(t["amount"]) for l in o["lines"] for t in l["taxes"]), Decimal(0))
    check(dec(o["summary"]["total"]["amount"]) == sub + extra + taxes,
          "order %s: subtotal + charges + taxes = total" % o["id"])
    code = o["summary"]["total"]["currency"]["code"]
    check(code == code.lower(), "currency codes are lower-case")


def truth_from_api(stores, warehouses, products, orders, counts, values):
    m = {"stores.count": len(stores), "warehouses.count": len(warehouses), "products.count": len(products),
         "components.count": sum(len(p.get("children") or []) for p in products
                                 if p["type"] in ("kit", "group"))}
    cnt, sums = defaultdict(int), defaultdict(Decimal)
    groups = {"shipped": "completed", "canceled": "canceled"}
    for g in ("open", "completed", "canceled"):
        cnt["orders.status_group." + g] += 0
    sums["orders.total"] += 0
    for k in ("order_lines.quantity", "order_lines.line_total"):
        sums[k] += 0
    cnt["order_lines.count"] += 0
    for o in orders:
        check_order(o)
        total = dec(o["summary"]["total"]["amount"])
        day = o["date"][:10]
        check(o["date"].endswith("Z"), "order dates are UTC")
        cnt["orders.count"] += 1
        sums["orders.total"] += total
        cnt["orders.status_group." + groups.get(o["status"], "open")] += 1
        cnt["day.%s.orders" % day] += 1
        sums["day.%s.total" % day] += total
        for l in o["lines"]:
            cnt["order_lines.count"] += 1
            sums["order_lines.quantity"] += dec(l["quantity"]["amount"])
            sums["order_lines.line_total"] += line_total(l)
    cnt["inventory.rows"] = len(counts)
    for col, metric in (("on_hand", "on_hand"), ("available", "available"), ("on_purchase_order", "on_order")):
        sums["inventory." + metric] = sum((Decimal(r[col]) for r in counts), Decimal(0))
    sums["inventory.value"] = sum((Decimal(r["inventory_value_average"]) for r in values), Decimal(0))
    m.update(cnt)
    out = {k: str(v) for k, v in m.items()}
    out.update({k: fmt4(v) for k, v in sums.items()})
    return out


def read_everything(sb):
    stores = read_list(sb, "/stores")
    warehouses = read_list(sb, "/warehouses")
    products = read_list(sb, "/products")
    ids = {p["id"] for p in products}
    for p in products:
        for c in p.get("children") or []:
            check(c["product_id"] in ids, "a kit's child is a product served")
    orders = read_list(sb, "/orders")
    store_ids, wh_ids = {s["id"] for s in stores}, {w["id"] for w in warehouses}
    for o in orders:
        check(o["store"]["id"] in store_ids and o["warehouse"]["id"] in wh_ids, "orders point at served stores")
        check(all(l["product"]["id"] in ids for l in o["lines"]), "order lines point at served products")
    return stores, warehouses, products, orders


# ---- checks -------------------------------------------------------------------------


def set_control(sb, spec):
    st, _, body = sb.http("POST", sb.url("/goflow/_control?" + spec), headers=AUTH)
    check(st == 200, "goflow _control %s answers 200 (got %s)" % (spec, st))
    return dict(l.split("\t") for l in body.decode().splitlines())


def test_limits(sb):
    """The documented limits: 6 reports an hour per generator, 60 list requests a
    minute; a 429 carries Retry-After and retry_after_seconds (fractional), and the
    request succeeds once Retry-After has passed."""
    run_report(sb, "counts", COUNT_COLS, "json")
    st, hdrs, body = sb.http("POST", base(sb) + "/reports/inventory/counts",
                             {"columns": COUNT_COLS, "format": "json"}, AUTH)
    check(st == 429, "a second counts report at once is over 6/hour: 429 (got %s)" % st)
    doc = jload(body)
    secs = doc.get("retry_after_seconds")
    check(isinstance(secs, Decimal) and "message" in doc, "429 body {message, retry_after_seconds}")
    check(int(hdrs["retry-after"]) >= secs > 60, "6/hour: Retry-After %s covers retry_after_seconds %s (minutes)"
          % (hdrs["retry-after"], secs))
    ctl = set_control(sb, "list_per_min=60")
    check(ctl["reports.created.counts"] == "1", "the refused report was not created")
    statuses = []
    for _ in range(12):  # a bucket of a sixth of 60, then 429: stop at the first one
        st, hdrs, body = get(sb, base(sb) + "/stores")
        statuses.append(st)
        if st != 200:
            break
    check(statuses[0] == 200 and statuses[-1] == 429, "60/min: a burst of list requests ends in 429 (%s)"
          % statuses)
    secs = jload(body)["retry_after_seconds"]
    check(0 < secs <= int(hdrs["retry-after"]) <= secs + 1, "Retry-After is retry_after_seconds rounded up")
    time.sleep(int(hdrs["retry-after"]))
    check(get(sb, base(sb) + "/stores")[0] == 200, "after Retry-After the list answers")
    ctl = set_control(sb, "reports_per_hour=600&list_per_min=6000")
    check(ctl["limits.early_retries"] == "0", "the self-check never retried before Retry-After")


def test_incremental(sb, before, steps):
    """sources.md's order sync: status_updated_at >= watermark plus a re-scan of the
    last 7 days by date, merged over the old read, equals a full re-read."""
    stores, warehouses, products, orders = before
    clock0 = sb.clock()
    changes = {k: int(v) for k, v in sb.advance(steps).items() if k.startswith("changes.goflow")}
    check(changes["changes.goflow_orders_created"] > 0 and changes["changes.goflow_orders_status_changed"] > 0
          and changes["changes.goflow_orders_edited"] > 0 and changes["changes.goflow_orders_split"] > 0,
          "goflow advance creates, moves, edits and splits orders (%s)" % changes)
    wm = clock0.replace("Z", ".0000000Z")
    by_status = read_list(sb, "/orders?" + q({"filters[status_updated_at:gte]": wm, "sort": "status_updated_at",
                                               "sort_direction": "asc"}))
    keys = [(o["status_updated_at"], o["id"]) for o in by_status]
    check(keys == sorted(keys), "sort=status_updated_at asc is ordered, ties by id")
    day0 = (datetime.strptime(clock0[:10], "%Y-%m-%d") - timedelta(days=7)).strftime("%Y-%m-%dT00:00:00Z")
    rescan = read_list(sb, "/orders?" + q({"filters[date:gte]": day0}))
    after = read_list(sb, "/orders")
    check({o["id"] for o in by_status} == {o["id"] for o in after if o["status_updated_at"] >= wm},
          "filters[status_updated_at:gte] returns exactly the orders at or after it")
    check({o["id"] for o in rescan} == {o["id"] for o in after if o["date"] >= day0},
          "filters[date:gte] returns exactly the orders at or after it")
    old = {o["id"]: o for o in orders}
    new = {o["id"]: o for o in after}
    created = set(new) - set(old)
    gone = set(old) - set(new)
    moved = {i for i in set(new) & set(old) if new[i]["status"] != old[i]["status"]}
    edited = {i for i in set(new) & set(old) if new[i] != old[i]} - moved
    split = changes["changes.goflow_orders_split"]
    check(len(gone) == split and len(created) == changes["changes.goflow_orders_created"] + 2 * split,
          "orders gone = splits, new = created + 2 x splits (%d, %d)" % (len(gone), len(created)))
    check({new[i]["original_order_id"] for i in created if new[i]["original_order_id"]} == gone,
          "the split pieces name the originals that are gone")
    # The same order may be picked twice (or edited and moved), so at most the counts.
    check(1 <= len(moved) <= changes["changes.goflow_orders_status_changed"], "status changes counted")
    check(1 <= len(edited) <= changes["changes.goflow_orders_edited"], "edits counted (%d)" % len(edited))
    check(all(new[i]["status_updated_at"] == old[i]["status_updated_at"] for i in edited),
          "an edit keeps status_updated_at")
    merged = dict(old)
    for o in by_status + rescan:
        merged[o["id"]] = o
    for o in list(merged.values()):
        if o["original_order_id"]:
            merged.pop(o["original_order_id"], None)
    check(merged == new, "watermark + re-scan merged over the old read = a full re-read")
    counts, values = read_inventory(sb)
    compare_truth(sb, "goflow", truth_from_api(stores, warehouses, products, after, counts, values),
                  "after advance")


def test_hostile_next(sb):
    st, _, _ = sb.raw("POST", "/_sandbox/hostile?foreign_next=goflow_orders")
    check(st == 200, "hostile foreign_next set")
    doc = jload(get(sb, base(sb) + "/orders")[2])
    check(urllib.parse.urlsplit(doc["next"]).netloc != urllib.parse.urlsplit(base(sb)).netloc,
          "foreign_next: the next link names another host")
    sb.control("POST", "hostile")


def run(sb, binary, scale, Sandbox):
    st, _, body = sb.http("GET", base(sb) + "/stores", headers={"Authorization": "Bearer nope"})
    check(st == 401 and "message" in jload(body), "goflow: a wrong token is a 401 {message}")
    test_limits(sb)
    data = read_everything(sb)
    counts, values = read_inventory(sb)
    compare_truth(sb, "goflow", truth_from_api(*data, counts, values), "initial data")
    ctl = set_control(sb, "report_polls=1")
    check(ctl["files.with_authorization"] == "0", "the token never went to the file host")
    check(int(ctl["files.served"]) >= 4 and int(ctl["files.redirected"]) >= 4, "files came through the redirect")
    check_faults_goflow(sb)
    test_hostile_next(sb)
    first = get(sb, base(sb) + "/orders?" + q({"sort": "date", "sort_direction": "desc"}))[2]
    test_incremental(sb, data, 24)
    sb.control("POST", "reset")
    set_control(sb, "reports_per_hour=600&list_per_min=6000")
    check(get(sb, base(sb) + "/orders?" + q({"sort": "date", "sort_direction": "desc"}))[2] == first,
          "goflow: reset serves the first page again, byte for byte")
    twin = Sandbox(binary, "--scale", scale, "--seed", "3")
    for path in ("/orders", "/products", "/orders?" + q({"sort": "date", "sort_direction": "desc"})):
        a, b = get(sb, base(sb) + path), twin.http("GET", twin.url("/goflow/v1" + path), headers=AUTH)
        # `next` links are absolute, on each sandbox's own port: compare without it
        same = a[2].replace(origin(sb), b"ORIGIN") == b[2].replace(origin(twin), b"ORIGIN")
        check(a[0] == 200 and same, "goflow: same seed, same bytes for %s" % path)
    twin.stop()


def check_faults_goflow(sb):
    check_faults(sb, "goflow orders", lambda: get(sb, base(sb) + "/orders"),
                 lambda st, b: st == 200 and b'"data":[' in b)
