#!/usr/bin/env python3
"""Crash safety of slotd: SIGKILL at a random moment, restart, check.

Starts a private dbus-daemon and slotd on a copy of the example region
(no feed server, a 21-day horizon), runs 8 clients (crash-client) that
book, cancel and reschedule and log every call they send and every
answer they get, kills slotd with SIGKILL at a random moment, restarts
it on the same database and checks:

- PRAGMA integrity_check is ok;
- every acknowledged booking is there with its last acknowledged status
  and slot; a change that was in flight when slotd died may have landed
  or not, but nothing in between (a cancel: booked or cancelled; a
  move: the old slot or the new one, still booked);
- nothing unacknowledged is there, except the in-flight booking of a
  client, and that one whole; a refused booking left nothing;
- every live booking holds exactly its seats, a cancelled one none,
  every slot's `booked` equals its live bookings' seats and booked +
  held never exceeds capacity; each booking has one 'book' audit row,
  and a 'cancel' row exactly when it is cancelled.

CRASH_ROUNDS (default 3) rounds; CRASH_SEED repeats a run. Exit status
0 when every round passed. tests/crash/run-full.sh runs 100 rounds.
"""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

CLIENTS = 8
# Monday 2026-12-07 07:00 in Helsinki: a full working fortnight ahead.
TEST_TIME = "1796619600"


class CheckFailed(Exception):
    pass


def roots():
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.environ.get("SLOTD_SOURCE_ROOT",
                            os.path.dirname(os.path.dirname(here)))
    build = os.environ.get("SLOTD_BUILD_ROOT")
    if not build:
        sys.exit("crash.py: set SLOTD_BUILD_ROOT to a meson build dir")
    return source, build


def copy_config(source, tmp):
    dst = os.path.join(tmp, "config")
    shutil.copytree(os.path.join(source, "config", "example"), dst)
    entry = os.path.join(dst, "slotd.conf")
    lines = []
    with open(entry) as f:
        for line in f:
            if line.startswith("http-address="):
                line = "http-address=\n"
            elif line.startswith("horizon-days="):
                line = "horizon-days=21\n"
            lines.append(line)
    with open(entry, "w") as f:
        f.writelines(lines)
    return entry


class Bus:
    def __init__(self):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Slotd:
    def __init__(self, build, config, state, address, log_path):
        self.build = build
        self.argv = [os.path.join(build, "daemon", "slotd"),
                     "--config", config, "--state-dir", state,
                     "--plugin-dir", os.path.join(build, "plugins"),
                     "--bus-address", address, "--debug"]
        self.address = address
        self.log_path = log_path
        self.proc = None

    def start(self):
        env = dict(os.environ, SLOTD_TEST_TIME=TEST_TIME)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log,
                                         stderr=log, env=env)
        client = os.path.join(self.build, "tests", "crash-client")
        if subprocess.call([client, self.address, "wait"]) != 0:
            raise CheckFailed("slotd did not come up; see " + self.log_path)
        if self.proc.poll() is not None:
            raise CheckFailed("slotd exited at start; see " + self.log_path)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=60)


class Model:
    """What the clients were told, and what was in flight."""

    def __init__(self):
        self.bookings = {}    # id -> {"status", "slot", "ref"}
        self.refused = set()  # client refs whose Book was refused
        self.inflight = []    # (op, a, b) sent, never answered
        self.acks = 0

    def read_log(self, path):
        pending = None
        with open(path) as f:
            for line in f:
                words = line.split()
                if not words:
                    continue
                if words[0] == "send":
                    pending = tuple(words[1:4])
                elif words[0] == "ack":
                    self.apply_ack(pending, words[1:4])
                    pending = None
                elif words[0] == "nak":
                    if pending and pending[0] == "book":
                        self.refused.add(pending[1])
                    pending = None
                elif words[0] == "bad":
                    raise CheckFailed("a client got an unexpected error: "
                                      + line.strip())
        if pending:
            self.inflight.append(pending)

    def apply_ack(self, sent, ack):
        op, booking, slot = ack
        self.acks += 1
        if op == "book":
            self.bookings[booking] = {"status": "booked", "slot": slot,
                                      "ref": sent[1]}
        elif op == "cancel":
            self.bookings[booking]["status"] = "cancelled"
        elif op == "move":
            self.bookings[booking]["slot"] = slot


