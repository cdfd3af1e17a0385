"""Flowwow: read the shops (once per status, page from 0, limit <= 50), each shop's
products (page from 0, limit <= 1000) and orders (orders/list per shop and Moscow
day, page from 1, limit <= 100) as shared/reference/flowwow-flowretail.md (A2, A4,
A6) and shared/design/sources.md say; stop when the rows reach `total` or a page
is short. Recompute the truth with exact decimals and compare; then the re-scan of
the last 14 days after advance, the ping simulations, the faults, reset and
determinism."""

import urllib.parse
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .common import check, check_faults, compare_truth, dec, fmt4, jload, retrying

AUTH = {"Authorization": "Bearer demo-flowwow-token"}
MSK = timezone(timedelta(hours=3))
STATUSES = ("active", "moderation", "disabled")


def api(sb, path):
    return sb.url("/flowwow/apiseller" + path)


def page_through(sb, what, fetch, key, limit, first):
    """Pages of {key: [...], total}: from page `first` until the rows reach total
    or a page is short; total must not change and no id repeat."""
    out, total, page = [], None, first
    while True:
        st, _, body = retrying(lambda: fetch(page))
        check(st == 200, "%s page %d answers 200 (got %s: %r)" % (what, page, st, body[:200]))
        doc = jload(body)
        check(isinstance(doc.get(key), list) and isinstance(doc.get("total"), int),
              "%s: a page is {%s: [...], total}" % (what, key))
        check(total is None or doc["total"] == total, "%s: total does not change between pages" % what)
        total = doc["total"]
        check(len(doc[key]) <= limit, "%s: a page holds at most limit rows" % what)
        out.extend(doc[key])
        if len(out) >= total or len(doc[key]) < limit:
            break
        page += 1
    check(len(out) == total, "%s: read %d rows = total %d" % (what, len(out), total))
    return out


def read_shops(sb, limit=50):
    shops = []
    for status in STATUSES:
        got = page_through(sb, "shops " + status, lambda p: sb.http(
            "POST", api(sb, "/shops"), {"status": status, "page": p, "limit": limit}, AUTH), "shops", limit, 0)
        check(all(s["status"] == status for s in got), "shops of status %s have it" % status)
        shops.extend(got)
    ids = [s["shopId"] for s in shops]
    check(len(set(ids)) == len(ids), "a shop is listed under one status only")
    return shops


def read_products(sb, shop, limit=1000):
    got = page_through(sb, "products of %s" % shop, lambda p: sb.http(
        "POST", api(sb, "/products?shopId=%d" % shop), {"page": p, "limit": limit}, AUTH), "items", limit, 0)
    ids = [p["productId"] for p in got]
    check(len(set(ids)) == len(ids), "products of %s: no id twice" % shop)
    for p in got:
        check(p["price"].count(".") <= 1 and dec(p["price"]) >= 0 and p["discount"].isdigit(),
              "price is a decimal string, discount a percent string")
    return got


def read_orders(sb, shop, day=None):
    params = {"shopId": shop, "limit": 100}
    if day:
        params["createdDate"] = day

    def fetch(page):
        return sb.http("GET", api(sb, "/orders/list?" + urllib.parse.urlencode(dict(params, page=page))),
                       headers=AUTH)
    got = page_through(sb, "orders of %s on %s" % (shop, day or "every day"), fetch, "items", 100, 1)
    ids = [o["id"] for o in got]
    check(len(set(ids)) == len(ids), "orders of %s: no id twice" % shop)
    for o in got:
        check(o["shopId"] == shop, "an order of shop %s says so" % shop)
        if day:
            check(msk_day(o["createdDate"]) == day, "createdDate=%s returns orders of that Moscow day" % day)
    return got


def msk_day(unix):
    return datetime.fromtimestamp(unix, MSK).strftime("%Y-%m-%d")


def days_back(clock, n):
    end = datetime.strptime(clock, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).astimezone(MSK).date()
    return [(end - timedelta(days=i)).isoformat() for i in range(n, -1, -1)]


def phone_key(phone):
    """The four spellings of one Russian phone (+7..., 8..., 7 ... ...) as one key."""
    d = "".join(c for c in phone if c.isdigit())
    if len(d) == 11 and d[0] == "8":
        d = "7" + d[1:]
    elif len(d) == 10:
        d = "7" + d
    return d


def check_line(l):
    """sum = count x cost less the discount percent, to the kopeck (the sandbox's
    reading of the disputed line money; docs/sandbox.md)."""
    want = dec(l["count"]) * dec(l["cost"]) * (100 - int(l["discount"])) / 100
    check(abs(dec(l["sum"]) - want) < Decimal("0.01"), "line sum %s = count x cost less discount" % l["sum"])


