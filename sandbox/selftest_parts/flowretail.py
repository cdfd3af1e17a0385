"""Flow Retail: read the tenant, the category tree (root list, then each category
by uid, recursing through its child stubs, once per store for the store prices and
stock), the products, each package's slots and the stock, paging with pageNumber
(from 1) and pageSize until the rows reach paging.totalCount
(shared/reference/flowwow-flowretail.md B2-B8, shared/design/sources.md); amounts
are integer minor units and quantities hundredths. Recompute the truth with exact
decimals and compare; then the lastModifiedAt DESC read after advance, the
demo-major tenant, the faults, reset and determinism."""

from collections import defaultdict
from decimal import Decimal

from .common import check, check_faults, compare_truth, fmt4, jload, retrying

AUTH = {"Authorization": "Bearer demo-flowretail-token"}
HUNDRED = Decimal(100)
TYPES = {"STOCK": "standard", "PACKAGE": "bundle", "SERVICE": "service"}


def url(sb, path, tenant="demo"):
    return sb.url("/flowretail/v2/tenants/" + tenant + path)


def read_list(sb, path, size, method="GET", body=None, tenant="demo"):
    """Every item of a paged list; checks paging echoes the request, totalCount does
    not change, no page past the rows is needed and the count matches."""
    out, total, number = [], None, 1
    sep = "&" if "?" in path else "?"
    while True:
        u = url(sb, "%s%spageNumber=%d&pageSize=%d" % (path, sep, number, size), tenant)
        st, _, raw = retrying(lambda: sb.http(method, u, body, AUTH))
        check(st == 200, "%s %s answers 200 (got %s: %r)" % (method, u, st, raw[:200]))
        doc = jload(raw)
        check(isinstance(doc.get("items"), list) and isinstance(doc.get("paging"), dict),
              "%s: a page is {items, paging}" % path)
        pg = doc["paging"]
        check(pg["pageNumber"] == number and pg["pageSize"] == size, "%s: paging echoes the page" % path)
        check(total is None or pg["totalCount"] == total, "%s: totalCount does not change" % path)
        total = pg["totalCount"]
        check(len(doc["items"]) <= size, "%s: at most pageSize items" % path)
        out.extend(doc["items"])
        if not doc["items"] or len(out) >= total:
            break
        number += 1
    check(len(out) == total, "%s: read %d items = totalCount %d" % (path, len(out), total))
    return out


def get(sb, path, tenant="demo"):
    st, _, raw = retrying(lambda: sb.http("GET", url(sb, path, tenant), headers=AUTH))
    check(st == 200, "GET %s answers 200 (got %s)" % (path, st))
    return jload(raw)


def walk_categories(sb, store=None):
    """uid -> category with its products, from the roots down through child stubs."""
    roots = read_list(sb, "/categories", 2)
    check(all(r["parentUid"] is None for r in roots), "the category list holds roots")
    seen, todo = {}, [r["categoryUid"] for r in roots]
    while todo:
        uid = todo.pop()
        check(uid not in seen, "category %s is reached once (a tree)" % uid)
        c = get(sb, "/categories/" + uid + ("?storeUid=" + store if store else ""))
        check(c["categoryUid"] == uid and isinstance(c["products"], list), "a category is itself with products")
        seen[uid] = c
        for child in c["categories"]:
            todo.append(child["categoryUid"])
    for c in seen.values():
        for child in c["categories"]:
            check(seen[child["categoryUid"]]["parentUid"] == c["categoryUid"], "a child names its parent")
    return seen


def store_stock(cats):
    """Per store, from the category products' storeProductDetails: live STOCK
    products, each once (a product sits in one or two categories)."""
    prods = {}
    for c in cats.values():
        for p in c["products"]:
            if p["productUid"] in prods:
                check(prods[p["productUid"]] == p, "a product is the same in each of its categories")
            prods[p["productUid"]] = p
    on_hand = sum((Decimal(p["storeProductDetails"]["quantityStock"]) for p in prods.values()
                   if p["productType"] == "STOCK"), Decimal(0))
    avail = sum((Decimal(p["storeProductDetails"]["quantityStock"] - p["storeProductDetails"]["quantityReserved"])
                 for p in prods.values() if p["productType"] == "STOCK"), Decimal(0))
    return prods, on_hand / HUNDRED, avail / HUNDRED