def slot_id(row_slot):
    return "s-%d" % row_slot


def check_structure(db):
    ok = db.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        raise CheckFailed("integrity_check: " + ok)
    checks = {
        "a live booking without exactly its seats":
            "SELECT b.id FROM booking b WHERE b.status NOT IN"
            " ('cancelled', 'entered-in-error') AND b.seats !="
            " (SELECT coalesce(sum(u.seats), 0) FROM booking_use u"
            "  WHERE u.booking = b.id)",
        "a cancelled booking still holding seats":
            "SELECT DISTINCT u.booking FROM booking_use u JOIN booking b"
            " ON b.id = u.booking WHERE b.status IN"
            " ('cancelled', 'entered-in-error')",
        "seats of no booking":
            "SELECT u.booking FROM booking_use u LEFT JOIN booking b"
            " ON b.id = u.booking WHERE b.id IS NULL",
        "a slot whose booked differs from its bookings' seats":
            "SELECT s.id FROM slot s WHERE s.booked !="
            " (SELECT coalesce(sum(u.seats), 0) FROM booking_use u"
            "  JOIN booking b ON b.id = u.booking WHERE u.slot = s.id"
            "  AND b.status NOT IN ('cancelled', 'entered-in-error'))",
        "a slot over capacity":
            "SELECT id FROM slot WHERE booked + held > capacity",
    }
    for what, sql in checks.items():
        bad = [r[0] for r in db.execute(sql).fetchall()]
        if bad:
            raise CheckFailed("%s: %s" % (what, bad[:10]))


def check_inflight(model, rows):
    """In-flight changes: the old state or the new one, nothing else."""
    for op, a, b in model.inflight:
        if op == "book":
            continue
        row = rows.get(a)
        want = model.bookings[a]
        if op == "cancel":
            allowed = {("booked", want["slot"]),
                       ("cancelled", want["slot"])}
        else:
            allowed = {("booked", want["slot"]), ("booked", b)}
        got = (row["status"], row["slot"])
        if got not in allowed:
            raise CheckFailed("in-flight %s of %s: found %s, expected one"
                              " of %s" % (op, a, got, sorted(allowed)))
        want["status"], want["slot"] = got


def check_bookings(model, db):
    rows = {}
    for bid, ref, status, slot in db.execute(
            "SELECT id, client_ref, status, slot FROM booking"
            " WHERE client_ref LIKE 'crash-%'"):
        rows["b-%d" % bid] = {"ref": ref, "status": status,
                              "slot": slot_id(slot)}
    moving = {a for op, a, b in model.inflight if op != "book"}
    for bid, want in model.bookings.items():
        row = rows.get(bid)
        if row is None:
            raise CheckFailed("acknowledged booking %s (%s) is missing"
                              % (bid, want["ref"]))
        if bid not in moving and (row["status"], row["slot"]) != \
                (want["status"], want["slot"]):
            raise CheckFailed(
                "booking %s: acknowledged %s in %s, found %s in %s"
                % (bid, want["status"], want["slot"], row["status"],
                   row["slot"]))
    check_inflight(model, rows)
    booking_refs = {op_a for op, op_a, _ in model.inflight if op == "book"}
    for bid, row in rows.items():
        if bid in model.bookings:
            continue
        if row["ref"] in model.refused:
            raise CheckFailed("refused booking %s of %s is there"
                              % (bid, row["ref"]))
        if row["ref"] not in booking_refs:
            raise CheckFailed("booking %s of %s was never acknowledged"
                              " nor in flight" % (bid, row["ref"]))
        model.bookings[bid] = dict(row)
    model.inflight = []


