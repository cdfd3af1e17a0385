"""The --mismatch switches (docs/sandbox.md, "Mismatch switches"), checked by
comparing a sandbox started with them against one started without them (same seed
and scale), as a client sees both: each vendor's hidden order is missing from every
list, total, detail and report and nothing else differs; the truth is the same
full data and names the order; the Posiflora analytics revenue is exactly 0.01
higher than the orders it covers where it covers the amount-off order; a restart
with the same switches serves the same data. Standard library only."""

from . import flowretail, flowwow, goflow
from .common import check, dec
from .pf_analytics import CENT, expected_header, read_report

SWITCHES = ("--mismatch", "hide-order=posiflora,flowwow", "--mismatch",
            "hide-order=goflow,amount-off=posiflora,hide-order=flowretail")
VENDORS = ("posiflora", "flowwow", "goflow", "flowretail")


def lines(sb):
    return sb.control("GET", "truth").splitlines()


def mismatch_lines(sb):
    return {l.split("\t")[1]: l.split("\t")[2] for l in lines(sb) if l.startswith("mismatch\t")}


def check_truth(plain, sw):
    """Full data on both: every line but the switches' own is identical."""
    on = ("hidden_order", "amount_off\t")
    p, s = lines(plain), lines(sw)
    check(not any(k in l for l in p for k in on), "without switches the truth names no hidden order")
    check([l for l in s if not any(k in l for k in on)] == p,
          "with the switches the truth is the same full data (only the mismatch lines added)")
    m = mismatch_lines(sw)
    for v in VENDORS:
        check(m.get(v + ".hidden_order") == m.get(v + ".median_order") is not None,
              "truth: %s.hidden_order is named and is the median order" % v)
    check(m.get("posiflora.amount_off") == "0.0100" and m.get("posiflora.amount_off_order"),
          "truth: amount_off 0.0100 and the amount_off_order are named")
    check(m["posiflora.amount_off_order"] != m["posiflora.hidden_order"], "amount-off picks another order")
    return m


