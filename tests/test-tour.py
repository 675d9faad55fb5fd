#!/usr/bin/env python3
"""README's tour, run as written (issue 18).

Sets up what `./run.sh --at "2026-12-14 13:00"` sets up: a private
dbus-daemon and slotd on the example region (config/example, only the
feed server moved to a free loopback port) with its clock at Monday
2026-12-14 13:00 Helsinki time, while Lohja's walk-in session is open.
Then it takes every ```sh block under README.md's "A short tour" and
"D-Bus API" headings and runs them in order, in one bash with
`set -euo pipefail`, with SLOTCTL and SLOTD_BUS set as run.sh prints
them. Any command that fails fails the test, naming the block, so the
README and the daemon cannot drift apart.

Run by meson (suite daemon) with SLOTD_SOURCE_ROOT and SLOTD_BUILD_ROOT.
"""
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# A Monday, not a holiday, outside every closure of the example units.
DEMO_TIME = "2026-12-14 13:00"
SECTIONS = ("A short tour", "D-Bus API")


def fail(message):
    print("test-tour: " + message, file=sys.stderr)
    sys.exit(1)


def die_with_parent():
    """Nothing started here may outlive the test, even when it aborts."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def readme_blocks(path):
    """[(line, text)] of the ```sh blocks under SECTIONS, in order."""
    blocks = []
    section = None
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if fence is not None:
                if line.rstrip() == "```":
                    blocks.append(fence)
                    fence = None
                else:
                    fence[1].append(line)
                continue
            if line.startswith("## "):
                section = line[3:].strip()
            elif line.rstrip() == "```sh" and section in SECTIONS:
                fence = (number, [])
    if fence is not None:
        fail("README.md: the ```sh block at line %d is not closed" % fence[0])
    return [(number, "".join(lines)) for number, lines in blocks]


def copy_example(source, tmp):
    config = os.path.join(tmp, "config")
    shutil.copytree(os.path.join(source, "config", "example"), config)
    entry = os.path.join(config, "slotd.conf")
    with open(entry, encoding="utf-8") as f:
        text = f.read()
    # A free port the kernel picks when slotd binds it (a port found
    # free here could be taken by a test running beside this one).
    text, n = re.subn(r"(?m)^http-address=.*$",
                      "http-address=127.0.0.1:0", text)
    if n != 1:
        fail("config/example/slotd.conf has no http-address= line")
    with open(entry, "w", encoding="utf-8") as f:
        f.write(text)
    return entry


def helsinki_seconds(when):
    """As run.sh --at reads it: date -d in Europe/Helsinki."""
    env = dict(os.environ, TZ="Europe/Helsinki")
    return subprocess.check_output(["date", "-d", when, "+%s"], env=env,
                                   text=True).strip()


def status(address):
    return subprocess.run(
        ["gdbus", "call", "--address", address, "--dest",
         "org.slotd.Slotd1", "--object-path", "/org/slotd/Slotd1",
         "--method", "org.slotd.Admin1.GetStatus"],
        capture_output=True, text=True).stdout


def wait_ready(slotd, address, log_path):
    # Like run.sh: ready once every offering's slots reach the horizon.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if "'horizon-complete': <true>" in status(address):
            return
        if slotd.poll() is not None:
            break
        time.sleep(0.2)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        fail("slotd did not get ready; its log:\n" + f.read())


def tour_script(blocks):
    lines = ["set -Eeuo pipefail",
             "trap 'echo \"test-tour: README.md block at line "
             "$tour_block failed: $BASH_COMMAND\" >&2' ERR",
             "set -x"]
    for number, text in blocks:
        lines.append("tour_block=%d" % number)
        lines.append(text.rstrip("\n"))
    return "\n".join(lines) + "\n"


def run_tour(build, address, blocks, work):
    env = dict(os.environ,
               SLOTD_BUS=address,
               SLOTCTL="%s --address %s" % (
                   os.path.join(build, "tools", "slotctl"), address))
    return subprocess.run(["bash", "-c", tour_script(blocks)], cwd=work,
                          env=env, capture_output=True, text=True,
                          timeout=240)


def check_output(result, work):
    """A few things the tour should show, beyond every command passing."""
    wanted = ["ticket:", "position:", "estimated-start:", "BEGIN:VEVENT",
              "ref client-4711", "webcal://", ".FindSlots",
              "string \"127.0.0.1:"]
    missing = [w for w in wanted if w not in result.stdout]
    if missing:
        fail("the tour's output lacks %s:\n%s" % (missing, result.stdout))
    if not os.path.getsize(os.path.join(work, "heatmap.svg")):
        fail("report --svg wrote an empty heatmap.svg")


def main():
    source = os.environ.get("SLOTD_SOURCE_ROOT")
    build = os.environ.get("SLOTD_BUILD_ROOT")
    if not source or not build:
        fail("set SLOTD_SOURCE_ROOT and SLOTD_BUILD_ROOT (run from meson)")
    blocks = readme_blocks(os.path.join(source, "README.md"))
    if len(blocks) < 2:
        fail("README.md: found %d ```sh blocks under %s"
             % (len(blocks), " and ".join(SECTIONS)))

    tmp = tempfile.mkdtemp(prefix="slotd-tour-")
    bus = slotd = None
    ok = False
    try:
        config = copy_example(source, tmp)
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            preexec_fn=die_with_parent)
        address = bus.stdout.readline().strip()
        log_path = os.path.join(tmp, "slotd.log")
        with open(log_path, "w") as log:
            slotd = subprocess.Popen(
                [os.path.join(build, "daemon", "slotd"), "--config", config,
                 "--state-dir", os.path.join(tmp, "state"),
                 "--plugin-dir", os.path.join(build, "plugins"),
                 "--bus-address", address],
                stdout=log, stderr=log, preexec_fn=die_with_parent,
                env=dict(os.environ,
                         SLOTD_TEST_TIME=helsinki_seconds(DEMO_TIME)))
        wait_ready(slotd, address, log_path)

        result = run_tour(build, address, blocks, work)
        if result.returncode != 0:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                log = f.read()
            fail("the tour failed (exit %d)\n--- output\n%s--- commands\n%s"
                 "--- slotd's log\n%s" % (result.returncode, result.stdout,
                                          result.stderr, log[-4000:]))
        check_output(result, work)
        print(result.stdout)

        slotd.send_signal(signal.SIGTERM)
        code = slotd.wait(timeout=60)
        slotd = None
        if code != 0:
            fail("slotd exited with %d on SIGTERM" % code)
        ok = True
        print("test-tour: %d blocks of README.md ran as written"
              % len(blocks))
    finally:
        for proc in (slotd, bus):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
        if ok or not os.environ.get("SLOTD_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
