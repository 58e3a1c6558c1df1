#!/usr/bin/env python3
"""Runs the side-by-side benchmarks, prints a table, writes target/bench/summary.json.

Every contender runs in its own process (and virtualenv), with the same keys and tokens
(fixtures.json) and the same loopback authorization server (as_server.py). Contenders are
interleaved round by round (A B C, B C A, ...) and each figure is the median over rounds, so
load from elsewhere on the machine shifts all contenders alike and the ratios stay meaningful.
HTTP servers are pinned to CPU 0 and the load generator (wrk) to CPU 1.

Usage: run.py --out DIR --py-ours PY --py-upstream PY [--rounds N] [--seconds S] [--http-seconds S]
"""

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ALGS = ["RS256", "ES256", "EdDSA"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {proc.args}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"server did not listen on {port}: {proc.args}")


def pinned(cpu, cmd):
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() > 1 else []) + cmd


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return round(a / b, 3) if a and b else None


class Bench:
    def __init__(self, a):
        # Absolute, not resolved: a venv's python must keep its own path to find its packages.
        a.py_ours, a.py_upstream = os.path.abspath(a.py_ours), os.path.abspath(a.py_upstream)
        self.a = a
        self.out = Path(a.out)
        self.fixtures = str(self.out / "fixtures.json")
        self.fix = json.loads(Path(self.fixtures).read_text())
        self.node = shutil.which("node") or "node"
        self.results = {}

    # -- the loopback authorization server ---------------------------------------------------
    def start_as(self):
        self.as_proc = subprocess.Popen(pinned(1, [self.a.py_ours, str(HERE / "as_server.py"), self.fixtures]),
                                        stdout=subprocess.PIPE, text=True)
        self.as_port = int(self.as_proc.stdout.readline())

    def as_get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.as_port}{path}", timeout=10) as r:
            body = r.read().decode()
        return json.loads(body) if body[:1] in "{[" else body

    # -- token verification throughput --------------------------------------------------------
    def verify_rounds(self, name, contenders):
        """contenders: {label: argv prefix}; returns {label: {alg: median ops/s}}."""
        keys = ALGS + [a + "_cpu" for a in ALGS]
        samples = {c: {k: [] for k in keys} for c in contenders}
        errors = {}
        labels = list(contenders)
        for r in range(self.a.rounds):
            order = labels[r % len(labels):] + labels[:r % len(labels)]
            for c in order:
                cmd = contenders[c] + [self.fixtures, str(self.as_port), c, str(self.a.seconds)]
                res = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
                if res.returncode != 0:
                    raise RuntimeError(f"{name} {c} failed:\n{res.stderr}")
                data = json.loads(res.stdout.strip().splitlines()[-1])
                for k in keys:
                    samples[c][k].append(data.get(k))
                for alg in ALGS:
                    if data.get(alg + "_error"):
                        errors[f"{c} {alg}"] = data[alg + "_error"]
            log(f"  {name} round {r + 1}/{self.a.rounds} done")
        med = {c: {k: median(v) for k, v in per.items()} for c, per in samples.items()}
        self.results[name] = {"ops_per_s": med, "samples": samples, "unsupported": errors}
        return med

    def core_bench_binary(self):
        """The core floor's benchmark executable (built by `make bench-core`), for its bare
        signature check as one more contender of the verify rounds; None without cargo."""
        if not hasattr(self, "_core_bin"):
            self._core_bin = os.environ.get("BENCH_CORE_BIN")  # a prebuilt core_verify executable
            try:
                if self._core_bin:
                    return [self._core_bin, "--bare-ops"]
                out = subprocess.run(["cargo", "bench", "-p", "mcp-auth-core", "--bench", "core_verify", "--locked",
                                      "--no-run", "--message-format=json"], capture_output=True, text=True, cwd=ROOT,
                                     check=True).stdout
                for line in out.splitlines():
                    msg = json.loads(line)
                    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and \
                            msg["target"]["name"] == "core_verify":
                        self._core_bin = msg["executable"]
            except (OSError, subprocess.CalledProcessError, ValueError) as e:
                log(f"  no bare signature contender: {e}")
        return [self._core_bin, "--bare-ops"] if self._core_bin else None

    def with_bare(self, contenders):
        bare = self.core_bench_binary()
        return {**contenders, "bare": bare} if bare else contenders

    def py_verify(self):
        log("python verify")
        ours, up = [self.a.py_ours, "py/verify.py"], [self.a.py_upstream, "py/verify.py"]
        return self.verify_rounds("py_verify", self.with_bare({"ours_jwt": ours, "ours_jwt_repeat": ours,
                                                               "ours_key": ours,
                                                               "upstream_jwt": up, "upstream_key": up,
                                                               "pyjwt": ours}))

    def node_verify(self):
        log("node verify")
        n = [self.node, "node/verify.mjs"]
        return self.verify_rounds("node_verify", self.with_bare({c: n for c in ("ours_url", "ours_url_repeat", "ours_jwks", "ours_remote",
                                                                                "upstream_remote", "jose")}))

    # -- protected apps under load -------------------------------------------------------------
    def app_cmd(self, lang, pkg, port, mode="resolved"):
        if lang == "py":
            py = self.a.py_ours if pkg == "ours" else self.a.py_upstream
            return [py, str(HERE / "py/app.py"), self.fixtures, str(self.as_port), str(port), mode]
        return [self.node, str(HERE / "node/app.mjs"), pkg, self.fixtures, str(self.as_port), str(port), mode]

    def wrk(self, port, token, seconds, script=None):
        auth = ["-s", str(script)] if script else ["-H", f"Authorization: Bearer {token}"]
        cmd = pinned(1, ["wrk", "-t1", f"-c{self.a.connections}", f"-d{max(1, round(seconds))}s", "--latency",
                         *auth, f"http://127.0.0.1:{port}/mcp"])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
        lat = {p: float(v) * unit[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
        total = int(re.search(r"(\d+) requests in", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errs = re.search(r"Socket errors: (.*)", out)
        return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": lat.get("50"),
                "p99_ms": lat.get("99"), "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
                "socket_errors": errs.group(1).strip() if errs else None}

    def quiesce(self, pid, counter="jwks", settle=0.3, timeout=20.0):
        """Waits until a server has stopped using CPU and calling the authorization server."""
        deadline = time.monotonic() + timeout
        last = (cpu_seconds(pid), self.as_get("/stats")[counter])
        while time.monotonic() < deadline:
            time.sleep(settle)
            now = (cpu_seconds(pid), self.as_get("/stats")[counter])
            if now[1] == last[1] and now[0] - last[0] < settle * 0.05:
                return
            last = now

    def load_runs(self, lang, apps, counter, token=None, script=None, rss=None, how=None):
        """Starts each app (name -> (package, mode)) pinned to CPU 0, warms it up, then loads each
        once per round in rotating order. Per run: wrk's figures, the authorization server's
        `counter` calls it caused, and the server's CPU time per request. `how` gives an app its
        own (token, script, prepare): `prepare(name, last_run)` runs before each of its wrk runs
        (fresh DPoP proofs)."""
        how = how or {}

        def load(name, seconds, last):
            tok, scr, prepare = how.get(name, (token, script, None))
            if prepare:
                prepare(name, seconds, last)
            return self.wrk(ports[name], tok, seconds, scr)

        procs, ports = {}, {}
        names = list(apps)
        runs = {name: [] for name in names}
        try:
            for name, (pkg, mode) in apps.items():
                ports[name] = free_port()
                procs[name] = subprocess.Popen(pinned(0, self.app_cmd(lang, pkg, ports[name], mode)), cwd=HERE,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name in names:
                wait_port(ports[name], procs[name])
                load(name, 1, None)  # warm-up: first fetches, JIT, caches
                self.quiesce(procs[name].pid, counter)
            rss_start = {n: rss_mb(procs[n].pid) for n in names} if rss else None
            for r in range(self.a.http_rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    pid = procs[name].pid
                    before, cpu = self.as_get("/stats")[counter], cpu_seconds(pid)
                    res = load(name, self.a.http_seconds, runs[name][-1] if runs[name] else None)
                    # A server that blocks its event loop still works off queued requests after
                    # the load stops: count their calls and CPU to it, not to the next run.
                    self.quiesce(pid, counter)
                    res["as_calls"] = self.as_get("/stats")[counter] - before
                    res["cpu_us_per_request"] = (cpu_seconds(pid) - cpu) * 1e6 / max(res["requests"], 1)
                    res["server_busy"] = res["cpu_us_per_request"] * res["rps"] / 1e6
                    runs[name].append(res)
                log(f"  {lang} {counter} load round {r + 1}/{self.a.http_rounds} done")
            rss_end = {n: rss_mb(procs[n].pid) for n in names} if rss else None
        finally:
            for p in procs.values():
                stop(p)
        summary = {}
        for name, rs in runs.items():
            reqs, calls = sum(x["requests"] for x in rs), sum(x["as_calls"] for x in rs)
            summary[name] = {"rps": median([x["rps"] for x in rs]), "p50_ms": median([x["p50_ms"] for x in rs]),
                             "p99_ms": median([x["p99_ms"] for x in rs]),
                             "cpu_us_per_request": median([x["cpu_us_per_request"] for x in rs]),
                             "server_busy": median([x["server_busy"] for x in rs]),
                             "non_2xx": sum(x["non_2xx"] for x in rs),
                             f"{counter}_calls_per_10k": round(calls * 10000 / reqs, 2) if reqs else None,
                             "requests": reqs}
        out = {"median": summary, "runs": runs}
        if rss:
            out["rss"] = {n: {"start_mb": rss_start[n], "end_mb": rss_end[n],
                              "growth_mb": round(rss_end[n] - rss_start[n], 1),
                              "requests": summary[n]["requests"]} for n in names}
        return out

    def http(self, lang):
        """Ours and upstream behind their bearer middleware, and the controls without auth: the
        same app on plain Starlette (`plain`), on plain Express answering at once (`plain-sync`)
        or after one thread-pool hop (`plain-hop`)."""
        log(f"{lang} middleware under load")
        apps = {"ours": ("ours", "resolved"), "upstream": ("upstream", "resolved")}
        if lang == "py":
            apps["plain"] = ("ours", "plain")
        else:
            apps.update({"plain-sync": ("plain-sync", "resolved"), "plain-hop": ("plain-hop", "resolved")})
        result = self.load_runs(lang, apps, "jwks", token=self.fix["tokens"]["RS256"])
        self.results[f"{lang}_http"] = result
        return result["median"]

    # -- opaque tokens: introspection per request ----------------------------------------------
    def introspection(self, lang):
        """Apps checking every token at the bench AS's introspection endpoint: ours without and
        with its answer cache, upstream with a hand-written custom verifier. wrk sends the
        tokens of 100 clients in turn (introspection.lua)."""
        log(f"{lang} introspection under load")
        apps = {"ours": ("ours", "introspection"), "ours-cached": ("ours", "introspection-cached"),
                "upstream": ("upstream", "introspection")}
        result = self.load_runs(lang, apps, "introspection", script=HERE / "introspection.lua")
        self.results[f"{lang}_introspection"] = result
        return result["median"]

    # -- per-operation rules: the body classified and decided in core -------------------------
    def operations(self, lang):
        """The same POST of a ~1 KiB tools/call to an app guarded by the endpoint rule only and to
        one with 20 per-tool rules (operations.lua); RSS of both before and after."""
        log(f"{lang} per-operation rules under load")
        # The memory part leaves rotation keys published; these apps verify the fixtures' token.
        self.as_get("/reset")
        os.environ["BENCH_TOKEN"] = self.fix["tokens"]["RS256"]
        apps = {"endpoint": ("ours", "endpoint"), "operations": ("ours", "operations")}
        result = self.load_runs(lang, apps, "jwks", script=HERE / "operations.lua", rss=True)
        self.results[f"{lang}_operations"] = result
        return result["median"]

    # -- DPoP: one more signature check per request --------------------------------------------
    def dpop(self, lang):
        """Apps in DPoP 'allowed' mode: one loaded with Bearer requests (an unbound token), one
        with DPoP requests (the bound token and a fresh ES256 proof each, dpop.lua), and one whose
        replay store is a local Redis (when redis-server is installed): what each proof's record
        in Redis adds to p50/p99."""
        log(f"{lang} DPoP under load")
        self.as_get("/reset")
        apps = {"bearer": ("ours", "dpop"), "dpop": ("ours", "dpop")}
        redis = self.start_redis()
        if redis:
            os.environ["BENCH_REDIS_URL"] = redis[1]
            apps["dpop-redis"] = ("ours", "dpop-redis")
        os.environ["BENCH_DPOP_TOKEN"] = self.fix["dpop"]["token"]

        def proofs(name, seconds, last):
            # Enough proofs for the run at the last run's rate and then some: each is good once.
            rate = last["rps"] * 1.5 if last else 8000
            path = self.out / f"proofs-{lang}-{name}.txt"
            subprocess.run([self.a.py_ours, str(HERE / "dpop_proofs.py"), str(self.fixtures), str(path),
                            str(int(rate * seconds) + 2000)], check=True)
            os.environ["BENCH_DPOP_PROOFS"] = str(path)

        how = {"bearer": (self.fix["tokens"]["RS256"], None, None)}
        for name in apps:
            if name != "bearer":
                how[name] = (None, HERE / "dpop.lua", proofs)
        try:
            result = self.load_runs(lang, apps, "jwks", how=how)
        finally:
            if redis:
                stop(redis[0])
        self.results[f"{lang}_dpop"] = result
        return result["median"]

    def start_redis(self):
        exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server")
                                                else None)
        if not exe:
            log("  redis-server not installed: no Redis replay store row (make redis-server)")
            return None
        port = free_port()
        proc = subprocess.Popen(pinned(1, [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no"]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, proc)
        return proc, f"redis://127.0.0.1:{port}/"

    # -- cold start with a lazy discovery config -----------------------------------------------
    def request(self, port, token):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t = time.perf_counter()
        c.request("GET", "/mcp", headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse()
        r.read()
        dt = (time.perf_counter() - t) * 1000
        c.close()
        return r.status, dt

    async def burst(self, port, token, n):
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(n)]
        req = (f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
               "Connection: close\r\n\r\n").encode()

        async def one(reader, writer):
            t = time.perf_counter()
            writer.write(req)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            await reader.read()
            writer.close()
            return status, (time.perf_counter() - t) * 1000

        t0 = time.perf_counter()
        res = await asyncio.gather(*(one(r, w) for r, w in conns))
        return (time.perf_counter() - t0) * 1000, res

    def cold(self, lang, pkg):
        log(f"{lang} {pkg} cold start (discovery)")
        token = self.as_get("/mint?alg=RS256")
        first, warm, fetches = [], [], []
        for _ in range(self.a.cold_repeats):
            port = free_port()
            proc = subprocess.Popen(pinned(0, self.app_cmd(lang, pkg, port, "discovery")), cwd=HERE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(port, proc)
                self.as_get("/reset")
                status, dt = self.request(port, token)
                assert status == 200, f"{lang} {pkg} discovery: first request answered {status}"
                first.append(dt)
                warm.append(median([self.request(port, token)[1] for _ in range(20)]))
                fetches.append(self.as_get("/stats"))
            finally:
                stop(proc)
        port = free_port()
        proc = subprocess.Popen(pinned(0, self.app_cmd(lang, pkg, port, "discovery")), cwd=HERE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc)
            self.as_get("/reset")
            wall, res = asyncio.run(self.burst(port, token, 100))
            burst_fetches = self.as_get("/stats")
        finally:
            stop(proc)
        lat = sorted(dt for _, dt in res)
        out = {"first_request_ms": median(first), "warm_request_ms": median(warm), "first_request_fetches": fetches[-1],
               "burst100_wall_ms": wall, "burst100_p50_ms": statistics.median(lat), "burst100_max_ms": lat[-1],
               "burst100_ok": sum(1 for s, _ in res if s == 200), "burst100_fetches": burst_fetches}
        self.results.setdefault("cold", {})[f"{lang}_{pkg}"] = out
        return out

    # -- cold import and artefact sizes -------------------------------------------------------
    def py_import_ms(self, python):
        """`python -X importtime -c 'import mcpauth'`: the package's cumulative import time."""
        times = []
        for _ in range(self.a.import_repeats + 1):  # the first run warms the page cache, not counted
            res = subprocess.run(pinned(0, [python, "-X", "importtime", "-c", "import mcpauth"]),
                                 capture_output=True, text=True, cwd=HERE)
            if res.returncode != 0:
                raise RuntimeError(f"import mcpauth failed in {python}:\n{res.stderr}")
            # "import time: self [us] | cumulative | imported package"; the top-level line is unindented.
            top = [line for line in res.stderr.splitlines()
                   if re.fullmatch(r"import time:\s*\d+ \|\s*\d+ \| mcpauth", line)]
            times.append(int(top[-1].split("|")[1]) / 1000)
        return median(times[1:])

    def node_import_ms(self, spec):
        """A timed `await import(...)` of the package in a fresh node (its whole module graph)."""
        script = ("const t = performance.now(); await import(process.argv[1]); "
                  "console.log(performance.now() - t)")
        times = []
        for _ in range(self.a.import_repeats + 1):
            res = subprocess.run(pinned(0, [self.node, "--input-type=module", "-e", script, spec]),
                                 capture_output=True, text=True, cwd=HERE)
            if res.returncode != 0:
                raise RuntimeError(f"import {spec} failed:\n{res.stderr}")
            times.append(float(res.stdout.strip().splitlines()[-1]))
        return median(times[1:])

    def imports(self):
        log("cold import (python -X importtime, a timed node import) and artefact sizes")
        ours_node = (ROOT / "node" / "lib" / "index.js").as_uri()
        out = {"py_ours_ms": self.py_import_ms(self.a.py_ours), "py_upstream_ms": self.py_import_ms(self.a.py_upstream),
               "node_ours_ms": self.node_import_ms(ours_node),
               "node_upstream_ms": self.node_import_ms("mcp-auth-upstream")}
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        sizes = {}
        for key, pattern in (("wheel", target / "wheels" / "python" / "mcpauth-*.whl"),
                             ("node_addon", ROOT / "node" / "native" / "*.node"),
                             ("jar", ROOT / "kotlin" / "target" / "mcp-auth-*.jar")):
            found = sorted(p for p in pattern.parent.glob(pattern.name)
                           if not p.name.endswith(("-sources.jar", "-javadoc.jar")))
            if found:
                sizes[key] = {"file": found[-1].name, "bytes": found[-1].stat().st_size}
        out["artefacts"] = sizes
        self.results["imports"] = out
        return out

    # -- memory and growth ---------------------------------------------------------------------
    def memory(self):
        log("memory and growth")
        out = {}
        for name, cmd in (("py_ours", [self.a.py_ours, "py/memory.py"]), ("node_ours", [self.node, "node/memory.mjs"])):
            self.as_get("/reset")
            res = subprocess.run(cmd + [self.fixtures, str(self.as_port)], capture_output=True, text=True, cwd=HERE)
            if res.returncode != 0:
                raise RuntimeError(f"memory {name} failed:\n{res.stderr}")
            out[name] = json.loads(res.stdout.strip().splitlines()[-1])
        self.results["memory"] = out
        return out

    # -- everything ----------------------------------------------------------------------------
    def run(self):
        started = (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg())
        self.start_as()
        parts = set(self.a.only.split(",")) if self.a.only else None
        want = lambda p: parts is None or p in parts  # noqa: E731
        try:
            if want("verify"):
                self.py_verify()
                self.node_verify()
            if want("http"):
                self.http("py")
                self.http("node")
            if want("memory"):
                self.memory()
            if want("introspection"):
                self.introspection("py")
                self.introspection("node")
            if want("operations"):
                self.operations("py")
                self.operations("node")
            if want("dpop"):
                self.dpop("py")
                self.dpop("node")
            if want("cold"):
                self.imports()
                for lang, pkg in (("py", "ours"), ("node", "ours"), ("node", "upstream")):
                    self.cold(lang, pkg)
        finally:
            stop(self.as_proc)
        core = self.out / "core.json"
        if core.exists():
            self.results["core"] = json.loads(core.read_text())
        self.results["machine"] = {"date": started[0], "cpus": os.cpu_count(), "loadavg_before": started[1],
                                   "loadavg_after": os.getloadavg(),
                                   "rounds": self.a.rounds, "http_rounds": self.a.http_rounds}
        (self.out / "results.json").write_text(json.dumps(self.results, indent=2))
        summary = summarize(self.results)
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2))
        text = table(self.results, summary)
        (self.out / "summary.txt").write_text(text + "\n")
        print(text)


def summarize(r):
    s = {}
    core = r.get("core", {})
    s["core_overhead_rs256"] = round(core["core_overhead_rs256"], 3) if "core_overhead_rs256" in core else None
    for alg in ("ES256", "EdDSA"):
        if alg in core.get("algorithms", {}):
            s[f"core_overhead_{alg.lower()}"] = round(core["algorithms"][alg]["overhead"], 3)
    for alg, c in core.get("algorithms", {}).items():
        if "repeat_vs_bare" in c:
            s[f"core_repeat_vs_bare_{alg.lower()}"] = round(c["repeat_vs_bare"], 3)
    if "operations" in core:
        s["core_operations_vs_endpoint_time"] = round(core["operations"]["rules_vs_endpoint"], 3)
        s["core_classify_1kib_ns"] = round(core["operations"]["classify_ns"])
    if "dpop" in core:
        s["core_dpop_proof_vs_bare_es256"] = round(core["dpop"]["proof_vs_bare"], 3)
    pv = r.get("py_verify", {}).get("ops_per_s", {})
    if pv:
        s["py_verify_vs_upstream"] = ratio(pv["ours_jwt"]["RS256"], pv["upstream_jwt"]["RS256"])
        s["py_verify_vs_pyjwt"] = ratio(pv["ours_jwt"]["RS256"], pv["pyjwt"]["RS256"])
        s["py_verify_vs_upstream_static_key"] = ratio(pv["ours_key"]["RS256"], pv["upstream_key"]["RS256"])
        s["py_verify_cpu_vs_upstream"] = ratio(pv["ours_jwt"]["RS256_cpu"], pv["upstream_jwt"]["RS256_cpu"])
        s["py_verify_cpu_vs_pyjwt"] = ratio(pv["ours_jwt"]["RS256_cpu"], pv["pyjwt"]["RS256_cpu"])
        for alg in ("ES256", "EdDSA"):
            s[f"py_verify_vs_pyjwt_{alg.lower()}"] = ratio(pv["ours_jwt"][alg] or pv["ours_key"][alg],
                                                           pv["pyjwt"][alg])
    ph = r.get("py_http", {}).get("median")
    if ph:
        s["py_middleware_vs_upstream"] = ratio(ph["ours"]["rps"], ph["upstream"]["rps"])
        s["py_middleware_p99_vs_upstream"] = ratio(ph["upstream"]["p99_ms"], ph["ours"]["p99_ms"])
        s["py_middleware_cpu_vs_upstream"] = ratio(ph["upstream"]["cpu_us_per_request"],
                                                   ph["ours"]["cpu_us_per_request"])
        if "plain" in ph:
            s["py_middleware_vs_plain"] = ratio(ph["ours"]["rps"], ph["plain"]["rps"])
            s["py_middleware_cpu_vs_plain"] = ratio(ph["plain"]["cpu_us_per_request"],
                                                    ph["ours"]["cpu_us_per_request"])
    nv = r.get("node_verify", {}).get("ops_per_s", {})
    if nv:
        s["node_verify_vs_jose"] = ratio(nv["ours_url"]["RS256"], nv["jose"]["RS256"])
        s["node_verify_vs_upstream"] = ratio(nv["ours_url"]["RS256"], nv["upstream_remote"]["RS256"])
        s["node_verify_cpu_vs_jose"] = ratio(nv["ours_url"]["RS256_cpu"], nv["jose"]["RS256_cpu"])
        s["node_verify_cpu_vs_upstream"] = ratio(nv["ours_url"]["RS256_cpu"], nv["upstream_remote"]["RS256_cpu"])
        for alg in ("ES256", "EdDSA"):
            s[f"node_verify_vs_jose_{alg.lower()}"] = ratio(nv["ours_url"][alg], nv["jose"][alg])
    nh = r.get("node_http", {}).get("median")
    if nh:
        s["node_middleware_vs_upstream"] = ratio(nh["ours"]["rps"], nh["upstream"]["rps"])
        s["node_middleware_p99_vs_upstream"] = ratio(nh["upstream"]["p99_ms"], nh["ours"]["p99_ms"])
        s["node_middleware_cpu_vs_upstream"] = ratio(nh["upstream"]["cpu_us_per_request"],
                                                     nh["ours"]["cpu_us_per_request"])
        if "plain-sync" in nh:
            s["node_middleware_vs_plain"] = ratio(nh["ours"]["rps"], nh["plain-sync"]["rps"])
            s["node_middleware_cpu_vs_plain"] = ratio(nh["plain-sync"]["cpu_us_per_request"],
                                                      nh["ours"]["cpu_us_per_request"])
            s["node_control_plain_sync_vs_hop"] = ratio(nh["plain-sync"]["rps"], nh["plain-hop"]["rps"])
    if ph or nh:
        ours = [x["ours"]["jwks_calls_per_10k"] for x in (ph, nh) if x]
        s["jwks_fetches_per_10k"] = max(ours)
        if ph:
            s["jwks_fetches_per_10k_py_upstream"] = ph["upstream"]["jwks_calls_per_10k"]
        if nh:
            s["jwks_fetches_per_10k_node_upstream"] = nh["upstream"]["jwks_calls_per_10k"]
    for lang in ("py", "node"):
        pi = r.get(f"{lang}_introspection", {}).get("median")
        if pi:
            s[f"{lang}_introspection_vs_upstream"] = ratio(pi["ours"]["rps"], pi["upstream"]["rps"])
            s[f"{lang}_introspection_cached_vs_uncached"] = ratio(pi["ours-cached"]["rps"], pi["ours"]["rps"])
            s[f"{lang}_introspections_per_10k_cached"] = pi["ours-cached"]["introspection_calls_per_10k"]
    for lang in ("py", "node"):
        po = r.get(f"{lang}_operations")
        if po:
            s[f"{lang}_operations_vs_endpoint"] = ratio(po["median"]["operations"]["rps"],
                                                        po["median"]["endpoint"]["rps"])
            s[f"{lang}_operations_rss_growth_mb"] = po["rss"]["operations"]["growth_mb"]
            s[f"{lang}_endpoint_rss_growth_mb"] = po["rss"]["endpoint"]["growth_mb"]
    for lang in ("py", "node"):
        pd = r.get(f"{lang}_dpop", {}).get("median")
        if pd:
            s[f"{lang}_dpop_vs_bearer"] = ratio(pd["dpop"]["rps"], pd["bearer"]["rps"])
            s[f"{lang}_dpop_non_2xx"] = pd["dpop"]["non_2xx"]
            if "dpop-redis" in pd:
                s[f"{lang}_dpop_redis_p50_added_ms"] = round(pd["dpop-redis"]["p50_ms"] - pd["dpop"]["p50_ms"], 3)
                s[f"{lang}_dpop_redis_p99_added_ms"] = round(pd["dpop-redis"]["p99_ms"] - pd["dpop"]["p99_ms"], 3)
                s[f"{lang}_dpop_redis_vs_memory"] = ratio(pd["dpop-redis"]["rps"], pd["dpop"]["rps"])
    # Time ratios (lower is better): one verification through the package's verify function
    # against the bare signature check of the core floor (same algorithm and key size), taken
    # in the same rounds (the `bare` contender: the core bench's bare check, wall clock and CPU
    # time), or else against core.json's bare_ns.
    bare = {alg: c.get("bare_ns") for alg, c in core.get("algorithms", {}).items()}
    # `_repeat`: one token again and again, answered from the verifier's cache of verified tokens.
    for lang, part, contender, what in (("py", "py_verify", "ours_jwt", ""), ("node", "node_verify", "ours_url", ""),
                                        ("py", "py_verify", "ours_jwt_repeat", "_repeat"),
                                        ("node", "node_verify", "ours_url_repeat", "_repeat")):
        per = r.get(part, {}).get("ops_per_s", {})
        ops, same_rounds = per.get(contender), per.get("bare")
        for alg in ALGS:
            suffix = what + ("" if alg == "RS256" else "_" + alg.lower())
            if not (ops and ops.get(alg)):
                continue
            if same_rounds and same_rounds.get(alg):
                s[f"{lang}_verify_vs_bare{suffix}"] = ratio(same_rounds[alg], ops[alg])
                s[f"{lang}_verify_cpu_vs_bare{suffix}"] = ratio(same_rounds[alg + "_cpu"], ops[alg + "_cpu"])
            elif bare.get(alg):
                s[f"{lang}_verify_vs_bare{suffix}"] = round(1e9 / ops[alg] / bare[alg], 3)
    mem = r.get("memory")
    if mem:
        for name, m in mem.items():
            s[f"{name}_rss_growth_mb"] = m["rss_growth_mb"]
    imp = r.get("imports")
    if imp:
        s["py_import_ms"] = round(imp["py_ours_ms"], 1)
        s["py_import_ms_upstream"] = round(imp["py_upstream_ms"], 1)
        s["node_import_ms"] = round(imp["node_ours_ms"], 1)
        s["node_import_ms_upstream"] = round(imp["node_upstream_ms"], 1)
        for key, a in imp["artefacts"].items():
            s[f"artefact_{key}_bytes"] = a["bytes"]
    cold = r.get("cold")
    if cold:
        for name, c in cold.items():
            s[f"cold_{name}_first_request_ms"] = round(c["first_request_ms"], 2)
            s[f"cold_{name}_burst100_wall_ms"] = round(c["burst100_wall_ms"], 1)
    return s


def fmt(x, d=0):
    return "-" if x is None else f"{x:,.{d}f}"


def table(r, s):
    m = r["machine"]
    lines = [f"{m['date']}, {m['cpus']} CPUs, load average {m['loadavg_before'][0]:.1f} before / "
             f"{m['loadavg_after'][0]:.1f} after", ""]
    core = r.get("core", {}).get("algorithms", {})
    if core:
        lines += ["Core floor (ns per verification, cached keys)",
                  f"  {'alg':<8}{'ours':>9}{'static keys':>13}{'decode':>8}{'jsonwebtoken':>14}{'bare sig':>10}"
                  f"{'ours/bare':>11}"]
        for alg, c in core.items():
            lines.append(f"  {alg:<8}{fmt(c['ours_ns']):>9}{fmt(c.get('static_keys_ns')):>13}"
                         f"{fmt(c.get('decode_ns')):>8}{fmt(c['jsonwebtoken_verify_ns']):>14}{fmt(c['bare_ns']):>10}"
                         f"{fmt(c['overhead'], 3):>11}")
    dp = r.get("core", {}).get("dpop")
    if dp:
        lines.append(f"  DPoP proof check (ES256) {fmt(dp['proof_ns'])} ns, bare ES256 {fmt(dp['bare_es256_ns'])} ns:"
                     f" x{fmt(dp['proof_vs_bare'], 3)}")
    for key, title in (("py_verify", "Python verify (ops/s, median of rounds)"),
                       ("node_verify", "Node verify (ops/s, median of rounds)")):
        v = r.get(key, {}).get("ops_per_s")
        if v:
            lines += ["", title + "; per CPU-second in brackets",
                      f"  {'contender':<18}" + "".join(f"{a:>20}" for a in ALGS)]
            for c, per in v.items():
                lines.append(f"  {c:<18}" + "".join(f"{fmt(per[a]):>10} [{fmt(per[a + '_cpu']):>7}]" for a in ALGS))
    for key, title in (("py_http", "Python: Starlette behind the bearer middleware"),
                       ("node_http", "Node: Express behind bearerAuth")):
        h = r.get(key, {}).get("median")
        if h:
            lines += ["", title + f" (wrk, {r['machine']['http_rounds']} rounds)",
                      f"  {'':<11}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}{'CPU us/req':>11}{'busy':>6}"
                      f"{'non-2xx':>9}{'JWKS/10k':>10}"]
            for pkg, x in h.items():
                lines.append(f"  {pkg:<11}{fmt(x['rps']):>9}{fmt(x['p50_ms'], 2):>10}{fmt(x['p99_ms'], 2):>10}"
                             f"{fmt(x['cpu_us_per_request']):>11}{x['server_busy']:>6.0%}{x['non_2xx']:>9}{fmt(x['jwks_calls_per_10k'], 1):>10}")
    for lang, name_ in (("py", "Python"), ("node", "Node")):
        pi = r.get(f"{lang}_introspection", {}).get("median")
        if pi:
            lines += ["", f"{name_}: opaque tokens of 100 clients, introspection "
                      f"(wrk, {r['machine']['http_rounds']} rounds)",
                      f"  {'':<12}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}{'calls/10k':>11}"]
            for name, x in pi.items():
                lines.append(f"  {name:<12}{fmt(x['rps']):>9}{fmt(x['p50_ms'], 2):>10}{fmt(x['p99_ms'], 2):>10}"
                             f"{x['non_2xx']:>9}{fmt(x['introspection_calls_per_10k'], 1):>11}")
    for lang, name_ in (("py", "Python"), ("node", "Node")):
        pd = r.get(f"{lang}_dpop", {}).get("median")
        if pd:
            lines += ["", f"{name_}: one app in DPoP 'allowed' mode, Bearer vs DPoP (ES256 proof per request), "
                      f"proofs recorded in process or in Redis (wrk, {r['machine']['http_rounds']} rounds)",
                      f"  {'':<12}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}{'CPU us/req':>11}{'non-2xx':>9}"]
            for name, x in pd.items():
                lines.append(f"  {name:<12}{fmt(x['rps']):>9}{fmt(x['p50_ms'], 2):>10}{fmt(x['p99_ms'], 2):>10}"
                             f"{fmt(x['cpu_us_per_request']):>11}{x['non_2xx']:>9}")
    for lang, name_ in (("py", "Python"), ("node", "Node")):
        po = r.get(f"{lang}_operations")
        if po:
            lines += ["", f"{name_}: POST of a 1 KiB tools/call, endpoint rule vs 20 per-tool rules "
                      f"(wrk, {r['machine']['http_rounds']} rounds)",
                      f"  {'':<12}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}{'CPU us/req':>11}{'non-2xx':>9}"]
            for name, x in po["median"].items():
                lines.append(f"  {name:<12}{fmt(x['rps']):>9}{fmt(x['p50_ms'], 2):>10}{fmt(x['p99_ms'], 2):>10}"
                             f"{fmt(x['cpu_us_per_request']):>11}{x['non_2xx']:>9}")
            for name, m in po["rss"].items():
                lines.append(f"  RSS of {name}: {m['start_mb']:.1f} -> {m['end_mb']:.1f} MB over "
                             f"{m['requests']:,} requests")
    mem = r.get("memory")
    if mem:
        lines += ["", "Memory (RSS MB)"]
        for name, m in mem.items():
            lines.append(f"  {name:<10} start {m['rss_start_mb']:.1f}  end {m['rss_end_mb']:.1f}  "
                         f"growth {m['rss_growth_mb']:+.1f}  verifications {m['verifications']:,}  "
                         f"JWKS fetches {m['jwks_fetches']}  ({m['note']})")
            if "jwks_uris" in m:
                lines.append(f"  {'':<10} {m['jwks_uris']} JWKS URIs: RSS {m['rss_after_uris_mb']:.1f}, first URI "
                             f"{'evicted and refetched (bounded)' if m['evicted_refetched'] else 'still cached'}")
    imp = r.get("imports")
    if imp:
        lines += ["", "Cold import (ms, median; python -X importtime cumulative, node: a timed import())",
                  f"  python  ours {imp['py_ours_ms']:.1f}  upstream {imp['py_upstream_ms']:.1f}",
                  f"  node    ours {imp['node_ours_ms']:.1f}  upstream {imp['node_upstream_ms']:.1f}"]
        for key, a in imp["artefacts"].items():
            lines.append(f"  {key:<11} {a['bytes']:>12,} bytes  {a['file']}")
    cold = r.get("cold")
    if cold:
        lines += ["", "Cold start, lazy discovery (ms)",
                  f"  {'':<14}{'first':>8}{'warm':>8}{'100 burst':>11}{'p50':>8}{'max':>8}  fetches md/jwks"]
        for name, c in cold.items():
            f = c["burst100_fetches"]
            lines.append(f"  {name:<14}{fmt(c['first_request_ms'], 1):>8}{fmt(c['warm_request_ms'], 2):>8}"
                         f"{fmt(c['burst100_wall_ms'], 1):>11}{fmt(c['burst100_p50_ms'], 1):>8}"
                         f"{fmt(c['burst100_max_ms'], 1):>8}  {f['metadata']}/{f['jwks']}"
                         f" ({c['burst100_ok']}/100 ok)")
    lines += ["", "Summary (target/bench/summary.json; _vs_ = ours / theirs, higher is better, except _vs_bare:"
              " verification time / bare signature time, lower is better)"]
    lines += [f"  {k:<40} {v}" for k, v in s.items()]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--py-ours", required=True)
    p.add_argument("--py-upstream", required=True)
    p.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 5)))
    p.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 0.6)))
    p.add_argument("--http-rounds", type=int, default=int(os.environ.get("BENCH_HTTP_ROUNDS", 4)))
    p.add_argument("--http-seconds", type=float, default=float(os.environ.get("BENCH_HTTP_SECONDS", 5)))
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--cold-repeats", type=int, default=3)
    p.add_argument("--import-repeats", type=int, default=5)
    p.add_argument("--only", default=os.environ.get("BENCH_ONLY"), help="comma list: verify,http,memory,introspection,operations,dpop,cold")
    Bench(p.parse_args()).run()


if __name__ == "__main__":
    main()