def median_of(ids):
    ids = sorted(ids)
    return ids[(len(ids) - 1) // 2]


def check_posiflora(plain, sw, m):
    hid, off = m["posiflora.hidden_order"], m["posiflora.amount_off_order"]
    p_orders, _ = plain.read_all("/v1/orders", "?sort=updatedAt&")
    s_orders, _ = sw.read_all("/v1/orders", "?sort=updatedAt&")
    check(median_of(o["id"] for o in p_orders) == hid, "posiflora: the hidden order has the median id")
    check(s_orders == [o for o in p_orders if o["id"] != hid],
          "posiflora: the list under the switch is the plain list less the hidden order, page for page")
    plain.api("/v1/orders/%s" % hid)
    sw.api("/v1/orders/%s" % hid, 404)
    by_id = {o["id"]: o for o in p_orders}
    day = by_id[hid]["attributes"]["date"]
    window = "filter[createdAt][from]=%s&filter[createdAt][to]=%s&page[size]=100" % (day, day)
    p_day = plain.api("/v1/orders?" + window)
    s_day = sw.api("/v1/orders?" + window)
    check(s_day["meta"]["total"] == p_day["meta"]["total"] - 1 and
          hid not in {o["id"] for o in s_day["data"]}, "posiflora: the hidden order's day total is one less")
    # analytics: rows and header over the visible orders; revenue 0.01 up where the
    # amount-off order is covered, exact elsewhere
    rows, got = read_report(sw, "shipment-revenue")
    check(sorted(r["id"] for r in rows) == sorted(o["id"] for o in s_orders),
          "posiflora analytics: the hidden order is in no report row")
    exact = expected_header(s_orders, None)
    check(got["orders_count"] == exact["orders_count"] == len(p_orders) - 1, "posiflora analytics: the count "
          "misses the hidden order")
    check(by_id[off]["attributes"]["status"] in ("new", "assembled", "courier", "done"),
          "the amount-off order is a revenue order")
    check(got["revenue"] - exact["revenue"] == CENT and got["fullRevenue"] - exact["fullRevenue"] == CENT and
          got["returnedRevenue"] == exact["returnedRevenue"],
          "amount-off: revenue is exactly 0.01 higher than the orders it covers (got %s, sum %s)"
          % (got["revenue"], exact["revenue"]))
    _, p_got = read_report(plain, "shipment-revenue")
    want = expected_header(p_orders, None)
    check(all(p_got[k] == want[k] for k in want), "without switches the analytics header is exact")
    off_day = by_id[off]["attributes"]["date"]
    params = (("filter[createdAt][from]", off_day), ("filter[createdAt][to]", off_day))
    _, g = read_report(sw, "shipment-revenue", params)
    sel = [o for o in s_orders if o["attributes"]["date"] == off_day]
    check(g["revenue"] - expected_header(sel, None)["revenue"] == CENT,
          "amount-off: the day of that order is 0.01 up (%s)" % off_day)
    other = next(d for d in sorted({o["attributes"]["date"] for o in s_orders}) if d not in (off_day, day))
    params = (("filter[createdAt][from]", other), ("filter[createdAt][to]", other))
    _, g = read_report(sw, "shipment-revenue", params)
    sel = [o for o in s_orders if o["attributes"]["date"] == other]
    want = expected_header(sel, None)
    check(all(g[k] == want[k] for k in want), "amount-off: a day without that order is exact (%s)" % other)


def check_flowwow(plain, sw, m):
    hid = int(m["flowwow.hidden_order"])
    shops = flowwow.read_shops(plain)
    check(flowwow.read_shops(sw) == shops, "flowwow: the same shops")
    p_all, s_all = [], []
    for s in shops:
        p_all.extend(flowwow.read_orders(plain, s["shopId"]))
        s_all.extend(flowwow.read_orders(sw, s["shopId"]))
    check(median_of(o["id"] for o in p_all) == hid, "flowwow: the hidden order has the median id")
    check(s_all == [o for o in p_all if o["id"] != hid], "flowwow: every shop's list less the hidden order")
    o = next(o for o in p_all if o["id"] == hid)
    day = flowwow.msk_day(o["createdDate"])
    p_day = flowwow.read_orders(plain, o["shopId"], day)
    s_day = flowwow.read_orders(sw, o["shopId"], day)
    check(len(s_day) == len(p_day) - 1 and hid not in {x["id"] for x in s_day},
          "flowwow: its shop and day list (and its total) has one order less")


def check_goflow(plain, sw, m):
    hid = int(m["goflow.hidden_order"])
    p_orders = goflow.read_list(plain, "/orders")
    s_orders = goflow.read_list(sw, "/orders")
    check(median_of(o["id"] for o in p_orders) == hid, "goflow: the hidden order has the median id")
    check(s_orders == [o for o in p_orders if o["id"] != hid], "goflow: the orders pages less the hidden order")
    day = next(o["date"][:10] for o in p_orders if o["id"] == hid)
    query = "?" + goflow.q({"filters[date:gte]": day + "T00:00:00Z"})
    p_win = goflow.read_list(plain, "/orders" + query)
    s_win = goflow.read_list(sw, "/orders" + query)
    check(len(s_win) == len(p_win) - 1, "goflow: a filtered window holding it has one order less")


def check_flowretail(plain, sw, m):
    hid = m["flowretail.hidden_order"]
    p_prod = flowretail.read_list(plain, "/products", 50)
    s_prod = flowretail.read_list(sw, "/products", 50)
    check(hid in {p["productUid"] for p in p_prod}, "flowretail: the hidden product exists without the switch")
    check(s_prod == [p for p in p_prod if p["productUid"] != hid],
          "flowretail: the product list (and totalCount) less the hidden product")
    p_stock = flowretail.read_list(plain, "/products/stock", 20, "POST", {})
    s_stock = flowretail.read_list(sw, "/products/stock", 20, "POST", {})
    check(s_stock == [s for s in p_stock if s["productUid"] != hid], "flowretail: the stock list less it")
    st, _, _ = plain.http("GET", flowretail.url(plain, "/products/%s/packages/slots" % hid), headers=flowretail.AUTH)
    st2, _, _ = sw.http("GET", flowretail.url(sw, "/products/%s/packages/slots" % hid), headers=flowretail.AUTH)
    check(st == 200 and st2 == 404, "flowretail: its slots answer 404 under the switch (%s, %s)" % (st, st2))
    cats = flowretail.walk_categories(sw)
    check(hid not in str(cats), "flowretail: no category detail lists it")


def run(plain, binary, scale, seed, PfSandbox):
    """plain: a sandbox of the same seed and scale, at its initial data, logged in."""
    sw = PfSandbox(binary, "--scale", scale, "--seed", seed, *SWITCHES)
    sw.login()
    m = check_truth(plain, sw)
    check_posiflora(plain, sw, m)
    check_flowwow(plain, sw, m)
    check_goflow(plain, sw, m)
    check_flowretail(plain, sw, m)
    sw.control("POST", "reset")
    check(mismatch_lines(sw) == m, "reset keeps the switches (the truth still names the orders)")
    first = "/v1/orders?page[size]=1"
    check(sw.api(first)["meta"]["total"] == plain.api(first)["meta"]["total"] - 1,
          "reset keeps the switches (the order stays hidden)")
    twin = PfSandbox(binary, "--scale", scale, "--seed", seed, *SWITCHES)
    twin.login()
    check(lines(twin) == lines(sw), "a restart with the same switches: the same truth")
    page = "/v1/orders?page[size]=100&page[number]=2&sort=-modifiedAt"
    check(twin.api(page) == sw.api(page), "a restart with the same switches: the same pages")
    twin.stop()
    sw.stop()
