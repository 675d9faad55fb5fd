#!/usr/bin/python3
"""An independent reading of a slotd feed: parses an iCalendar file with
Debian's python3-icalendar (not libical) and prints what it found, one
record a line, fields separated by tabs, for the C tests to compare.

    CAL <property> <value>
    TZ <tzid>
    EVENT <uid> <start> <end> <status> <sequence> <summary> <location>
          <dtstamp> <created> <last-modified>
    DETAIL <uid> <categories> <description>
    TRANSP <uid> <OPAQUE|TRANSPARENT>   (when the event says)
    FREEBUSY <fbtype> <start> <end>

Event times are ISO 8601 in Europe/Helsinki (as a subscriber shows
them), stamps and free/busy periods in UTC. Text fields are escaped as
C string literals (backslash, \\n, \\t, octal for other controls), which
g_strcompress() reverses. Exit status 1 when the file does not parse.

python3-icalendar 4.0.3 (Debian 12) reads the structure, the times and
the free/busy periods. Its TEXT decoding is wrong for some hostile
input (an escaped backslash before "n" becomes a line break; "%2C"
becomes a comma), so TEXT values are decoded here from the unfolded
content lines by the rules of RFC 5545 section 3.3.11.

usage: ics_dump.py FILE
       ics_dump.py --self-test     (checks this reader on a known text)
"""

import datetime
import io
import re
import sys

import icalendar
from dateutil import tz as dateutil_tz
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
UTC = datetime.timezone.utc


def escape(text):
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\%03o" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


FOLD = re.compile(r"\r\n[ \t]")
TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def rfc_unescape(raw):
    return TEXT_ESCAPE.sub(
        lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)


