#!/usr/bin/env python3
"""Runs berth's integration tests: tests/integration/test_*.py, every test_* function.

  python3 tests/integration/run.py [SUBSTRING ...]

Only tests whose "module.function" name contains one of the substrings run (all when none given).
env: BERTH_TEST_TARGET=berth|docker-registry, BERTH_BIN, BERTH_TEST_TIMEOUT (seconds, default 120),
BERTH_TEST_LOG_LINES (server log lines shown on failure, default 25),
BERTH_TEST_NO_TARGET_SKIPS=1 (run berth-only/v1.1/deviation tests on any target; debugging aid).
A module with SHARED_SERVER = True shares one server among its tests (except @own_server /
@no_server tests). Prints `ok name`, `FAIL name` (+ reason), `skip name (reason)`; last line
`N passed, N failed[, N skipped]`; exit status 1 when any test failed.
"""

import glob
import importlib.util
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lib  # noqa: E402

DEFAULT_TIMEOUT = float(os.environ.get("BERTH_TEST_TIMEOUT", "120"))


def load_modules():
    mods = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods


def tests_of(mod):
    fns = [v for k, v in vars(mod).items() if k.startswith("test_") and callable(v)
           and getattr(v, "__module__", None) == mod.__name__]
    fns.sort(key=lambda f: f.__code__.co_firstlineno)
    return fns


def skip_reason(fn):
    if os.environ.get("BERTH_TEST_NO_TARGET_SKIPS") == "1":
        return None  # debugging aid: run berth-only / v1.1 / deviation tests on any target
    if not lib.IS_BERTH:
        if getattr(fn, "berth_only", None):
            return "berth-only: %s" % fn.berth_only
        if getattr(fn, "requires_v11", None):
            return "requires spec v1.1: %s" % fn.requires_v11
        if getattr(fn, "known_deviation", None) and lib.TARGET == "docker-registry":
            return "docker-registry 2.8.2 deviates from the spec: %s" % fn.known_deviation
    return None


def run_with_timeout(fn, arg, seconds):
    result = {}

    def target():
        try:
            fn(arg)
            result["ok"] = True
        except BaseException as e:  # noqa: B902
            result["exc"] = e
            result["tb"] = traceback.format_exc()

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        return "timeout", "test exceeded its %.0fs timeout" % seconds
    if "ok" in result:
        return "ok", None
    e = result["exc"]
    if isinstance(e, lib.SkipTest):
        return "skip", str(e)
    if isinstance(e, AssertionError):
        # keep the assertion message, plus the test-file frame that raised it
        frames = [l for l in result["tb"].splitlines() if "tests/integration/test_" in l]
        where = ("\n    at " + frames[-1].strip()) if frames else ""
        return "fail", "%s%s" % (e, where)
    return "fail", result["tb"]


def main(argv):
    filters = argv[1:]
    counts = {"ok": 0, "fail": 0, "skip": 0}
    start = time.time()
    print("target: %s%s" % (lib.TARGET, (" (%s)" % lib.BERTH_BIN) if lib.IS_BERTH else ""),
          flush=True)
    for mod in load_modules():
        shared = None
        mod_name = mod.__name__
        for fn in tests_of(mod):
            name = "%s.%s" % (mod_name, fn.__name__)
            if filters and not any(f in name for f in filters):
                continue
            reason = skip_reason(fn)
            if reason:
                print("skip %s (%s)" % (name, reason), flush=True)
                counts["skip"] += 1
                continue
            tmo = getattr(fn, "timeout", DEFAULT_TIMEOUT)
            server = None
            own = False
            outcome, msg = None, None
            try:
                if getattr(fn, "no_server", False):
                    arg = None
                elif getattr(mod, "SHARED_SERVER", False) and not getattr(fn, "own_server", False):
                    if shared is None or not shared.alive():
                        if shared is not None:
                            shared.cleanup()
                        shared = lib.Server(name=mod_name)
                        shared.start()
                    server = shared
                    arg = lib.Registry(server)
                else:
                    server = lib.Server(name=name)
                    own = True
                    server.start()
                    arg = lib.Registry(server)
            except lib.SkipTest as e:
                outcome, msg = "skip", str(e)
            except AssertionError as e:
                outcome, msg = "fail", "server start: %s" % e
            if outcome is None:
                seen500 = len(server.errors_5xx) if server else 0
                outcome, msg = run_with_timeout(fn, arg, tmo)
                if server is not None and lib.IS_BERTH and outcome in ("ok", "fail"):
                    new500 = server.errors_5xx[seen500:]
                    if new500:
                        extra = "berth answered 500 (never allowed): " + "; ".join(new500[:5])
                        outcome, msg = "fail", (msg + "\n    " + extra) if msg else extra
                if server is not None and outcome in ("fail", "timeout"):
                    if server.proc is not None and server.proc.poll() is not None:
                        msg += "\n    server exited with status %s" % server.proc.returncode
                    msg += "\n" + server.log_tail()
                if outcome == "timeout" and server is not None:
                    server.kill()  # unblock the stuck test thread
            if own and server is not None:
                server.cleanup()
            if outcome == "ok":
                counts["ok"] += 1
                print("ok   %s" % name, flush=True)
            elif outcome == "skip":
                counts["skip"] += 1
                print("skip %s (%s)" % (name, msg), flush=True)
            else:
                counts["fail"] += 1
                print("FAIL %s\n    %s" % (name, msg.replace("\n", "\n    ")), flush=True)
        if shared is not None:
            if lib.IS_BERTH and shared.alive():
                st = shared.stop()
                if st not in (0, None) and st != -15:
                    print("note: shared server of %s exited with status %s on SIGTERM" % (
                        mod_name, st), flush=True)
            shared.cleanup()
    print("elapsed %.1fs" % (time.time() - start), flush=True)
    line = "%d passed, %d failed" % (counts["ok"], counts["fail"])
    if counts["skip"]:
        line += ", %d skipped" % counts["skip"]
    print(line, flush=True)
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
