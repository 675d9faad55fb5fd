#!/usr/bin/env python3
"""Crash safety of slotd: power loss at a chosen moment, restart, check.

Starts a private dbus-daemon and slotd on a copy of the example region
(no feed server, a 21-day horizon, the clock at Monday 2026-12-07 13:20
when the walk-in sessions of Lohja and Porvoo are open), runs 8 clients
(crash-client) that make every kind of change slotd has - Book on every
plugin kind, HoldFor then Book with the hold, ReleaseHold, BookSeries,
Cancel, Reschedule, SetStatus - and log every call they send and every
answer they get, then cuts the power.

Power loss: slotd runs with tests/crash/powerloss-vfs.c preloaded, an
SQLite VFS that writes to the real files only when SQLite syncs (a sync
takes CRASH_SYNC_US, 2 ms by default, like a disk's flush; now and then
an unsynced piece is written early, as an OS does). SIGKILL then loses
exactly what was not synced: what a power cut may lose.

When: every other round one client is the killer and pulls the plug
right after it got its Nth answer, while the answers of the same group
commit are on their way to the others (what catches "reply before
COMMIT"); the other rounds kill after a random 0.3-2 s.

After every cut, with slotd down, the checker compares the files with
the logs:

- PRAGMA integrity_check is ok;
- every acknowledged change is there: each booking with its last
  acknowledged status and slot, each acknowledged hold not used or
  released since, each series whole;
- a change in flight (sent, never answered) landed whole or not at all:
  a Book, Book with a hold (then the hold is gone, else it is still
  there), BookSeries (every visit or none), HoldFor, ReleaseHold, Cancel,
  Reschedule (old slot or new), SetStatus (old status or new); what it
  found becomes what the next round expects;
- nothing else: no booking or hold of the test that was neither
  acknowledged nor in flight, nothing of a refused request;
- seats: every live booking holds its seats in exactly the slots of its
  run (the slots of its offering that start in [start, end)), a
  cancelled or entered-in-error one none; every slot's booked is the sum
  of its booking_use seats and held the sum of its hold_use seats; each
  hold holds its seats in the slots of its run; booked + held never
  exceeds capacity; a series has all its visits;
- audit: each booking has one 'book' row and one 'cancel', 'status' and
  'reschedule' row per such change that happened.

Rounds run on one database, and the clients carry their bookings and
holds over. After the last round slotd is started and stopped cleanly
and the whole check runs once more. Then the harness checks itself: one
more round runs with SQLite forced to synchronous=OFF, and the checker
must find acknowledged changes lost (else the test fails: the power loss
would not be real).

Settings: CRASH_ROUNDS (4), CRASH_SEED (printed; repeats a run),
CRASH_POWER_LOSS (1; 0: SIGKILL only, no self-check), CRASH_SYNC_US
(2000), CRASH_WRITEBACK (0.02), CRASH_SELF_CHECK (1), CRASH_EXPECT_LOSS
(0; 1: the run must find a lost acknowledged change - used on a build
with a planted bug, see tests/crash/planted.sh). Exit status 0 when
every round passed (or, with CRASH_EXPECT_LOSS, when the loss was
found). tests/crash/run-full.sh runs 100 rounds.
"""
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

CLIENTS = 8
# Monday 2026-12-07 13:20 in Helsinki: walk-in sessions are open.
TEST_TIME = "1796642400"
LIVE = "status NOT IN ('cancelled', 'entered-in-error')"


class CheckFailed(Exception):
    pass


class Lost(CheckFailed):
    """An acknowledged change is not in the files."""


def roots():
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.environ.get("SLOTD_SOURCE_ROOT",
                            os.path.dirname(os.path.dirname(here)))
    build = os.environ.get("SLOTD_BUILD_ROOT")
    if not build:
        sys.exit("crash.py: set SLOTD_BUILD_ROOT to a meson build dir")
    return source, build


def setting(name, default):
    value = os.environ.get(name)
    return type(default)(value) if value not in (None, "") else default


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
            elif line.startswith("hold-max-seconds="):
                # Offers short enough to expire within a round, while
                # the clients answer some of them in time.
                line += "waitlist-offer-seconds=%d\n" % setting(
                    "CRASH_OFFER_SECONDS", 3)
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