def read_everything(sb):
    tenant = get(sb, "")
    check(tenant["currency"]["code"] == "NOK" and tenant["timezone"], "the tenant has currency and timezone")
    products = read_list(sb, "/products", 50)
    uids = [p["productUid"] for p in products]
    check(len(set(uids)) == len(uids), "products: no uid twice")
    check(read_list(sb, "/products", 1000) == products, "products 1000 a page = 50 a page")
    stock = read_list(sb, "/products/stock", 20, "POST", {})
    check(len({s["productUid"] for s in stock}) == len(stock), "stock: no product twice")
    stores = sorted({d["storeUid"] for s in stock for d in s["warehouseStockDetails"]})
    check(len(stores) >= 1, "the stock names the stores")
    plain = walk_categories(sb)
    per_store = {st: walk_categories(sb, st) for st in stores}
    slots = {}
    for p in products:
        if p["productType"] == "PACKAGE" and not p.get("excludeFromStatistics"):
            slots[p["productUid"]] = read_list(sb, "/products/%s/packages/slots" % p["productUid"], 2)
    return products, stock, plain, per_store, slots


def truth_from_api(products, stock, plain, per_store, slots):
    live = [p for p in products if not p.get("excludeFromStatistics")]
    by_uid = {p["productUid"]: p for p in products}
    m = {"categories.count": str(len(plain)), "products.count": str(len(live)),
         "products.list_price": fmt4(sum((Decimal(p["recommendedRetailPrice"]) for p in live), Decimal(0)) / HUNDRED)}
    for t in TYPES.values():
        m["products.type." + t] = str(sum(1 for p in live if TYPES[p["productType"]] == t))
    comps = [c for ss in slots.values() for s in ss for c in s["components"]]
    for c in comps:
        check(by_uid.get(c["product"]["productUid"], {}).get("productType") == "STOCK",
              "a component is a live stock product")
    m["components.count"] = str(len(comps))
    m["components.quantity"] = fmt4(sum((Decimal(c["quantity"]) for c in comps), Decimal(0)) / HUNDRED)
    m["components.special_price"] = fmt4(sum((Decimal(c["specialPrice"] or 0) for c in comps), Decimal(0)) / HUNDRED)
    wh_on, wh_av, st_on = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    for s in stock:
        check(by_uid[s["productUid"]]["productType"] == "STOCK", "stock lists stock products")
        d = s["warehouseStockDetails"]
        check(s["totalQuantityStock"] == sum(x["quantityStock"] for x in d) and
              s["totalQuantityReserved"] == sum(x["quantityReserved"] for x in d), "stock totals add up")
        for x in d:
            wh_on[x["warehouseUid"]] += Decimal(x["quantityStock"]) / HUNDRED
            wh_av[x["warehouseUid"]] += Decimal(x["quantityStock"] - x["quantityReserved"]) / HUNDRED
            st_on[x["storeUid"]] += Decimal(x["quantityStock"]) / HUNDRED
    for wh in wh_on:
        m["inventory.warehouse.%s.on_hand" % wh] = fmt4(wh_on[wh])
        m["inventory.warehouse.%s.available" % wh] = fmt4(wh_av[wh])
    in_cats = set()
    for store, cats in per_store.items():
        prods, on_hand, avail = store_stock(cats)
        in_cats |= set(prods)
        check(on_hand == st_on[store], "store %s: category stock = its warehouses' stock" % store)
        m["inventory.store.%s.on_hand" % store] = fmt4(on_hand)
        m["inventory.store.%s.available" % store] = fmt4(avail)
    check(in_cats == {p["productUid"] for p in products}, "every live product sits in a category")
    for c in plain.values():
        for p in c["products"]:
            check(p["recommendedRetailPrice"] == by_uid[p["productUid"]][
                "recommendedRetailPrice"], "a category's product is the listed product")
    return m


def test_incremental(sb, before, steps):
    products = before[0]
    clock0 = sb.clock()
    ch = {k: int(v) for k, v in sb.advance(steps).items() if k.startswith("changes.flowretail")}
    check(all(ch[k] > 0 for k in ch), "flow retail advance changes each thing (%s)" % ch)
    wm = clock0.replace("Z", ".000Z")
    changed = []
    for p in read_list(sb, "/products?sortBy=lastModifiedAt&sortDirection=DESC", 20):
        if p["lastModifiedAt"] < wm:  # sources.md: read DESC until older than the watermark
            break
        changed.append(p)
    data = read_everything(sb)
    after = {p["productUid"]: p for p in data[0]}
    old = {p["productUid"]: p for p in products}
    check({p["productUid"] for p in changed} == {u for u, p in after.items() if p["lastModifiedAt"] >= wm},
          "lastModifiedAt DESC down to the watermark = the products modified since")
    check({u for u in after if u not in old or after[u] != old[u]} == {p["productUid"] for p in changed},
          "every product that changed moved lastModifiedAt")
    created, removed = set(after) - set(old), set(old) - set(after)
    both = ch["changes.flowretail_products_created"] - len(created)
    check(both >= 0 and ch["changes.flowretail_products_removed"] - len(removed) == both,
          "created and removed as counted")
    check(0 < len(set(after) & {p["productUid"] for p in changed} - created)
          <= ch["changes.flowretail_products_updated"], "updates counted")
    compare_truth(sb, "flowretail", truth_from_api(*data), "after advance")