def truth_from_api(shops, products, orders):
    cnt, sums = defaultdict(int), defaultdict(Decimal)
    cnt["stores.count"] = len(shops)
    cnt["products.count"] = cnt["inventory.count"] = len(products)
    sums["inventory.on_hand"] = sum((Decimal(p["stock"]) for p in products), Decimal(0))
    sums["inventory.available"] = sum((Decimal(p["available"]) for p in products), Decimal(0))
    phones = set()
    for g in ("open", "completed", "canceled", "returned"):
        cnt["orders.status_group." + g] += 0
    for k in ("orders.count", "orders.no_customer", "order_lines.count"):
        cnt[k] += 0
    for k in ("orders.total", "order_lines.quantity", "order_lines.line_total"):
        sums[k] += 0
    for s in shops:
        cnt["store.%d.orders" % s["shopId"]] += 0
        sums["store.%d.total" % s["shopId"]] += 0
    for o in orders:
        total = Decimal(0)
        for l in o["products"]:
            check_line(l)
            cnt["order_lines.count"] += 1
            sums["order_lines.quantity"] += dec(l["count"])
            sums["order_lines.line_total"] += dec(l["sum"])
            total += dec(l["sum"])
        cnt["orders.count"] += 1
        sums["orders.total"] += total
        cnt["orders.status_group." + ("completed" if o["status"] == 3 else "open")] += 1
        user = o.get("user")
        if not user or not user.get("phone"):
            cnt["orders.no_customer"] += 1
        else:
            phones.add(phone_key(user["phone"]))
        day = msk_day(o["createdDate"])
        cnt["day.%s.orders" % day] += 1
        sums["day.%s.total" % day] += total
        cnt["store.%d.orders" % o["shopId"]] += 1
        sums["store.%d.total" % o["shopId"]] += total
    cnt["customers.count"] = len(phones)
    out = {k: str(v) for k, v in cnt.items()}
    out.update({k: fmt4(v) for k, v in sums.items()})
    return out


def read_everything(sb, by_day=True):
    shops = read_shops(sb)
    products, orders = [], []
    days = days_back(sb.clock(), 62)
    for s in shops:
        products.extend(read_products(sb, s["shopId"]))
        every = read_orders(sb, s["shopId"])
        if by_day:
            per_day = [o for d in days for o in read_orders(sb, s["shopId"], d)]
            check(sorted(per_day, key=lambda o: o["id"]) == sorted(every, key=lambda o: o["id"]),
                  "shop %d: the per-day reads of 63 days hold exactly the orders of every day" % s["shopId"])
        orders.extend(every)
    ids = [p["productId"] for p in products]
    check(len(set(ids)) == len(ids), "a product belongs to one shop")
    return shops, products, orders


def test_shapes(sb):
    st, _, body = sb.http("GET", api(sb, "/ping/check?say=hello"))
    check(st == 200 and jload(body) == {"say": "hello"}, "ping say=hello, no token: {say: hello}")
    for say, status in (("error400", 400), ("error401", 401), ("error404", 404), ("error429", 429),
                        ("error500", 500)):
        st, _, body = sb.http("GET", api(sb, "/ping/check?say=" + say))
        check(st == status and "message" in jload(body), "ping say=%s simulates a %d {message} (got %s)"
              % (say, status, st))
    st, _, body = sb.http("POST", api(sb, "/shops"), {"status": "active"}, {"Authorization": "Bearer x"})
    check(st == 401 and jload(body)["message"] == "Missing or invalid token", "wrong token: the docs' 401")
    st, _, body = sb.http("POST", api(sb, "/shops"), {"status": "active", "limit": 51}, AUTH)
    check(st == 400 and jload(body)["fields"][0]["path"] == "limit", "shops limit 51: 400 naming limit")
    st, _, body = sb.http("POST", api(sb, "/products?shopId=1001"), {"limit": 1001}, AUTH)
    check(st == 400, "products limit 1001: 400")
    st, _, body = sb.http("GET", api(sb, "/orders/list?shopId=1001&limit=101"), headers=AUTH)
    check(st == 400, "orders limit 101: 400")
    shops = read_shops(sb)
    check(read_shops(sb, 1) == shops, "shops read one a page = shops read 50 a page")
    sid = shops[0]["shopId"]
    check(read_products(sb, sid, 7) == read_products(sb, sid), "products read 7 a page = 1000 a page")
    one = lambda p: jload(sb.http("GET", api(sb, "/orders/list?shopId=%d&limit=5&page=%d" % (sid, p)),
                                  headers=AUTH)[2])["items"]
    check(one(1) != one(2), "orders/list: page 2 is not page 1 (pages from 1)")


