#!/usr/bin/env python3
"""Personal identity codes against slotd's door checks, from outside.

Generates Finnish personal identity codes (henkilotunnus) with a check
character computed here, spells each of them in many ways and feeds them
to tests/identity-check (daemon/validate.c as a filter): every spelling
must be refused as a client reference (InvalidClientRef), as an id and
as free text (InvalidArgs naming the field), and no message may repeat
the code or the input.

Then it measures false positives on generated pseudonyms (UUIDv4, hex
hashes of 16-64 characters, prefix-number references, references with an
ISO date) and compares the detector with a second implementation of the
rule written here with regular expressions, on random and mutated
strings. Nothing here asks the detector what a code is.

    identity-codes.py BUILD/tests/identity-check [--seed N] [--scale F]

The seed is printed first; IDENTITY_SEED=N or --seed N repeats a run.
Exit status 0 when everything holds.
"""

import argparse
import datetime
import os
import random
import re
import string
import subprocess
import sys
import uuid

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Century sign -> the century's first year.
CENTURIES = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900,
             "V": 1900, "U": 1900, "A": 2000, "B": 2000, "C": 2000,
             "D": 2000, "E": 2000, "F": 2000}
HEX = set(b"0123456789abcdefABCDEF")
# Largest false-positive rate allowed for each family of pseudonyms.
FP_LIMIT = 1e-4


class Code:
    """One identity code, from its parts."""

    def __init__(self, date, sign, number):
        self.date = date.strftime("%d%m") + "%02d" % (date.year % 100)
        self.sign = sign
        self.number = "%03d" % number
        self.check = CHECK_CHARS[int(self.date + self.number) % 31]

    def __str__(self):
        return self.date + self.sign + self.number + self.check


def random_code(rng, sign):
    first = datetime.date(CENTURIES[sign], 1, 1)
    days = (datetime.date(CENTURIES[sign] + 99, 12, 31) - first).days
    date = first + datetime.timedelta(days=rng.randint(0, days))
    return Code(date, sign, rng.randint(2, 999))


def spellings(c):
    """(name, text) for each way the code is written down."""
    d, s, n, k = c.date, c.sign, c.number, c.check
    return [
        ("canonical", f"{d}{s}{n}{k}"),
        ("no century sign", f"{d}{n}{k}"),
        ("dot", f"{d}.{n}{k}"),
        ("underscore", f"{d}_{n}{k}"),
        ("double dash", f"{d}--{n}{k}"),
        ("space, lower case", f"{d} {n}{k.lower()}"),
        ("lower case", f"{d}{s}{n}{k}".lower()),
        ("hetu: prefix", f"hetu:{d}{s}{n}{k}"),
        ("FI prefix", f"FI{d}{s}{n}{k}"),
        ("suffix", f"{d}{s}{n}{k}-2"),
        ("glued suffix", f"{d}{s}{n}{k}x"),
        ("in a sentence", f"asiakas {d} {n}{k} soitti"),
        ("spaced out", f"{d} {s} {n} {k}"),
        ("slashes", f"{d}/{n}/{k}"),
        ("colon and dots", f"id:{d}.{s}.{n}.{k}."),
        ("en dash", f"{d}\u2013{n}{k}"),
        ("no-break space", f"ref {d}\u00a0{n} {k}"),
        ("check on its own", f"{d}{s}{n} {k}"),
    ]


def run_checker(checker, mode, texts):
    data = "".join(t + "\n" for t in texts).encode()
    out = subprocess.run([checker, mode], input=data, check=True,
                         stdout=subprocess.PIPE).stdout
    lines = out.decode("utf-8", "replace").split("\n")[:-1]
    assert len(lines) == len(texts), (mode, len(lines), len(texts))
    return lines


class Report:
    def __init__(self, seed):
        self.seed = seed
        self.failures = 0

    def fail(self, message):
        self.failures += 1
        if self.failures <= 20:
            print(f"FAIL (seed {self.seed}): {message}")


# ---- every spelling of every code is refused -------------------------

FIELDS = {"client-ref": ("InvalidClientRef", "client reference"),
          "id": ("InvalidArgs", "idempotency-key"),
          "text": ("InvalidArgs", "reason")}