def test_shapes(sb):
    st, _, _ = sb.http("GET", url(sb, ""), headers={"Authorization": "Bearer nope"})
    check(st == 401, "flow retail: a wrong token is a 401")
    st, _, _ = sb.http("GET", url(sb, "", "other"), headers=AUTH)
    check(st == 404, "flow retail: another tenant is a 404")
    st, _, _ = sb.http("GET", url(sb, "/products?pageNumber=1&pageSize=1001"), headers=AUTH)
    check(st == 400, "flow retail: pageSize 1001 is a 400")
    minor = read_list(sb, "/products", 100)
    major = read_list(sb, "/products", 100, tenant="demo-major")
    check([p["productUid"] for p in minor] == [p["productUid"] for p in major] and
          all(Decimal(a["recommendedRetailPrice"]) == Decimal(b["recommendedRetailPrice"]) * 100
              for a, b in zip(minor, major)), "demo-major: the same products, prices in major units")


def test_page_cap(sb):
    """fr_page_cap=N (docs/sandbox.md, "Page sizes"): pages of at most N items
    whatever pageSize asks, without an error; pageNumber counts pages of the served
    size; paging.pageSize says the served size (with fr_page_cap_echo=1 the asked
    one); totalCount stays the list's."""
    whole = read_list(sb, "/products", 1000)
    sb.control("POST", "faults?fr_page_cap=150")
    st, _, body = sb.http("GET", url(sb, "/products?pageNumber=1&pageSize=1000"), headers=AUTH)
    doc = jload(body)
    check(st == 200 and len(doc["items"]) == min(150, len(whole)) and doc["paging"]["pageSize"] == 150
          and doc["paging"]["totalCount"] == len(whole),
          "fr_page_cap=150: page 1 of 1000 asked serves 150, says pageSize 150 and the whole count")
    st, _, body = sb.http("GET", url(sb, "/products?pageNumber=2&pageSize=150"), headers=AUTH)
    check([p["productUid"] for p in jload(body)["items"]] == [p["productUid"] for p in whole[150:300]],
          "fr_page_cap=150: page 2 of 150 is items 151..300")
    st, _, body = sb.http("GET", url(sb, "/products?pageNumber=1&pageSize=100"), headers=AUTH)
    check(len(jload(body)["items"]) == min(100, len(whole)), "fr_page_cap=150: a size below the cap is honoured")
    sb.control("POST", "faults?fr_page_cap=150&fr_page_cap_echo=1")
    st, _, body = sb.http("GET", url(sb, "/products?pageNumber=1&pageSize=1000"), headers=AUTH)
    doc = jload(body)
    check(len(doc["items"]) == min(150, len(whole)) and doc["paging"]["pageSize"] == 1000,
          "fr_page_cap_echo=1: 150 served, paging.pageSize repeats the 1000 asked")
    sb.control("POST", "faults")


def run(sb, binary, scale, Sandbox):
    test_shapes(sb)
    test_page_cap(sb)
    data = read_everything(sb)
    compare_truth(sb, "flowretail", truth_from_api(*data), "initial data")
    first = lambda: sb.http("GET", url(sb, "/products?pageNumber=2&pageSize=20"), headers=AUTH)
    check_faults(sb, "flowretail products", first, lambda st, b: st == 200 and b'"items":[' in b)
    page = first()[2]
    test_incremental(sb, data, 6)
    sb.control("POST", "reset")
    check(first()[2] == page, "flow retail: reset serves the page again, byte for byte")
    twin = Sandbox(binary, "--scale", scale, "--seed", "3")
    for path in ("/products?pageNumber=2&pageSize=20", "/categories/cat-000?storeUid=store-oslo"):
        a = sb.http("GET", url(sb, path), headers=AUTH)
        b = twin.http("GET", twin.url("/flowretail/v2/tenants/demo" + path), headers=AUTH)
        check(a[0] == 200 and a[2] == b[2], "flow retail: same seed, same bytes for %s" % path)
    a = sb.http("POST", url(sb, "/products/stock?pageNumber=1&pageSize=50"), {}, AUTH)
    b = twin.http("POST", twin.url("/flowretail/v2/tenants/demo/products/stock?pageNumber=1&pageSize=50"), {}, AUTH)
    check(a[0] == 200 and a[2] == b[2], "flow retail: same seed, same stock")
    twin.stop()

