"""Posiflora order analytics (/v1/orders/analytics/*), checked against the orders
the self-test paged through itself: for every report and a set of filters, the rows
are exactly the orders the report covers and meta.analytic_header sums them
(docs/sandbox.md, "Order analytics": which orders each report covers and what each
header field sums are the sandbox's documented assumptions; the reference gives the
shape only). Standard library only."""

import re
import urllib.parse
from collections import defaultdict
from decimal import Decimal

from .common import check, dec

KINDS = ("shipment-revenue", "marginality", "bonuses-subtract", "bonuses-accrued", "total-discount",
         "returned")
REVENUE = {"new", "assembled", "courier", "done"}  # statuses that bring revenue
MONEY = re.compile(r"^-?\d+\.\d{2,4}$")
CENT = Decimal("0.01")


def included(details, oid, typ):
    return [i for i in details[oid].get("included", []) if i["type"] == typ]


def covers(kind, o, details):
    """Whether the report of kind is about order o (docs/sandbox.md)."""
    a = o["attributes"]
    if kind == "returned":
        return a["status"] == "returned"
    if kind == "bonuses-subtract":
        return any(dec(p["attributes"]["bonusAmount"]) > 0 for p in included(details, o["id"], "order-payments"))
    if kind == "bonuses-accrued":
        return a["status"] == "done" and o["relationships"]["customer"]["data"] is not None
    if kind == "total-discount":
        return any(dec(l["attributes"]["discountPrice"]) < dec(l["attributes"]["price"])
                   for l in included(details, o["id"], "order-lines"))
    return True


def expected_header(orders, details, off_id=None):
    """The header a report over exactly these orders must carry; off_id: the order
    amount-off counts 0.01 higher."""
    full = returned = bonuses = Decimal(0)
    for o in orders:
        a = o["attributes"]
        total = dec(a["totalAmount"]) + (CENT if o["id"] == off_id else 0)
        if a["status"] == "returned":
            full += total
            returned += total
        elif a["status"] in REVENUE:
            full += total
            if details is not None:
                bonuses += sum((dec(p["attributes"]["bonusAmount"])
                                for p in included(details, o["id"], "order-payments")
                                if p["attributes"]["paymentType"] == "payment"), Decimal(0))
    h = {"orders_count": len(orders), "fullRevenue": full, "returnedRevenue": returned, "revenue": full - returned}
    if details is not None:
        h["revenueBonuses"] = bonuses
    return h


def read_report(sb, kind, params=()):
    """Pages through one report (page[size]=100); returns (rows, header). Checks the
    shape of the OpenAPI example: meta.total and orders_count are integer strings,
    money decimal strings; the header is the same on every page."""
    query = urllib.parse.urlencode(list(params), safe="[]:,")
    rows, header, number = [], None, 1
    while True:
        doc = sb.api("/v1/orders/analytics/%s?%s%spage[size]=100&page[number]=%d"
                     % (kind, query, "&" if query else "", number))
        meta = doc["meta"]
        check(meta["page"] == {"number": number, "size": 100}, "analytics %s: meta.page echoes the page" % kind)
        h = meta["analytic_header"]
        check(isinstance(meta["total"], str) and meta["total"].isdigit(),
              "analytics %s: meta.total is an integer string, as in the reference example" % kind)
        check(sorted(h) == sorted(["orders_count", "fullRevenue", "returnedRevenue", "revenueBonuses", "revenue"]),
              "analytics %s: analytic_header has the five fields of the reference" % kind)
        check(h["orders_count"] == meta["total"], "analytics %s: orders_count = meta.total" % kind)
        for k in ("fullRevenue", "returnedRevenue", "revenueBonuses", "revenue"):
            check(isinstance(h[k], str) and MONEY.match(h[k]), "analytics %s: %s is a decimal string (%r)"
                  % (kind, k, h[k]))
        check(header is None or h == header, "analytics %s: the header is the same on every page" % kind)
        header = h
        if not doc["data"]:
            break
        rows.extend(doc["data"])
        number += 1
    check(len(rows) == int(header["orders_count"]), "analytics %s %s: read %d rows = meta.total %s"
          % (kind, query, len(rows), header["orders_count"]))
    check(len({r["id"] for r in rows}) == len(rows), "analytics %s: ids are unique" % kind)
    got = {"orders_count": int(header["orders_count"])}
    got.update({k: dec(header[k]) for k in ("fullRevenue", "returnedRevenue", "revenueBonuses", "revenue")})
    return rows, got