def split_line(line):
    """NAME, raw value: the value begins after the first colon that is
    not inside a quoted parameter value."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return re.split(r"[;:]", line[:i + 1], 1)[0].upper(), line[i + 1:]
    raise ValueError("no value in content line %r" % line)


def raw_texts(data):
    """The TEXT values of the calendar and of each VEVENT, in order."""
    calendar, events, stack = {}, [], []
    for line in FOLD.sub("", data.decode("utf-8")).split("\r\n"):
        if not line:
            continue
        name, value = split_line(line)
        if name == "BEGIN":
            stack.append(value.upper())
            if value.upper() == "VEVENT":
                events.append({})
        elif name == "END":
            stack.pop()
        elif stack == ["VCALENDAR"]:
            calendar[name] = rfc_unescape(value)
        elif stack and stack[-1] == "VEVENT":
            events[-1][name] = rfc_unescape(value)
    return calendar, events


def helsinki(value):
    dt = value.dt
    if dt.tzinfo is None:
        raise ValueError("floating time %r: no TZID" % (value.to_ical(),))
    return dt.astimezone(HELSINKI).isoformat()


def utc(value):
    return value.dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_vtimezone(calendar):
    """Reads each TZID time again through the feed's own VTIMEZONE
    (dateutil, a third reader) and refuses any disagreement with the
    system zone database."""
    zones = {}
    for component in calendar.walk("VTIMEZONE"):
        text = component.to_ical().decode()
        zones[str(component["TZID"])] = dateutil_tz.tzical(
            io.StringIO(text)).get()
    for event in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            prop = event[name]
            tzid = prop.params.get("TZID")
            if tzid is None:
                continue
            if tzid not in zones:
                raise ValueError("%s names TZID %s with no VTIMEZONE"
                                 % (name, tzid))
            local = prop.dt.replace(tzinfo=None)
            via_vtimezone = local.replace(tzinfo=zones[tzid])
            if via_vtimezone.astimezone(UTC) != prop.dt.astimezone(UTC):
                raise ValueError("%s %s: the VTIMEZONE says %s, tzdata %s"
                                 % (name, local, via_vtimezone.astimezone(
                                     UTC), prop.dt.astimezone(UTC)))


def emit(*fields):
    print("\t".join(fields))


def dump_event(event, texts):
    if str(event["UID"]) != texts.get("UID"):
        raise ValueError("VEVENTs out of step: %s" % event["UID"])
    emit("EVENT", escape(event["UID"]), helsinki(event["DTSTART"]),
         helsinki(event["DTEND"]), str(event.get("STATUS", "")),
         str(int(event.get("SEQUENCE", 0))),
         escape(texts.get("SUMMARY", "")), escape(texts.get("LOCATION", "")),
         utc(event["DTSTAMP"]),
         utc(event["CREATED"]) if "CREATED" in event else "",
         utc(event["LAST-MODIFIED"]) if "LAST-MODIFIED" in event else "")
    if "TRANSP" in event:
        emit("TRANSP", escape(event["UID"]), str(event["TRANSP"]))
    if "DESCRIPTION" in event or "CATEGORIES" in event:
        categories = event.get("CATEGORIES")
        names = [str(c) for c in categories.cats] if categories else []
        emit("DETAIL", escape(event["UID"]), escape(",".join(names)),
             escape(texts.get("DESCRIPTION", "")))


def dump_freebusy(component):
    periods = component.get("FREEBUSY", [])
    if not isinstance(periods, list):
        periods = [periods]
    for period in periods:
        end = period.end if not period.by_duration else \
            period.start + period.duration
        emit("FREEBUSY", period.params.get("FBTYPE", "BUSY"),
             period.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
             end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    calendar = icalendar.Calendar.from_ical(data)
    check_vtimezone(calendar)
    calendar_texts, event_texts = raw_texts(data)
    for name in ("PRODID", "VERSION", "CALSCALE", "METHOD", "NAME",
                 "X-WR-CALNAME", "X-WR-TIMEZONE", "REFRESH-INTERVAL",
                 "X-PUBLISHED-TTL"):
        if name in calendar:
            emit("CAL", name, escape(calendar_texts[name]))
    events = iter(event_texts)
    for component in calendar.walk():
        if component.name == "VTIMEZONE":
            emit("TZ", escape(component["TZID"]))
        elif component.name == "VEVENT":
            dump_event(component, next(events))
        elif component.name == "VFREEBUSY":
            dump_freebusy(component)
    return 0


# A calendar written by hand, with what a feed must survive: escapes
# (an escaped backslash before "n" among them), a fold inside a line
# after a two-octet letter, a TZID time on the repeated October hour's
# neighbour and a UTC one inside it, and free/busy periods.
SELF_TEST_INPUT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "NAME:a\\,b\\;c\\\\nd\\ne 100%2C\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Helsinki\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0300\r\n"
    "DTSTART:19700329T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0300\r\n"
    "TZOFFSETTO:+0200\r\nDTSTART:19701025T040000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:b-1@t\r\nDTSTAMP:20260302T050000Z\r\n"
    "CREATED:20260302T040000Z\r\nLAST-MODIFIED:20260302T050000Z\r\n"
    "DTSTART;TZID=Europe/Helsinki:20261025T020000\r\n"
    "DTEND:20261025T013000Z\r\nSTATUS:CANCELLED\r\nSEQUENCE:3\r\n"
    "SUMMARY:K\xc3\xa4\r\n yt\xc3\xa4v\xc3\xa4\r\nLOCATION:x\\\\\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VFREEBUSY\r\nUID:f@t\r\nDTSTAMP:20260302T050000Z\r\n"
    "FREEBUSY;FBTYPE=FREE:20260302T080000Z/20260302T083000Z\r\n"
    "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260302T083000Z/PT30M\r\n"
    "END:VFREEBUSY\r\nEND:VCALENDAR\r\n").encode("latin-1")

SELF_TEST_OUTPUT = [
    "CAL\tPRODID\t-//test//EN",
    "CAL\tVERSION\t2.0",
    "CAL\tNAME\ta,b;c\\\\nd\\ne 100%2C",
    "TZ\tEurope/Helsinki",
    "EVENT\tb-1@t\t2026-10-25T02:00:00+03:00\t2026-10-25T03:30:00+02:00"
    "\tCANCELLED\t3\tK\u00e4yt\u00e4v\u00e4\tx\\\\\t2026-03-02T05:00:00Z"
    "\t2026-03-02T04:00:00Z\t2026-03-02T05:00:00Z",
    "FREEBUSY\tFREE\t2026-03-02T08:00:00Z\t2026-03-02T08:30:00Z",
    "FREEBUSY\tBUSY-UNAVAILABLE\t2026-03-02T08:30:00Z\t2026-03-02T09:00:00Z",
]


def self_test():
    out = io.StringIO()
    global print
    saved = print
    print = lambda *a, **k: saved(*a, file=out)
    try:
        calendar = icalendar.Calendar.from_ical(SELF_TEST_INPUT)
        check_vtimezone(calendar)
        calendar_texts, event_texts = raw_texts(SELF_TEST_INPUT)
        for name in ("PRODID", "VERSION", "NAME"):
            emit("CAL", name, escape(calendar_texts[name]))
        events = iter(event_texts)
        for component in calendar.walk():
            if component.name == "VTIMEZONE":
                emit("TZ", escape(component["TZID"]))
            elif component.name == "VEVENT":
                dump_event(component, next(events))
            elif component.name == "VFREEBUSY":
                dump_freebusy(component)
    finally:
        print = saved
    got = out.getvalue().splitlines()
    if got != SELF_TEST_OUTPUT:
        for want, have in zip(SELF_TEST_OUTPUT + [""] * len(got),
                              got + [""] * len(SELF_TEST_OUTPUT)):
            if want != have:
                print("want %r\nhave %r" % (want, have), file=sys.stderr)
        return 1
    print("ok: ics_dump reads the known text as expected")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    try:
        sys.exit(main())
    except Exception as error:  # any failure to read is a failed test
        print("ics_dump: %s: %s" % (type(error).__name__, error),
              file=sys.stderr)
        sys.exit(1)