def check_codes(checker, rng, per_sign, report):
    cases = []
    for sign in CENTURIES:
        for _ in range(per_sign):
            code = random_code(rng, sign)
            cases += [(code, name, text)
                      for name, text in spellings(code)]
    texts = [t for _, _, t in cases]
    for mode in ("detect",) + tuple(FIELDS):
        verdicts = run_checker(checker, mode, texts)
        for (code, name, text), v in zip(cases, verdicts):
            expect_message(report, mode, code, name, text, v)
    print(f"codes: {len(cases)} spellings of "
          f"{len(cases) // len(spellings(cases[0][0]))} codes "
          f"({len(CENTURIES)} century signs), each as detect, client "
          f"reference, id and text")


def expect_message(report, mode, code, name, text, verdict):
    where = f"{mode}: {name} {text!r}"
    if mode == "detect":
        if verdict != "code":
            report.fail(f"{where} not found")
        return
    error, field = FIELDS[mode]
    kind, _, message = verdict.partition("\t")
    if kind != error:
        report.fail(f"{where} gave {verdict!r}, not {error}")
    elif field not in message:
        report.fail(f"{where}: message does not name {field}")
    elif code.date in message or code.number + code.check in message \
            or text in message:
        report.fail(f"{where}: the message repeats the code")


# ---- false positives on pseudonyms -----------------------------------

def uuids(rng, n):
    for _ in range(n):
        u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        yield u.upper() if rng.random() < 0.5 else u


def hex_hashes(rng, n):
    for _ in range(n):
        h = "%x" % rng.getrandbits(256)
        h = h.rjust(64, "0")[:rng.randint(16, 64)]
        yield h.upper() if rng.random() < 0.5 else h


PREFIXES = ["client", "c", "b", "ref", "asiakas", "k", "pt", "case",
            "hh-loh-n", "W-SNA-LV", "crisis", "klient", "x"]


def prefix_numbers(rng, n):
    for _ in range(n):
        prefix = rng.choice(PREFIXES) + rng.choice(["-", ".", "_", ""])
        number = str(rng.randint(1, 10 ** rng.randint(1, 8) - 1))
        if rng.random() < 0.3:
            number = number.zfill(rng.randint(len(number), 8))
        tail = rng.choice(["", "", "-a", "-2", f".{rng.randint(1, 99)}"])
        yield prefix + number + tail


def iso_date_refs(rng, n):
    first = datetime.date(1990, 1, 1)
    for _ in range(n):
        d = first + datetime.timedelta(days=rng.randint(0, 20000))
        sep = rng.choice(["-", ".", "_", ""])
        yield (f"{rng.choice(PREFIXES)}-{d:%Y%m%d}{sep}"
               f"{rng.randint(0, 99999):0{rng.randint(1, 5)}d}")


def ten_digit_numbers(rng, n):
    for _ in range(n):
        yield f"{rng.choice(PREFIXES)}-{rng.randint(0, 10**10 - 1):010d}"


def measure(checker, rng, name, texts, limit, report):
    verdicts = run_checker(checker, "client-ref", texts)
    refused = [t for t, v in zip(texts, verdicts) if v != "ok"]
    rate = len(refused) / len(texts)
    one_in = f"1 in {len(texts) // len(refused)}" if refused else "none"
    print(f"false positives, {name}: {len(refused)} of {len(texts)} "
          f"refused ({rate:.2e}, {one_in}); e.g. {refused[:3]}")
    if limit is not None and rate > limit:
        report.fail(f"{name}: false-positive rate {rate:.2e} is above "
                    f"{limit:.0e}")