def asan_runtime(exe):
    """The ASan runtime slotd links, which must come first in LD_PRELOAD."""
    try:
        out = subprocess.run(["ldd", exe], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return None
    m = re.search(r"(\S*libasan\.so\S*) => (\S+)", out)
    return m.group(2) if m else None


class Slotd:
    def __init__(self, build, config, state, address, log_path, vfs_log):
        self.build = build
        exe = os.path.join(build, "daemon", "slotd")
        self.argv = [exe, "--config", config, "--state-dir", state,
                     "--plugin-dir", os.path.join(build, "plugins"),
                     "--bus-address", address, "--debug"]
        self.address = address
        self.log_path = log_path
        self.vfs_log = vfs_log
        self.preload = [os.path.join(build, "tests",
                                     "crash-powerloss-vfs.so")]
        asan = asan_runtime(exe)
        if asan:
            self.preload.insert(0, asan)
        self.proc = None
        self.power_loss = True
        self.sync_us = 2000
        self.writeback = 0.0
        self.seed = 1
        self.sync_off = False

    def start(self):
        env = dict(os.environ, SLOTD_TEST_TIME=TEST_TIME)
        if self.power_loss:
            env.update(LD_PRELOAD=" ".join(self.preload),
                       SLOTD_TEST_VFS="powerloss",
                       SLOTD_TEST_VFS_SYNC_US=str(self.sync_us),
                       SLOTD_TEST_VFS_WRITEBACK=str(self.writeback),
                       SLOTD_TEST_VFS_SEED=str(self.seed),
                       SLOTD_TEST_VFS_LOG=self.vfs_log)
            if self.sync_off:
                env["SLOTD_TEST_SYNCHRONOUS"] = "off"
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


def booking_id(n):
    return "b-%d" % n


def slot_id(n):
    return "s-%d" % n


def hold_id(n):
    return "h-%d" % n


class Model:
    """What the clients were told, and what was in flight."""

    def __init__(self):
        self.bookings = {}   # id -> dict
        self.holds = {}      # id -> {"ref", "slot", "target"}
        self.gone_holds = {}  # id -> how it went: released, used by b-N
        self.refused = set()     # refs whose last booking request failed
        self.hold_refused = set()  # refs of refused HoldFor
        self.inflight = []   # words of each unanswered "send"
        self.acks = 0
        self.resolved = 0    # in-flight changes found landed or not
        self.ops = {}        # op -> acknowledged count
        # The waitlist (issue 16).
        self.entries = {}    # id -> dict, see new_entry
        self.offers = {}     # hold of an offer a client saw -> dict
        self.seen = 0        # offers seen (signal or ListWaitlist)

    def new_booking(self, bid, ref, target, slot, series=None):
        self.bookings[bid] = {"ref": ref, "target": target, "slot": slot,
                              "status": "booked", "moves": 0,
                              "statuses": 0, "cancels": 0,
                              "series": series, "use": None,
                              "touched": True}

    def new_entry(self, eid, ref, target):
        self.entries[eid] = {"ref": ref, "target": target,
                             "status": "waiting", "booking": None,
                             "declines": 0}

    def saw(self, words):
        """An open offer a client saw: it was committed before slotd
        showed it, so it must be found, open or closed, from now on."""
        eid, slot, hold, expires = words[0], words[1], words[2], \
            int(words[3])
        known = self.offers.get(hold)
        if known and (known["entry"], known["slot"],
                      known["expires"]) != (eid, slot, expires):
            raise CheckFailed("offer of %s seen as %s and as %s"
                              % (hold, known, words))
        if not known:
            self.seen += 1
            self.offers[hold] = {"entry": eid, "slot": slot,
                                 "expires": expires, "closed": None,
                                 "must_close": False}

    def close_seen(self, eid):
        """An acknowledged answer or leave: every offer of the entry
        seen so far is closed now."""
        for o in self.offers.values():
            if o["entry"] == eid:
                o["must_close"] = True

    def read_log(self, path):
        pending = None
        with open(path) as f:
            for line in f:
                words = line.split()
                if not words:
                    continue
                if words[0] == "send":
                    pending = words[1:]
                elif words[0] == "ack":
                    self.apply_ack(pending, words[1:])
                    pending = None
                elif words[0] == "nak":
                    self.apply_nak(pending)
                    pending = None
                elif words[0] == "seen":
                    self.saw(words[1:])
                elif words[0] == "bad":
                    raise CheckFailed("a client got an unexpected error: "
                                      + line.strip())
        if pending:
            self.inflight.append(pending)

    def apply_ack(self, sent, got):
        op = sent[0]
        self.acks += 1
        self.ops[op] = self.ops.get(op, 0) + 1
        if op in ("book", "hbook"):
            ref, target, slot = sent[1:4]
            self.new_booking(got[1], ref, target, slot)
            self.refused.discard(ref)
            if op == "hbook":
                del self.holds[sent[4]]
                self.gone_holds[sent[4]] = "used by " + got[1]
        elif op == "series":
            ref, target, slots = sent[1], sent[2], sent[3].split(",")
            ids = got[1].split(",")
            if len(ids) != len(slots):
                raise CheckFailed("series %s: %d visits sent, %d booked"
                                  % (ref, len(slots), len(ids)))
            for i, (bid, slot) in enumerate(zip(ids, slots)):
                self.new_booking(bid, ref, target, slot,
                                 (ids[0], i, len(ids)))
        elif op == "hold":
            self.holds[got[1]] = {"ref": sent[1], "target": sent[2],
                                  "slot": sent[3]}
        elif op == "release":
            del self.holds[sent[1]]
            self.gone_holds[sent[1]] = "released"
        elif op == "join":
            self.new_entry(got[1], sent[1], sent[2])
        elif op == "leave":
            self.entries[sent[1]]["status"] = "left"
            self.close_seen(sent[1])
        elif op == "decline":
            self.entries[sent[1]]["declines"] += 1
            self.close_seen(sent[1])
        elif op == "accept":
            e = self.entries[sent[1]]
            e["status"], e["booking"] = "booked", got[1]
            self.close_seen(sent[1])
            # Its slot is the accepted offer's, read from the files at
            # the next check (the client may have believed another).
            self.new_booking(got[1], e["ref"], e["target"], None)
        elif op in ("cancel", "move", "status"):
            self.bookings[sent[1]]["touched"] = True
        if op == "cancel":
            b = self.bookings[sent[1]]
            b["status"] = "cancelled"
            b["cancels"] += 1
        elif op == "move":
            b = self.bookings[sent[1]]
            b["slot"] = sent[2]
            b["moves"] += 1
        elif op == "status":
            b = self.bookings[sent[1]]
            b["status"] = sent[2]
            b["statuses"] += 1

    def apply_nak(self, sent):
        if sent[0] in ("book", "hbook", "series"):
            self.refused.add(sent[1])
        elif sent[0] == "hold":
            self.hold_refused.add(sent[1])


# ---- reading the files ----------------------------------------------------

def read_db(db):
    bookings, holds = {}, {}
    for (bid, ref, status, slot, series, index, length,
         key) in db.execute(
            "SELECT id, client_ref, status, slot, series, series_index,"
            " series_length, idempotency_key FROM booking"):
        bookings[booking_id(bid)] = {
            "ref": ref, "status": status, "slot": slot_id(slot),
            "series": (booking_id(series), index, length)
            if series is not None else None, "key": key}
    # An offer's hold is the daemon's, checked with its offer.
    for hid, ref, slot in db.execute(
            "SELECT id, client_ref, slot FROM hold WHERE id NOT IN"
            " (SELECT hold FROM waitlist_offer)"):
        holds[hold_id(hid)] = {"ref": ref, "slot": slot_id(slot)}
    return bookings, holds


# A resource_use row of table alias {0} that still counts.
USE_LIVE = ("(({0}.booking IS NOT NULL AND EXISTS (SELECT 1 FROM booking_use"
            " x WHERE x.booking = {0}.booking)) OR ({0}.hold IS NOT NULL AND"
            " EXISTS (SELECT 1 FROM hold y WHERE y.id = {0}.hold)))")


def check_structure(db):
    ok = db.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        raise CheckFailed("integrity_check: " + ok)
    checks = {
        "a cancelled or entered-in-error booking still holding seats":
            "SELECT DISTINCT u.booking FROM booking_use u JOIN booking b"
            " ON b.id = u.booking WHERE NOT b." + LIVE,
        "seats of no booking":
            "SELECT u.booking FROM booking_use u LEFT JOIN booking b"
            " ON b.id = u.booking WHERE b.id IS NULL",
        "a slot whose booked differs from its bookings' seats":
            "SELECT s.id FROM slot s WHERE s.booked !="
            " (SELECT coalesce(sum(u.seats), 0) FROM booking_use u"
            "  WHERE u.slot = s.id)",
        "seats of no hold":
            "SELECT u.hold FROM hold_use u LEFT JOIN hold h"
            " ON h.id = u.hold WHERE h.id IS NULL",
        "a slot whose held differs from its holds' seats":
            "SELECT s.id FROM slot s WHERE s.held !="
            " (SELECT coalesce(sum(u.seats), 0) FROM hold_use u"
            "  WHERE u.slot = s.id)",
        "a slot over capacity":
            "SELECT id FROM slot WHERE booked + held > capacity",
        # Resources (issue 13): a row counts while its booking holds
        # seats or its hold exists. The bookings of one slot share a
        # session's counsellor and room (ROLE@session needs, as the
        # walk-in sessions have since 09e57cc): one use, not two.
        "a practitioner, room or vehicle taken twice at once":
            "SELECT a.resource FROM resource_use a JOIN resource_use b"
            " ON a.resource = b.resource AND a.rowid < b.rowid"
            # A walk-in session's tickets share its counsellor and
            # room (`@session` needs); nothing else is shared.
            " AND NOT (a.slot = b.slot AND EXISTS (SELECT 1 FROM slot s"
            "  WHERE s.id = a.slot"
            "  AND s.offering LIKE '%/social-counselling-walk-in'))"
            " AND a.start < b.\"end\" AND b.start < a.\"end\""
            " WHERE " + USE_LIVE.format("a") + " AND "
            + USE_LIVE.format("b"),
        "a live booking of an offering made of resources that took none":
            "SELECT b.id FROM booking b WHERE (b.offering LIKE"
            " '%/home-hospital-%' OR b.offering LIKE '%/crisis-duty-%')"
            " AND EXISTS (SELECT 1 FROM booking_use u"
            "  WHERE u.booking = b.id)"
            " AND NOT EXISTS (SELECT 1 FROM resource_use r"
            "  WHERE r.booking = b.id)",
        "a series without all its visits":
            "SELECT b.id FROM booking b WHERE b.series IS NOT NULL AND"
            " ((SELECT count(DISTINCT c.series_index) FROM booking c"
            "  WHERE c.series = b.series) != b.series_length"
            " OR NOT EXISTS (SELECT 1 FROM booking f WHERE f.id = b.series"
            "  AND f.series_index = 0))",
    }
    for what, sql in checks.items():
        bad = [r[0] for r in db.execute(sql).fetchall()]
        if bad:
            raise CheckFailed("%s: %s" % (what, bad[:10]))


def entry_id(n):
    return "w-%d" % n


def read_waitlist(db):
    """The test's waitlist entries, {w-N: row}, and all offers,
    {h-N (the offer's hold): row}."""
    entries, offers = {}, {}
    for eid, ref, status, booking in db.execute(
            "SELECT id, client_ref, status, booking FROM waitlist_entry"
            " WHERE client_ref LIKE 'crash-c%'"):
        entries[entry_id(eid)] = {
            "ref": ref, "status": status,
            "booking": booking_id(booking) if booking else None}
    for oid, eid, slot, hold, expires, status, closed, booking in \
            db.execute("SELECT id, entry, slot, hold, expires, status,"
                       " closed, booking FROM waitlist_offer"):
        offers[hold_id(hold)] = {
            "id": oid, "entry": entry_id(eid), "slot": slot_id(slot),
            "expires": expires, "status": status, "closed": closed,
            "booking": booking_id(booking) if booking else None}
    return entries, offers


def check_waitlist_structure(db):
    """The waitlist's own consistency (issue 16), whatever was in
    flight: an offer is open exactly while its hold keeps the place, one
    open offer a slot and an entry, an accepted offer and its booked
    entry and booking go together, every offer told its client."""
    checks = {
        "two open offers for one slot":
            "SELECT slot FROM waitlist_offer WHERE status = 'open'"
            " GROUP BY slot HAVING count(*) > 1",
        "two open offers for one entry":
            "SELECT entry FROM waitlist_offer WHERE status = 'open'"
            " GROUP BY entry HAVING count(*) > 1",
        "an entry offered the same slot twice (a declined offer"
        " re-opened)":
            "SELECT entry FROM waitlist_offer GROUP BY entry, slot"
            " HAVING count(*) > 1",
        "an open offer whose hold is gone or keeps another slot or"
        " expiry":
            "SELECT o.id FROM waitlist_offer o LEFT JOIN hold h"
            " ON h.id = o.hold WHERE o.status = 'open' AND (h.id IS NULL"
            " OR h.slot != o.slot OR h.expires != o.expires)",
        "a closed offer whose hold still keeps the place":
            "SELECT o.id FROM waitlist_offer o WHERE o.status != 'open'"
            " AND EXISTS (SELECT 1 FROM hold h WHERE h.id = o.hold)",
        "an open offer of an entry no longer waiting":
            "SELECT o.id FROM waitlist_offer o JOIN waitlist_entry e"
            " ON e.id = o.entry WHERE o.status = 'open'"
            " AND e.status != 'waiting'",
        "an accepted offer without its booked entry and booking":
            "SELECT o.id FROM waitlist_offer o JOIN waitlist_entry e"
            " ON e.id = o.entry WHERE o.status = 'accepted' AND"
            " (o.booking IS NULL OR e.status != 'booked'"
            "  OR e.booking IS NOT o.booking OR NOT EXISTS (SELECT 1"
            "  FROM booking b WHERE b.id = o.booking"
            "  AND b.client_ref = e.client_ref))",
        "a booked entry without its one accepted offer":
            "SELECT e.id FROM waitlist_entry e WHERE e.status = 'booked'"
            " AND (e.booking IS NULL OR (SELECT count(*) FROM"
            " waitlist_offer o WHERE o.entry = e.id AND o.status ="
            " 'accepted' AND o.booking = e.booking) != 1)",
        "a closed offer without its closing time":
            "SELECT id FROM waitlist_offer WHERE (status = 'open')"
            " = (closed IS NOT NULL)",
        "an offer expired before its expiry":
            "SELECT id FROM waitlist_offer WHERE status = 'expired'"
            " AND closed < expires",
        "an offer without its client's notification":
            "SELECT o.id FROM waitlist_offer o WHERE NOT EXISTS"
            " (SELECT 1 FROM outbox x WHERE x.kind = 'offer'"
            "  AND x.entry = o.entry AND x.idempotency_key ="
            "  'slotd:w-' || o.entry || ':offer:' || o.id)",
    }
    for what, sql in checks.items():
        bad = [r[0] for r in db.execute(sql).fetchall()]
        if bad:
            raise CheckFailed("%s: %s" % (what, bad[:10]))


def runs(db):
    """Seat use of every live booking and every hold, checked against
    its run: consecutive slots of its offering from its first slot, each
    with the booking's (hold's) seats; a booking's run has the length
    its last 'book' or 'reschedule' audit row gives (written in the same
    transaction). Returns {id: ((slot, seats), ...)} for both."""
    order = {}   # slot id -> (offering, index in the offering's order)
    by_offering = {}
    for sid, offering in db.execute(
            "SELECT id, offering FROM slot ORDER BY offering, start"):
        lst = by_offering.setdefault(offering, [])
        order[sid] = (offering, len(lst))
        lst.append(sid)
    uses = {}
    for booking, slot, seats in db.execute(
            "SELECT booking, slot, seats FROM booking_use"):
        uses.setdefault(booking, []).append((slot, seats))
    holds_use = {}
    for hold, slot, seats in db.execute(
            "SELECT hold, slot, seats FROM hold_use"):
        holds_use.setdefault(hold, []).append((slot, seats))
    last_audit = {}
    for booking, detail in db.execute(
            "SELECT booking, detail FROM audit WHERE action IN"
            " ('book', 'reschedule') ORDER BY id"):
        last_audit[booking] = detail

    def run_of(what, first, seats, rows, length=None):
        offering, at = order[first]
        want = [(sid, seats) for sid in
                by_offering[offering][at:at + (length or len(rows))]]
        got = sorted(rows, key=lambda r: order[r[0]][1])
        if not rows or got != want:
            raise CheckFailed("%s holds %s, expected its run %s"
                              % (what, [(slot_id(a), b) for a, b in got],
                                 [(slot_id(a), b) for a, b in want]))
        return tuple(got)

    found = {}
    for bid, slot, seats in db.execute(
            "SELECT id, slot, seats FROM booking WHERE " + LIVE):
        m = re.search(r"seats (\d+) slots (\d+)$",
                      last_audit.get(bid, ""))
        if not m or int(m.group(1)) != seats:
            raise CheckFailed("booking %s: audit row %r does not match its"
                              " %d seats" % (booking_id(bid),
                                             last_audit.get(bid), seats))
        found[booking_id(bid)] = run_of(
            "booking " + booking_id(bid), slot, seats, uses.get(bid, []),
            int(m.group(2)))
    for hid, slot, seats in db.execute("SELECT id, slot, seats FROM hold"):
        found[hold_id(hid)] = run_of("hold " + hold_id(hid), slot, seats,
                                     holds_use.get(hid, []))
    return found


# ---- comparing with the model ---------------------------------------------

def rows_of(bookings, ref):
    return sorted((bid for bid, row in bookings.items() if row["ref"] == ref),
                  key=lambda bid: int(bid[2:]))


def resolve_inflight(model, bookings, holds, entries, offers):
    """Each unanswered change landed whole or not at all; what it did
    becomes what the model expects from now on."""
    for sent in model.inflight:
        op = sent[0]
        model.resolved += 1
        if op in ("join", "leave", "accept", "decline"):
            resolve_waitlist(model, sent, bookings, entries, offers)
        elif op in ("book", "hbook"):
            ref, target, slot = sent[1:4]
            found = rows_of(bookings, ref)
            known = [bid for bid in found if bid in model.bookings]
            new = [bid for bid in found if bid not in model.bookings]
            if known or len(new) > 1:
                raise CheckFailed("in-flight %s of %s: found %s" %
                                  (op, ref, found))
            if op == "hbook":
                hold = sent[4]
                if new and hold in holds:
                    raise CheckFailed("in-flight Book of %s with %s: booked"
                                      " and the hold is still there"
                                      % (ref, hold))
                if not new and hold not in holds:
                    raise Lost("in-flight Book of %s with %s: no booking"
                               " and the hold is gone" % (ref, hold))
                if new:
                    del model.holds[hold]
                    model.gone_holds[hold] = "used by " + new[0]
            if new:
                row = bookings[new[0]]
                if (row["slot"], row["status"], row["key"]) != \
                        (slot, "booked", ref):
                    raise CheckFailed("in-flight %s of %s landed as %s"
                                      % (op, ref, row))
                model.new_booking(new[0], ref, target, slot)
                model.refused.discard(ref)
            else:
                model.refused.add(ref)
        elif op == "series":
            ref, target, slots = sent[1], sent[2], sent[3].split(",")
            found = rows_of(bookings, ref)
            if found and len(found) != len(slots):
                raise CheckFailed("in-flight series %s: %d of %d visits"
                                  % (ref, len(found), len(slots)))
            for i, bid in enumerate(found):
                row = bookings[bid]
                if row["slot"] != slots[i] or \
                        row["series"] != (found[0], i, len(slots)):
                    raise CheckFailed("in-flight series %s landed as %s"
                                      % (ref, row))
                model.new_booking(bid, ref, target, slots[i],
                                  (found[0], i, len(slots)))
            if not found:
                model.refused.add(ref)
        elif op == "hold":
            ref, target, slot = sent[1:4]
            found = [hid for hid, h in holds.items() if h["ref"] == ref]
            if len(found) > 1 or (found and holds[found[0]]["slot"] != slot):
                raise CheckFailed("in-flight HoldFor of %s: found %s"
                                  % (ref, found))
            if found:
                model.holds[found[0]] = {"ref": ref, "target": target,
                                         "slot": slot}
            else:
                model.hold_refused.add(ref)
        elif op == "release":
            if sent[1] not in holds:
                del model.holds[sent[1]]
                model.gone_holds[sent[1]] = "released"
        else:
            bid = sent[1]
            want = model.bookings[bid]
            want["touched"] = True
            row = bookings.get(bid)
            if row is None:
                raise Lost("booking %s with a %s in flight is missing"
                           % (bid, op))
            old = (want["status"], want["slot"])
            new = {"cancel": ("cancelled", want["slot"]),
                   "move": (want["status"], sent[2] if op == "move"
                            else None),
                   "status": (sent[2] if op == "status" else None,
                              want["slot"])}[op]
            got = (row["status"], row["slot"])
            if got == new:
                want["status"], want["slot"] = got
                want[{"cancel": "cancels", "move": "moves",
                      "status": "statuses"}[op]] += 1
            elif got != old:
                # `old` is what was acknowledged before this change.
                raise Lost("booking %s: acknowledged %s in %s, found %s in"
                           " %s (and a %s in flight)"
                           % (bid, old[0], old[1], got[0], got[1],
                              {"cancel": "cancel", "move": "move to %s",
                               "status": "change to %s"}[op]
                              % tuple(sent[2:3])))
    model.inflight = []


def entry_offers(offers, eid, status=None):
    return [o for o in offers.values() if o["entry"] == eid
            and (status is None or o["status"] == status)]


def fill_accepted(model, bookings, offers):
    """An acknowledged AcceptOffer's booking is in the slot of the
    entry's accepted offer."""
    for eid, e in model.entries.items():
        b = model.bookings.get(e["booking"])
        if not b or b["slot"] is not None:
            continue
        if e["booking"] not in bookings:
            raise Lost("acknowledged AcceptOffer of %s (%s): booking %s is"
                       " missing" % (eid, e["ref"], e["booking"]))
        got = [o for o in entry_offers(offers, eid, "accepted")
               if o["booking"] == e["booking"]]
        if not got:
            raise Lost("acknowledged AcceptOffer of %s (%s): no accepted"
                       " offer made booking %s" % (eid, e["ref"],
                                                   e["booking"]))
        b["slot"] = got[0]["slot"]


def check_waitlist_acknowledged(model, entries, offers):
    """Every acknowledged JoinWaitlist, LeaveWaitlist, AcceptOffer and
    DeclineOffer that nothing in flight touches, and every offer a
    client saw, is there as acknowledged."""
    busy = {sent[1] for sent in model.inflight
            if sent[0] in ("leave", "accept", "decline")}
    for eid, want in model.entries.items():
        row = entries.get(eid)
        if row is None:
            raise Lost("acknowledged JoinWaitlist %s (%s) is missing"
                       % (eid, want["ref"]))
        if row["ref"] != want["ref"]:
            raise CheckFailed("entry %s is of %s, expected %s"
                              % (eid, row["ref"], want["ref"]))
        if eid in busy:
            continue
        if (row["status"], row["booking"]) != (want["status"],
                                               want["booking"]):
            raise Lost("entry %s: acknowledged %s%s, found %s%s"
                       % (eid, want["status"], " " + want["booking"]
                          if want["booking"] else "", row["status"],
                          " " + row["booking"] if row["booking"] else ""))
        declined = len(entry_offers(offers, eid, "declined"))
        if declined != want["declines"]:
            raise (Lost if declined < want["declines"] else CheckFailed)(
                "entry %s: %d DeclineOffer acknowledged, %d offers"
                " declined" % (eid, want["declines"], declined))
    for hold, seen in model.offers.items():
        row = offers.get(hold)
        what = "the offer of %s in %s kept by %s until %d" % (
            seen["entry"], seen["slot"], hold, seen["expires"])
        if row is None:
            raise Lost("%s, seen by its client, is gone" % what)
        if (row["entry"], row["slot"], row["expires"]) != (
                seen["entry"], seen["slot"], seen["expires"]):
            raise Lost("%s, seen by its client, is now of %s in %s until"
                       " %d" % (what, row["entry"], row["slot"],
                                row["expires"]))
        if seen["must_close"] and row["status"] == "open" and \
                seen["entry"] not in busy:
            raise Lost("%s is still open after an acknowledged answer or"
                       " leave" % what)
        if seen["closed"] and row["status"] != seen["closed"]:
            raise CheckFailed("%s was %s and is now %s"
                              % (what, seen["closed"], row["status"]))
        if row["status"] != "open":
            seen["closed"] = row["status"]


def resolve_waitlist(model, sent, bookings, entries, offers):
    """An in-flight waitlist change landed whole or not at all."""
    op = sent[0]
    if op == "join":
        ref, target = sent[1], sent[2]
        found = [eid for eid, row in entries.items() if row["ref"] == ref]
        if len(found) > 1 or (found and found[0] in model.entries):
            raise CheckFailed("in-flight JoinWaitlist of %s: found %s"
                              % (ref, found))
        if found:
            model.new_entry(found[0], ref, target)
        return
    eid = sent[1]
    want, row = model.entries[eid], entries.get(eid)
    if row is None:
        raise Lost("entry %s with a %s in flight is missing" % (eid, op))
    declined = len(entry_offers(offers, eid, "declined"))
    unchanged = (row["status"], row["booking"]) == (want["status"],
                                                    want["booking"])
    if op == "decline":
        if not unchanged or declined not in (want["declines"],
                                             want["declines"] + 1):
            raise CheckFailed("in-flight DeclineOffer of %s: entry %s, %d"
                              " declined, expected waiting and %d or %d"
                              % (eid, row["status"], declined,
                                 want["declines"], want["declines"] + 1))
        if declined > want["declines"]:
            want["declines"] += 1
            model.close_seen(eid)
        return
    if declined != want["declines"]:
        raise CheckFailed("entry %s: %d DeclineOffer acknowledged, %d"
                          " offers declined" % (eid, want["declines"],
                                                declined))
    if unchanged:
        return
    if op == "leave" and row["status"] == "left":
        want["status"] = "left"
        model.close_seen(eid)
    elif op == "accept" and row["status"] == "booked":
        bid = row["booking"]
        got = [o for o in entry_offers(offers, eid, "accepted")
               if o["booking"] == bid]
        if bid in model.bookings or bid not in bookings or not got:
            raise CheckFailed("in-flight AcceptOffer of %s landed as %s,"
                              " booking %s" % (eid, row, bid))
        want["status"], want["booking"] = "booked", bid
        model.close_seen(eid)
        model.new_booking(bid, want["ref"], want["target"], got[0]["slot"])
        model.refused.discard(want["ref"])
    else:
        raise CheckFailed("entry %s: was %s, found %s with a %s in flight"
                          % (eid, want["status"], row["status"], op))


def check_waitlist(model, entries):
    """Nothing else: every entry of the test was acknowledged or in
    flight, and is as the model has it."""
    for eid, row in entries.items():
        want = model.entries.get(eid)
        if want is None:
            raise CheckFailed("entry %s of %s was never acknowledged nor"
                              " in flight" % (eid, row["ref"]))
        if (row["status"], row["booking"]) != (want["status"],
                                               want["booking"]):
            raise CheckFailed("entry %s: expected %s %s, found %s %s"
                              % (eid, want["status"], want["booking"],
                                 row["status"], row["booking"]))


def check_waitlist_audit(db, entries, offers):
    """Each step of an entry has its audit row, each offer its
    notification (one each, in the step's own transaction)."""
    counts = {}
    for action, detail in db.execute(
            "SELECT action, detail FROM audit WHERE action IN"
            " ('waitlist-join', 'waitlist-leave', 'offer', 'offer-expire',"
            " 'offer-decline', 'offer-accept')"):
        m = re.match(r"(w-\d+)\b", detail or "")
        if m:
            key = (m.group(1), action)
            counts[key] = counts.get(key, 0) + 1
    told = {}
    for eid, n in db.execute("SELECT entry, count(*) FROM outbox"
                             " WHERE kind = 'offer' GROUP BY entry"):
        told[entry_id(eid)] = n
    for eid, row in entries.items():
        mine = entry_offers(offers, eid)
        by = {}
        for o in mine:
            by[o["status"]] = by.get(o["status"], 0) + 1
        expect = {"waitlist-join": 1,
                  "waitlist-leave": 1 if row["status"] == "left" else 0,
                  "offer": len(mine), "offer-expire": by.get("expired", 0),
                  "offer-decline": by.get("declined", 0),
                  "offer-accept": by.get("accepted", 0)}
        for action, n in expect.items():
            if counts.get((eid, action), 0) != n:
                raise CheckFailed("entry %s has %d '%s' audit rows, "
                                  "expected %d" % (eid, counts.get(
                                      (eid, action), 0), action, n))
        if told.get(eid, 0) != len(mine):
            raise CheckFailed("entry %s has %d offer notifications for %d"
                              " offers" % (eid, told.get(eid, 0),
                                           len(mine)))


def check_acknowledged(model, bookings, holds):
    """Before anything else: every acknowledged booking and hold that no
    change in flight touches is there as acknowledged. Reports how many
    are not."""
    moving = {sent[1] for sent in model.inflight
              if sent[0] in ("cancel", "move", "status", "release")}
    moving |= {sent[4] for sent in model.inflight if sent[0] == "hbook"}
    lost = []
    for bid, want in model.bookings.items():
        row = bookings.get(bid)
        if bid in moving:
            continue
        if row is None:
            lost.append("acknowledged booking %s (%s) is missing"
                        % (bid, want["ref"]))
        elif (row["status"], row["slot"]) != (want["status"],
                                              want["slot"]):
            lost.append("booking %s: acknowledged %s in %s, found %s in %s"
                        % (bid, want["status"], want["slot"],
                           row["status"], row["slot"]))
    for hid, want in model.holds.items():
        if hid not in moving and hid not in holds:
            lost.append("acknowledged hold %s (%s) is missing"
                        % (hid, want["ref"]))
    for hid, how in list(model.gone_holds.items()):
        if hid in holds:
            lost.append("hold %s: acknowledged %s, still there" % (hid, how))
        else:
            del model.gone_holds[hid]
    if lost:
        raise Lost("%s%s" % (lost[0], " (and %d more of %d bookings and "
                             "holds)" % (len(lost) - 1, len(model.bookings)
                                         + len(model.holds))
                             if len(lost) > 1 else ""))


def check_model(model, bookings, holds):
    for bid, want in model.bookings.items():
        row = bookings.get(bid)
        if row is None:
            raise Lost("acknowledged booking %s (%s) is missing"
                       % (bid, want["ref"]))
        if (row["status"], row["slot"]) != (want["status"], want["slot"]):
            raise Lost("booking %s: acknowledged %s in %s, found %s in %s"
                       % (bid, want["status"], want["slot"], row["status"],
                          row["slot"]))
        if row["series"] != want["series"]:
            raise CheckFailed("booking %s: series %s, expected %s"
                              % (bid, row["series"], want["series"]))
    for hid, want in model.holds.items():
        row = holds.get(hid)
        if row is None:
            raise Lost("acknowledged hold %s (%s) is missing"
                       % (hid, want["ref"]))
        if row["slot"] != want["slot"]:
            raise CheckFailed("hold %s: in %s, expected %s"
                              % (hid, row["slot"], want["slot"]))
    for bid, row in bookings.items():
        if bid in model.bookings:
            continue
        if row["ref"] in model.refused:
            raise CheckFailed("booking %s of the refused request %s is there"
                              % (bid, row["ref"]))
        raise CheckFailed("booking %s of %s was never acknowledged nor in"
                          " flight" % (bid, row["ref"]))
    for hid, row in holds.items():
        if hid not in model.holds:
            raise CheckFailed("hold %s of %s was never acknowledged nor in"
                              " flight" % (hid, row["ref"]))


def check_runs(model, found):
    """Seats change only with a change to the booking: a booking nobody
    touched since the last check holds exactly the slots it held then,
    and a hold always the ones it was taken with."""
    for bid, b in model.bookings.items():
        use = found.get(bid)
        if b["use"] is not None and not b["touched"] and use != b["use"]:
            raise CheckFailed("booking %s, unchanged since the last check,"
                              " held %s and now %s" % (bid, b["use"], use))
        b["use"], b["touched"] = use, False
    for hid, h in model.holds.items():
        use = found.get(hid)
        if h.get("use") is not None and use != h["use"]:
            raise CheckFailed("hold %s held %s and now %s"
                              % (hid, h["use"], use))
        h["use"] = use


def check_audit(model, db):
    counts = {}
    for booking, action, n in db.execute(
            "SELECT booking, action, count(*) FROM audit"
            " WHERE booking IS NOT NULL AND booking > 0"
            " GROUP BY booking, action"):
        counts[(booking_id(booking), action)] = n
    for bid, want in model.bookings.items():
        expect = {"book": 1, "cancel": want["cancels"],
                  "status": want["statuses"], "reschedule": want["moves"]}
        for action, n in expect.items():
            if counts.get((bid, action), 0) != n:
                raise CheckFailed("booking %s has %d '%s' audit rows, "
                                  "expected %d" % (bid, counts.get(
                                      (bid, action), 0), action, n))


def check_outbox(model, db):
    """Every acknowledged change left its client's notification: the
    outbox is written in the change's own transaction (issue 16)."""
    counts = {}
    for booking, kind, n in db.execute(
            "SELECT booking, kind, count(*) FROM outbox"
            " WHERE booking IS NOT NULL GROUP BY booking, kind"):
        counts[(booking_id(booking), kind)] = n
    for bid, want in model.bookings.items():
        told = 1 if want["ref"] else 0
        expect = {"booked": told, "cancelled": want["cancels"] * told,
                  "rescheduled": want["moves"] * told}
        for kind, n in expect.items():
            if counts.get((bid, kind), 0) != n:
                raise CheckFailed("booking %s has %d '%s' notifications, "
                                  "expected %d" % (bid, counts.get(
                                      (bid, kind), 0), kind, n))


def open_ro(db_path):
    return sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)