def check_audit(model, db):
    counts = {}
    for booking, action, n in db.execute(
            "SELECT booking, action, count(*) FROM audit"
            " WHERE action IN ('book', 'cancel') GROUP BY booking, action"):
        counts[("b-%d" % booking, action)] = n
    for bid, want in model.bookings.items():
        if counts.get((bid, "book"), 0) != 1:
            raise CheckFailed("booking %s has %d 'book' audit rows"
                              % (bid, counts.get((bid, "book"), 0)))
        cancels = 1 if want["status"] == "cancelled" else 0
        if counts.get((bid, "cancel"), 0) != cancels:
            raise CheckFailed("booking %s (%s) has %d 'cancel' audit rows"
                              % (bid, want["status"],
                                 counts.get((bid, "cancel"), 0)))


def check(model, db_path):
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        check_structure(db)
        check_bookings(model, db)
        check_audit(model, db)
    finally:
        db.close()


def write_states(model, tmp):
    for n in range(CLIENTS):
        prefix = "crash-c%d-" % n
        with open(os.path.join(tmp, "state-c%d" % n), "w") as f:
            for bid, b in model.bookings.items():
                if b["ref"].startswith(prefix) and b["status"] == "booked":
                    f.write("%s %s\n" % (bid, b["slot"]))


def run_clients(build, address, tmp, rnd, rng):
    client = os.path.join(build, "tests", "crash-client")
    procs, logs = [], []
    for n in range(CLIENTS):
        log = os.path.join(tmp, "c%d-r%d.log" % (n, rnd))
        logs.append(log)
        procs.append(subprocess.Popen(
            [client, address, "run", str(n), str(rnd),
             str(rng.randrange(1 << 31)), log,
             os.path.join(tmp, "state-c%d" % n)]))
    return procs, logs


def wait_ready(logs, procs):
    """The moment to kill is drawn once every client has begun."""
    deadline = time.monotonic() + 60
    for log in logs:
        while time.monotonic() < deadline:
            if os.path.exists(log) and "ready" in open(log).read():
                break
            if any(p.poll() not in (None, 0) for p in procs):
                raise CheckFailed("a client failed to start")
            time.sleep(0.02)
        else:
            raise CheckFailed("the clients did not start in 60 s")


def one_round(rnd, rng, slotd, model, build, tmp, db_path):
    slotd.start()
    if rnd > 0:
        check(model, db_path)
    write_states(model, tmp)
    procs, logs = run_clients(build, slotd.address, tmp, rnd, rng)
    wait_ready(logs, procs)
    delay = rng.uniform(0.3, 2.0)
    time.sleep(delay)
    slotd.kill()
    for p in procs:
        if p.wait(timeout=60) not in (0,):
            raise CheckFailed("a client failed (exit %d)" % p.returncode)
    before = model.acks
    for log in logs:
        model.read_log(log)
    print("round %d: killed after %.2f s, %d acknowledged, %d in flight"
          % (rnd + 1, delay, model.acks - before, len(model.inflight)),
          flush=True)


def main():
    source, build = roots()
    rounds = int(os.environ.get("CRASH_ROUNDS", "3"))
    seed = int(os.environ.get("CRASH_SEED", str(random.randrange(1 << 31))))
    print("crash: %d rounds, CRASH_SEED=%d" % (rounds, seed), flush=True)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="slotd-crash-")
    bus = Bus()
    slotd = Slotd(build, copy_config(source, tmp), os.path.join(tmp, "state"),
                  bus.address, os.path.join(tmp, "slotd.log"))
    db_path = os.path.join(tmp, "state", "slotd.db")
    model = Model()
    try:
        for rnd in range(rounds):
            one_round(rnd, rng, slotd, model, build, tmp, db_path)
        slotd.start()
        check(model, db_path)
        if slotd.stop() != 0:
            raise CheckFailed("slotd did not stop cleanly after the run")
    except CheckFailed as e:
        print("crash: FAILED: %s (seed %d, files in %s)" % (e, seed, tmp))
        return 1
    finally:
        # Whatever happened, nothing started here outlives the run.
        if slotd.proc and slotd.proc.poll() is None:
            slotd.kill()
        bus.stop()
    live = sum(1 for b in model.bookings.values() if b["status"] == "booked")
    print("crash: %d rounds passed; %d acknowledged changes checked, %d "
          "bookings (%d live)" % (rounds, model.acks, len(model.bookings),
                                  live))
    if not os.environ.get("SLOTD_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
