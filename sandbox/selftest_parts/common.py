"""What every vendor's self-check shares: the check counter, a sandbox process with
an HTTP client that can also talk to other hosts (next links, report files), the
truth lines, exact decimals and the generic fault checks. Standard library only."""

import atexit
import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from decimal import Decimal

checks = 0
notes = []
live = []  # sandboxes still running: a failed check (sys.exit) must not leave one


@atexit.register
def _stop_live():
    for proc in live:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def note(what):
    """A disagreement with the vendor reference the check tolerates on purpose
    (printed at the end, and listed in the report of the change that added it)."""
    if what not in notes:
        notes.append(what)


def dec(v):
    """An exact decimal from a JSON number (parsed with parse_float=Decimal), an int
    or a decimal string."""
    check(isinstance(v, (int, Decimal, str)) and not isinstance(v, bool), "money is a number or string: %r" % (v,))
    return v if isinstance(v, Decimal) else Decimal(v)


def fmt4(d):
    return "%.4f" % d


def jload(body):
    return json.loads(body, parse_float=Decimal)


class Sandbox:
    def __init__(self, binary, *args):
        self.dir = tempfile.mkdtemp(prefix="sbtest")
        pf = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([binary, "--port-file", pf, *args], stdout=subprocess.PIPE)
        live.append(self.proc)
        for _ in range(1200):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        self.port = int(open(pf).read())
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.others = {}
        self.token = None

    def stop(self):
        self.conn.close()
        for c in self.others.values():
            c.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(30)
        check(rc == 0, "sandbox exits 0 on SIGTERM (rc %s)" % rc)

    def raw(self, method, path, body=None, headers=None):
        """Posiflora requests: (status, headers dict, body bytes); reconnects after a cut."""
        h = dict(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/vnd.api+json"
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            payload = r.read()
            return r.status, dict(r.getheaders()), payload
        except (http.client.IncompleteRead, http.client.RemoteDisconnected, ConnectionError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return None, {}, b""

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def http(self, method, url, body=None, headers=None):
        """Any request to an absolute URL (any host): (status, headers with lower-case
        names, body bytes). A body that is not bytes is sent as JSON. Never follows
        redirects; a cut connection answers status None."""
        u = urllib.parse.urlsplit(url)
        check(u.scheme == "http" and u.hostname, "an absolute http URL: %r" % url)
        key = u.netloc
        if key not in self.others:
            self.others[key] = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        c = self.others[key]
        h = dict(headers or {})
        data = body
        if body is not None and not isinstance(body, bytes):
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        target = u.path + ("?" + u.query if u.query else "")
        try:
            c.request(method, target, body=data, headers=h)
            r = c.getresponse()
            payload = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
        except (http.client.IncompleteRead, http.client.RemoteDisconnected, ConnectionError):
            c.close()
            del self.others[key]
            return None, {}, b""

    def control(self, method, what):
        st, _, body = self.raw(method, "/_sandbox/" + what)
        check(st == 200, "control %s answers 200 (got %s: %r)" % (what, st, body[:200]))
        return body.decode()

    def truth(self, system):
        lines = self.control("GET", "truth").splitlines()
        return {l.split("\t")[1]: l.split("\t")[2] for l in lines if l.startswith(system + "\t")}

    def clock(self):
        return self.truth("sandbox")["clock"]

    def advance(self, steps):
        out = self.control("POST", "advance?steps=%d" % steps)
        return {l.split("\t")[1]: l.split("\t")[2] for l in out.splitlines()}


def compare_truth(sb, system, got, what):
    """The truth recomputed from the API equals the sandbox's, metric by metric."""
    want = sb.truth(system)
    check(len(want) >= 10 and len(got) >= 10, "%s %s: truth has its metrics" % (system, what))
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted((k, got[k], want[k]) for k in set(got) & set(want) if got[k] != want[k])
    check(not missing and not extra and not wrong,
          "%s %s: truth recomputed from the API equals /_sandbox/truth; missing %s, extra %s, "
          "differ (metric, api, sandbox) %s" % (system, what, missing[:5], extra[:5], wrong[:6]))


def gunzip_if(data):
    """Report files may be gzip'ed or plain (the reference leaves it open): sniff."""
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def check_faults(sb, name, request, ok):
    """The framework's faults on one vendor endpoint: `request()` sends it and
    answers (status, headers, body); `ok(status, body)` judges a good answer.
    A 429 carries Retry-After and the request succeeds once it has been waited out;
    a burst of 500s ends and the next request succeeds; a cut body is retried."""
    sb.control("POST", "faults?budget=2&retry_after=1")
    got = [request() for _ in range(3)]
    check(all(ok(s, b) for s, _, b in got[:2]), "%s: within budget=2 the answers are good" % name)
    st, hdrs, body = got[2]
    check(st == 429 and hdrs.get("retry-after") == "1", "%s: budget=2, the third request is a 429 with "
          "Retry-After 1 (got %s %s)" % (name, st, hdrs.get("retry-after")))
    err = jload(body)
    check(isinstance(err, dict) and isinstance(err.get("message"), str) and "errors" not in err,
          "%s: the 429 is in the vendor's error shape {message, ...} (got %r)" % (name, body[:120]))
    time.sleep(int(hdrs["retry-after"]) + 0.05)
    st, _, body = request()
    check(ok(st, body), "%s: after waiting Retry-After the request succeeds (got %s)" % (name, st))
    sb.control("POST", "faults?burst500=2")
    got = [request() for _ in range(3)]
    check([g[0] for g in got] == [500, 500, 200],
          "%s: burst500=2 gives two 500s, then the endpoint recovers (got %s)" % (name, [g[0] for g in got]))
    check(isinstance(jload(got[0][2]).get("message"), str), "%s: a 500 is in the vendor's error shape" % name)
    sb.control("POST", "faults?pcut=1")
    check(request()[0] is None, "%s: pcut=1 cuts the body" % name)
    sb.control("POST", "faults")
    st, _, body = request()
    check(ok(st, body), "%s: faults off, the answer is good again" % name)


def retrying(request, tries=30):
    """Sends `request()` until it is not a 429, 5xx or cut, honouring Retry-After."""
    for _ in range(tries):
        st, hdrs, body = request()
        if st == 429:
            time.sleep(float(hdrs.get("retry-after", "1")))
            continue
        if st is None or st >= 500:
            continue
        return st, hdrs, body
    check(False, "request still failing after %d tries" % tries)