def check_false_positives(checker, rng, scale, report):
    n = int(200000 * scale)
    measure(checker, rng, "UUIDv4", list(uuids(rng, n)), FP_LIMIT, report)
    measure(checker, rng, "hex, 16-64 characters",
            list(hex_hashes(rng, n)), FP_LIMIT, report)
    measure(checker, rng, "prefix-number references",
            list(prefix_numbers(rng, n)), FP_LIMIT, report)
    measure(checker, rng, "references with an ISO date",
            list(iso_date_refs(rng, n // 2)), FP_LIMIT, report)
    # These are the bare code form itself (DDMMYYNNNK): about 1 in 31
    # of the 3.7 % with a day-month date; measured, not a goal.
    measure(checker, rng, "10-digit numbers (the bare form)",
            list(ten_digit_numbers(rng, n // 4)), 0.005, report)
    plain = ["client-4711", "hh-loh-n07", "b-123", "c-1", "W-HH-LOH",
             "123456-7890", "991352A308T", "ref.2026.12.07",
             "131052-30", "visit-20240115-0042",
             "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
             "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    for text, v in zip(plain, run_checker(checker, "client-ref", plain)):
        if v != "ok":
            report.fail(f"pseudonym {text!r} refused: {v}")


# ---- a second implementation of the rule -----------------------------

SEP = rb"[^0-9A-Za-z]"
SHAPE_A = re.compile(rb"(\d{6})(%s*)([A-FU-Ya-fu-y]?)(%s*)(\d{3})(%s*)"
                     rb"([0-9A-Za-z]?)" % (SEP, SEP, SEP))
SHAPE_B = re.compile(rb"(\d{6})([-+A-FU-Ya-fu-y])(\d{3})")
DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def real_day(ddmmyy):
    day, month = int(ddmmyy[0:2]), int(ddmmyy[2:4])
    return 1 <= month <= 12 and 1 <= day <= DAYS[month - 1]


def hex_piece(b, start, end, also=b""):
    if not all(c in HEX or c in also for c in b[start:end]):
        return False
    return (start > 0 and b[start - 1] in HEX) or \
        (end < len(b) and b[end] in HEX)


def digit_runs_on(b, i):
    return i + 1 < len(b) and b[i:i + 2].isdigit()


def oracle(text):
    b = text.encode()
    for i in range(len(b)):
        if i > 0 and b[i - 1:i].isdigit():
            continue
        m = SHAPE_B.match(b, i)
        if m and real_day(m[1]):
            end = m.end()
            after = b[end:end + 1]
            if m[2] == b"-" and not after.isalpha():
                end = None
            elif after.isalnum():
                end = None if digit_runs_on(b, end) else end + 1
            if end is not None and not hex_piece(b, i, end, b"-"):
                return True
        m = SHAPE_A.match(b, i)
        if not m or not real_day(m[1]) or not m[7]:
            continue
        want = CHECK_CHARS[int(m[1] + m[5]) % 31]
        if m[7].decode().upper() != want or digit_runs_on(b, m.start(7)):
            continue
        if not hex_piece(b, i, m.end()):
            return True
    return False


def random_text(rng):
    pieces = list(string.digits * 6) + list(" .-_+/:") + \
        list("AaBbFfUuYyXxTtHhGgZz") + ["\u2013", "\u00e4"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(6, 40)))


def mutated_code(rng):
    sign = rng.choice(list(CENTURIES))
    text = rng.choice(spellings(random_code(rng, sign)))[1]
    text = rng.choice(["", "a", "7", "x-", "f", "ab12"]) + text + \
        rng.choice(["", "a", "7", "-y", "c", "0"])
    chars = list(text)
    for _ in range(rng.randint(0, 2)):
        i = rng.randrange(len(chars))
        what = rng.random()
        if what < 0.4:
            chars[i] = rng.choice(string.digits + string.ascii_letters)
        elif what < 0.7:
            del chars[i]
        else:
            chars.insert(i, rng.choice(" -.+a0"))
        if not chars:
            chars = ["0"]
    return "".join(chars)


def check_oracle(checker, rng, scale, report):
    n = int(40000 * scale)
    texts = [random_text(rng) for _ in range(n)] + \
        [mutated_code(rng) for _ in range(n)]
    texts = [t for t in texts if "\n" not in t]
    verdicts = run_checker(checker, "detect", texts)
    differ = 0
    codes = 0
    for text, v in zip(texts, verdicts):
        expected = oracle(text)
        codes += expected
        if (v == "code") != expected:
            differ += 1
            report.fail(f"detector says {v}, the second implementation "
                        f"{'code' if expected else 'none'}: {text!r}")
    print(f"second implementation: {len(texts)} strings ({codes} codes), "
          f"{differ} differences")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checker")
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("IDENTITY_SEED", "0"))
                        or random.SystemRandom().randrange(1, 2 ** 32))
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(f"seed {args.seed} (repeat with --seed {args.seed})")
    report = Report(args.seed)
    check_codes(args.checker, random.Random(args.seed),
                max(1, int(100 * args.scale)), report)
    check_false_positives(args.checker, random.Random(args.seed + 1),
                          args.scale, report)
    check_oracle(args.checker, random.Random(args.seed + 2), args.scale,
                 report)
    if report.failures:
        print(f"{report.failures} failures; seed {args.seed}")
        return 1
    print("all identity-code checks hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