def check(model, db_path):
    """With slotd down: the files against the model."""
    try:
        db = open_ro(db_path)
        try:
            tables = {r[0] for r in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table'")}
            if "booking" not in tables:
                raise Lost("the database has no booking table: everything"
                           " acknowledged (%d changes) is gone"
                           % model.acks)
            check_structure(db)
            check_waitlist_structure(db)
            found = runs(db)
            bookings, holds = read_db(db)
            entries, offers = read_waitlist(db)
            fill_accepted(model, bookings, offers)
            check_acknowledged(model, bookings, holds)
            check_waitlist_acknowledged(model, entries, offers)
            resolve_inflight(model, bookings, holds, entries, offers)
            check_model(model, bookings, holds)
            check_waitlist(model, entries)
            check_runs(model, found)
            check_audit(model, db)
            check_outbox(model, db)
            check_waitlist_audit(db, entries, offers)
        finally:
            db.close()
    except sqlite3.Error as e:
        raise CheckFailed("reading the database: %s" % e) from e


def write_states(model, tmp, pools):
    for n in range(CLIENTS):
        prefix = "crash-c%d-" % n
        with open(os.path.join(tmp, "state-c%d" % n), "w") as f:
            f.write(pools)
            for bid, b in model.bookings.items():
                if b["ref"].startswith(prefix) and \
                        b["status"] not in ("cancelled", "entered-in-error"):
                    f.write("booking %s %s %s %s\n" % (
                        bid, b["status"], b["target"], b["slot"]))
            for hid, h in model.holds.items():
                if h["ref"].startswith(prefix):
                    f.write("hold %s %s %s %s\n" % (
                        hid, h["target"], h["slot"], h["ref"]))
            for eid, e in model.entries.items():
                if not e["ref"].startswith(prefix) or \
                        e["status"] != "waiting":
                    continue
                # The open offer it saw last, if it still is.
                offer = ""
                for hid, o in sorted(model.offers.items(),
                                     key=lambda kv: int(kv[0][2:])):
                    if o["entry"] == eid and not o["closed"] and \
                            not o["must_close"]:
                        offer = " %s %s %d" % (o["slot"], hid,
                                               o["expires"])
                f.write("entry %s %s%s\n" % (eid, e["target"], offer))


# ---- rounds ---------------------------------------------------------------

def find_pools(build, slotd, tmp):
    """The slots the clients choose from, as "pool" lines of their state:
    found once a round (crash-client pools) rather than by each client."""
    path = os.path.join(tmp, "pools")
    client = os.path.join(build, "tests", "crash-client")
    if subprocess.call([client, slotd.address, "pools", path]) != 0:
        raise CheckFailed("the clients' slots could not be found")
    with open(path) as f:
        return f.read()


def run_clients(build, slotd, tmp, rnd, rng, killer):
    client = os.path.join(build, "tests", "crash-client")
    procs, logs = [], []
    for n in range(CLIENTS):
        log = os.path.join(tmp, "c%d-r%d.log" % (n, rnd))
        logs.append(log)
        argv = [client, slotd.address, "run", str(n), str(rnd),
                str(rng.randrange(1 << 31)), log,
                os.path.join(tmp, "state-c%d" % n)]
        if killer and killer[0] == n:
            argv += [str(slotd.proc.pid), str(killer[1])]
        procs.append(subprocess.Popen(argv))
    return procs, logs


def wait_ready(logs, procs, slotd):
    """Until every client has begun, or has ended because the killer
    cut the power before it was ready."""
    deadline = time.monotonic() + 60
    for log, proc in zip(logs, procs):
        while time.monotonic() < deadline:
            if os.path.exists(log) and "ready" in open(log).read():
                break
            if any(p.poll() not in (None, 0) for p in procs):
                raise CheckFailed("a client failed to start")
            if proc.poll() == 0 and slotd.proc.poll() is not None:
                break
            time.sleep(0.02)
        else:
            raise CheckFailed("the clients did not start in 60 s")


def one_round(rnd, rng, slotd, model, build, tmp, db_path, label=None):
    """Runs the clients until the power goes; returns how it went."""
    slotd.seed = rng.randrange(1 << 31)
    slotd.start()
    write_states(model, tmp, find_pools(build, slotd, tmp))
    by_ack = rnd % 2 == 0
    killer = (rng.randrange(CLIENTS), rng.randint(30, 300)) if by_ack \
        else None
    procs, logs = run_clients(build, slotd, tmp, rnd, rng, killer)
    wait_ready(logs, procs, slotd)
    started = time.monotonic()
    if by_ack:
        # The killer pulls the plug; should it never get that far, the
        # round ends by the clock.
        try:
            slotd.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            by_ack = False
            slotd.kill()
    else:
        time.sleep(rng.uniform(0.3, 2.0))
        slotd.kill()
    slotd.proc.wait()
    elapsed = time.monotonic() - started
    for p in procs:
        if p.wait(timeout=60) != 0:
            raise CheckFailed("a client failed (exit %d)" % p.returncode)
    before = model.acks
    for log in logs:
        model.read_log(log)
    how = ("after the %dth answer of client %d" % (killer[1], killer[0])
           if by_ack else "after %.2f s" % elapsed)
    print("%s: power cut %s (%.2f s), %d acknowledged, %d in flight"
          % (label or "round %d" % (rnd + 1), how, elapsed,
             model.acks - before, len(model.inflight)), flush=True)
    check(model, db_path)


def vfs_says(slotd, text):
    try:
        with open(slotd.vfs_log) as f:
            return text in f.read()
    except FileNotFoundError:
        return False


def self_check(rnd, rng, slotd, model, build, tmp, db_path):
    """One round with synchronous=OFF: the checker must find losses. No
    early write-back, so that nothing of the round reaches the disk."""
    slotd.sync_off = True
    slotd.writeback = 0.0
    try:
        one_round(rnd, rng, slotd, model, build, tmp, db_path,
                  "self-check (synchronous=OFF)")
    except Lost as e:
        if not vfs_says(slotd, "synchronous forced off"):
            raise CheckFailed("self-check: the VFS never forced "
                              "synchronous=OFF") from e
        print("self-check: with synchronous=OFF the checker found: %s"
              % e, flush=True)
        return
    raise CheckFailed("self-check: with synchronous=OFF no acknowledged "
                      "change was lost; the power loss is not real")


def main():
    source, build = roots()
    rounds = setting("CRASH_ROUNDS", 4)
    seed = setting("CRASH_SEED", random.randrange(1 << 31))
    power_loss = setting("CRASH_POWER_LOSS", 1) != 0
    expect_loss = setting("CRASH_EXPECT_LOSS", 0) != 0
    self_checking = setting("CRASH_SELF_CHECK", 1) != 0 and power_loss \
        and not expect_loss
    print("crash: %d rounds, CRASH_SEED=%d, %s" % (
        rounds, seed, "power loss (sync %d us, writeback %g)" % (
            setting("CRASH_SYNC_US", 2000), setting("CRASH_WRITEBACK", 0.02))
        if power_loss else "SIGKILL only"), flush=True)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="slotd-crash-")
    bus = Bus()
    slotd = Slotd(build, copy_config(source, tmp), os.path.join(tmp, "state"),
                  bus.address, os.path.join(tmp, "slotd.log"),
                  os.path.join(tmp, "vfs.log"))
    slotd.power_loss = power_loss
    slotd.sync_us = setting("CRASH_SYNC_US", 2000)
    slotd.writeback = setting("CRASH_WRITEBACK", 0.02)
    db_path = os.path.join(tmp, "state", "slotd.db")
    model = Model()
    started = time.monotonic()
    try:
        for rnd in range(rounds):
            one_round(rnd, rng, slotd, model, build, tmp, db_path)
            if rnd == 0 and power_loss and not (
                    vfs_says(slotd, "open " + db_path + "\n") and
                    vfs_says(slotd, "sync " + db_path + "-wal\n")):
                raise CheckFailed("slotd's database did not go through "
                                  "the power-loss VFS; see " + slotd.vfs_log)
        slotd.start()
        if slotd.stop() != 0:
            raise CheckFailed("slotd did not stop cleanly after the run")
        check(model, db_path)
        acks, resolved, ops, seen = (model.acks, model.resolved,
                                     dict(model.ops), model.seen)
        if self_checking:
            self_check(rounds, rng, slotd, model, build, tmp, db_path)
        model.acks, model.resolved, model.ops, model.seen = (
            acks, resolved, ops, seen)
    except Lost as e:
        if expect_loss:
            print("crash: found the expected loss: %s (seed %d)" % (e, seed))
            shutil.rmtree(tmp, ignore_errors=True)
            return 0
        print("crash: FAILED: %s (seed %d, files in %s)" % (e, seed, tmp))
        return 1
    except CheckFailed as e:
        print("crash: FAILED: %s (seed %d, files in %s)" % (e, seed, tmp))
        return 1
    finally:
        # Whatever happened, nothing started here outlives the run.
        if slotd.proc and slotd.proc.poll() is None:
            slotd.kill()
        bus.stop()
    if expect_loss:
        print("crash: FAILED: expected a lost acknowledged change, found "
              "none in %d rounds (seed %d)" % (rounds, seed))
        return 1
    live = sum(1 for b in model.bookings.values()
               if b["status"] not in ("cancelled", "entered-in-error"))
    print("crash: %d rounds passed in %.0f s; %d acknowledged changes "
          "checked (%s), %d in flight resolved, %d bookings (%d live), "
          "%d waitlist entries, %d offers seen"
          % (rounds, time.monotonic() - started, model.acks,
             ", ".join("%s %d" % kv for kv in sorted(model.ops.items())),
             model.resolved, len(model.bookings), live,
             len(model.entries), model.seen))
    if not os.environ.get("SLOTD_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