def test_unfiltered(sb):
    """orders/list without createdDate: the shop's whole list by id (ascending), paged
    from 1 with `total`, the same however it is cut into pages; the quirks that make
    flowetl's paging probe fail: /q/unsorted (not in id order without createdDate,
    by id with it) and /q/no-total (no `total`)."""
    def whole(prefix, limit, day=None):
        q = "/orders/list?shopId=1001&limit=%d" % limit + ("&createdDate=" + day if day else "")
        out, page = [], 1
        while True:
            st, _, body = sb.http("GET", sb.url("/flowwow" + prefix + "/apiseller" + q + "&page=%d" % page),
                                  headers=AUTH)
            check(st == 200, "orders/list%s page %d answers 200" % (prefix, page))
            doc = jload(body)
            out.append(doc)
            if len(doc["items"]) < limit:
                return out
            page += 1
    pages = whole("", 100)
    ids = [o["id"] for d in pages for o in d["items"]]
    check(len(pages) >= 2 and ids == sorted(set(ids)) and all(d["total"] == len(ids) for d in pages),
          "orders/list of every day: %d pages of ids ascending, total %d on each" % (len(pages), len(ids)))
    check([o["id"] for d in whole("", 7) for o in d["items"]] == ids, "pages of 7 = pages of 100")
    loose = [o["id"] for d in whole("/q/unsorted", 100) for o in d["items"]]
    check(sorted(loose) == ids and loose != ids, "/q/unsorted: the same orders, not in id order")
    day = [o["id"] for d in whole("/q/unsorted", 100, "2025-12-31") for o in d["items"]]
    check(day == sorted(day), "/q/unsorted: a day's list stays in id order")
    check(all("total" not in d for d in whole("/q/no-total", 100)), "/q/no-total: no `total`")


def test_incremental(sb, before, steps):
    shops, products, orders = before
    clock0 = sb.clock()
    ch = {k: int(v) for k, v in sb.advance(steps).items() if k.startswith("changes.flowwow")}
    check(ch["changes.flowwow_orders_created"] > 0 and ch["changes.flowwow_orders_status_changed"] > 0,
          "flowwow advance creates and moves orders (%s)" % ch)
    clock = sb.clock()
    shops2, products2, after = read_everything(sb, by_day=False)
    merged = {o["id"]: o for o in orders}
    for s in shops2:  # sources.md: re-scan the last rescan_days (14) by createdDate
        for d in days_back(clock, 14):
            for o in read_orders(sb, s["shopId"], d):
                merged[o["id"]] = o
    new = {o["id"]: o for o in after}
    check(merged == new, "the 14-day re-scan merged over the old read = a full re-read")
    old = {o["id"]: o for o in orders}
    created = set(new) - set(old)
    check(not set(old) - set(new), "no order disappears")
    check(len(created) == ch["changes.flowwow_orders_created"], "new orders = orders_created")
    check(all(new[i]["createdDate"] >= int(datetime.strptime(clock0, "%Y-%m-%dT%H:%M:%SZ")
                                            .replace(tzinfo=timezone.utc).timestamp()) for i in created),
          "new orders are created after the old clock")
    moved = {i for i in set(old) & set(new) if old[i]["status"] != new[i]["status"]}
    check(1 <= len(moved) <= ch["changes.flowwow_orders_status_changed"], "status changes counted")
    p0, p1 = {p["productId"] for p in products}, {p["productId"] for p in products2}
    # A product created and removed within the steps shows in neither set.
    both = ch["changes.flowwow_products_created"] - len(p1 - p0)
    check(len(p1 - p0) > 0 and len(p0 - p1) > 0 and both >= 0 and
          ch["changes.flowwow_products_deleted"] - len(p0 - p1) == both,
          "products added and removed as counted (%d, %d; %s)" % (len(p1 - p0), len(p0 - p1), ch))
    compare_truth(sb, "flowwow", truth_from_api(shops2, products2, after), "after advance")


def run(sb, binary, scale, Sandbox):
    test_shapes(sb)
    test_unfiltered(sb)
    data = read_everything(sb)
    compare_truth(sb, "flowwow", truth_from_api(*data), "initial data")
    products = lambda: sb.http("POST", api(sb, "/products?shopId=1001"), {"page": 0, "limit": 1000}, AUTH)
    check_faults(sb, "flowwow products", products, lambda st, b: st == 200 and b'"items":[' in b)
    first = products()[2]
    test_incremental(sb, data, 24)
    sb.control("POST", "reset")
    check(products()[2] == first, "flowwow: reset serves the products again, byte for byte")
    twin = Sandbox(binary, "--scale", scale, "--seed", "3")
    for path in ("/orders/list?shopId=1001&limit=100&page=2", "/orders/list?shopId=1018&createdDate=2025-12-30"):
        a, b = sb.http("GET", api(sb, path), headers=AUTH), twin.http(
            "GET", twin.url("/flowwow/apiseller" + path), headers=AUTH)
        check(a[0] == 200 and a[2] == b[2], "flowwow: same seed, same bytes for %s" % path)
    b = twin.http("POST", twin.url("/flowwow/apiseller/products?shopId=1001"), {"page": 0, "limit": 1000}, AUTH)
    check(b[2] == first, "flowwow: same seed, same products")
    twin.stop()