def check_report(sb, kind, params, orders, details, what, off_id=None):
    """One report with params equals the recomputation over `orders` (the orders the
    filters select, computed by the caller from the list)."""
    want_orders = [o for o in orders if covers(kind, o, details)]
    rows, got = read_report(sb, kind, params)
    check(sorted(r["id"] for r in rows) == sorted(o["id"] for o in want_orders),
          "analytics %s (%s): the rows are exactly the orders it covers (%d rows, %d expected)"
          % (kind, what, len(rows), len(want_orders)))
    by_id = {o["id"]: o for o in want_orders}
    check(all(r == by_id[r["id"]] for r in rows), "analytics %s (%s): rows render as in /v1/orders" % (kind, what))
    if kind == "shipment-revenue":
        query = urllib.parse.urlencode(list(params) + [("page[size]", "1")], safe="[]:,")
        listed = sb.api("/v1/orders?" + query)["meta"]["total"]
        check(listed == len(want_orders), "/v1/orders with the same filters (%s): meta.total %d = %d"
              % (what, listed, len(want_orders)))
    want = expected_header(want_orders, details, off_id)
    diff = {k: (got[k], v) for k, v in want.items() if got[k] != v}
    check(not diff, "analytics %s (%s): header equals the sums of its orders; differ (got, want) %s"
          % (kind, what, diff))
    return rows, got


def day_of(o):
    return o["attributes"]["date"]


def run(sb, orders, details):
    """Every report unfiltered, then shipment-revenue by day, store, status,
    customer, postedAt and withReturned; the errors; the stats name."""
    for kind in KINDS:
        check_report(sb, kind, (), orders, details, "all orders")
    days = sorted({day_of(o) for o in orders})
    for d in (days[0], days[len(days) // 2], days[-1]):
        sel = [o for o in orders if day_of(o) == d]
        params = (("filter[createdAt][from]", d), ("filter[createdAt][to]", d))
        check_report(sb, "shipment-revenue", params, sel, details, "day " + d)
        listed = sb.api("/v1/orders?filter[createdAt][from]=%s&filter[createdAt][to]=%s&page[size]=1" % (d, d))
        check(listed["meta"]["total"] == len(sel), "day %s: /v1/orders meta.total = the orders of that date" % d)
    stores = defaultdict(list)
    for o in orders:
        stores[o["relationships"]["store"]["data"]["id"]].append(o)
    for sid, sel in sorted(stores.items())[:3]:
        check_report(sb, "shipment-revenue", (("filter[stores][]", sid),), sel, details, "store " + sid)
    two = sorted(stores)[:2]
    check_report(sb, "shipment-revenue", (("filter[stores]", ",".join(two)),),
                 [o for o in orders if o["relationships"]["store"]["data"]["id"] in two], details, "two stores")
    check_report(sb, "shipment-revenue", (("filter[stores][]", "00000000-0000-4000-8000-000000000000"),), [],
                 details, "an unknown store")
    check_report(sb, "shipment-revenue", (("filter[statuses][]", "done"), ("filter[statuses][]", "canceled")),
                 [o for o in orders if o["attributes"]["status"] in ("done", "canceled")], details, "done+canceled")
    check_report(sb, "shipment-revenue", (("filter[withReturned]", "false"),),
                 [o for o in orders if o["attributes"]["status"] != "returned"], details, "withReturned=false")
    check_report(sb, "returned", (("filter[withReturned]", "0"),),
                 orders, details, "returned, withReturned=0")
    cust = next(o["relationships"]["customer"]["data"]["id"] for o in orders
                if o["relationships"]["customer"]["data"] is not None)
    check_report(sb, "shipment-revenue", (("filter[customer]", cust),),
                 [o for o in orders if (o["relationships"]["customer"]["data"] or {}).get("id") == cust],
                 details, "one customer")
    mid = days[len(days) // 2]
    posted = [o for o in orders if o["attributes"]["postedAt"] and o["attributes"]["postedAt"][:10] >= mid]
    check_report(sb, "shipment-revenue", (("filter[postedAt][from]", mid),), posted, details, "postedAt from " + mid)
    # errors, like the list's
    check(sb.api("/v1/orders/analytics/no-such-report", 404)["errors"][0]["status"] == "404", "unknown report: 404")
    doc = sb.api("/v1/orders/analytics/shipment-revenue?page[size]=101", 422)
    check(doc["errors"][0]["source"]["parameter"] == "page[size]", "analytics page[size]=101: 422")
    doc = sb.api("/v1/orders/analytics/returned?filter[createdAt][from]=yesterday", 422)
    check(doc["errors"][0]["source"]["parameter"] == "filter[createdAt][from]", "analytics bad date: 422")
    st, _, _ = sb.raw("GET", "/posiflora/api/v1/orders/analytics/returned", headers={"Authorization": "Bearer nope"})
    check(st == 401, "analytics needs the bearer token: 401")
    path = "/posiflora/api/v1/orders/analytics/returned?page[size]=1"
    auth = {"Authorization": "Bearer " + sb.token}
    sb.control("POST", "faults?malformed=orders_analytics")
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 200 and body.endswith(b"@"), "malformed=orders_analytics spoils the analytics answers")
    sb.control("POST", "faults?burst500=1")
    st, _, body = sb.raw("GET", path, headers=auth)
    check(st == 500 and b'"errors"' in body, "faults apply to the analytics: a 500 in JSON:API errors")
    sb.control("POST", "faults")
    check(sb.raw("GET", path, headers=auth)[0] == 200, "faults off: the analytics answer again")
    stats = dict(l.split("\t") for l in sb.control("GET", "stats").splitlines())
    check(int(stats.get("requests.orders_analytics", "0")) >= 20, "stats count requests.orders_analytics")
