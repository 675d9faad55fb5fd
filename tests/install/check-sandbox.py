#!/usr/bin/env python3
"""Runs slotd under strace through a day's work and checks that it stays
inside the sandbox slotd.service puts it in, so the hardening cannot
break it in production:

- SystemCallFilter=@system-service ~@privileged @resources: every system
  call it makes is in that set (systemd-analyze syscall-filter expands
  the groups), except fchown, which SQLite makes only when running as
  root (the unit runs as user slotd);
- MemoryDenyWriteExecute=yes: no mapping writable and executable, no
  mprotect adding PROT_EXEC, while all three plugins load;
- RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 and
  RestrictNamespaces=yes: no other socket family, no CLONE_NEW* flags;
- ProtectSystem=strict: it creates, writes, renames and removes files
  only in its state directory (the database), its backup directory
  (/var/lib/slotd-backups in the unit, here a directory beside the state
  directory: slotd refuses backups into the state directory) and in the
  private /tmp and /var/tmp of PrivateTmp=yes (SQLite's temporary files);
- ProtectHome=yes: it opens nothing under /home, /root or /run/user.

usage: check-sandbox.py BUILD_ROOT SOURCE_ROOT [--sanitized]
Exit 77 (skipped) without strace, where ptrace is not allowed, or in a
sanitizer build (the sanitizer runtime makes calls the daemon does not).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SKIP = 77
ALLOWED_FAMILIES = {"AF_UNIX", "AF_INET", "AF_INET6"}
ROOT_ONLY = {"fchown"}  # SQLite chowns its journal files as root only
# PrivateTmp=yes gives the unit its own writable /tmp and /var/tmp, where
# SQLite puts temporary files (large sorts, the online backup).
PRIVATE_TMP = ("/tmp/", "/var/tmp/")


def run(*argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def expand(group, cache={}):
    """A systemd-analyze syscall group, nested groups expanded."""
    if group not in cache:
        names = set()
        out = run("systemd-analyze", "syscall-filter", group).stdout
        for line in out.splitlines()[1:]:
            word = line.strip()
            if word.startswith("@"):
                names |= expand(word)
            elif word and not word.startswith("#"):
                names.add(word)
        cache[group] = names
    return cache[group]


def expand_all(words):
    names = set()
    for word in words:
        names |= expand(word) if word.startswith("@") else {word}
    return names


def allowed_syscalls():
    """The unit's SystemCallFilter= lines in order: the first allows,
    a later one adds to the set, one starting with ~ takes away."""
    allowed = set()
    unit = os.path.join(SOURCE, "systemd", "slotd.service.in")
    for line in open(unit, encoding="utf-8"):
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1].strip()
        if value.startswith("~"):
            allowed -= expand_all(value[1:].split())
        else:
            allowed |= expand_all(value.split())
    return allowed


class Daemon:
    def __init__(self, tmp):
        self.tmp = tmp
        self.state = os.path.join(tmp, "state")
        self.backups = os.path.join(tmp, "backups")
        self.trace = os.path.join(tmp, "trace")
        self.log = open(os.path.join(tmp, "slotd.log"), "w")
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.bus.stdout.readline().strip()
        self.port = None
        config = self.copy_example()
        self.process = subprocess.Popen(
            ["strace", "-f", "-qq", "-y", "-o", self.trace,
             os.path.join(BUILD, "daemon", "slotd"), "--config", config,
             "--state-dir", self.state, "--plugin-dir",
             os.path.join(BUILD, "plugins"), "--bus-address",
             self.address], stderr=self.log)

    def copy_example(self):
        target = os.path.join(self.tmp, "config")
        shutil.copytree(os.path.join(SOURCE, "config", "example"), target)
        entry = os.path.join(target, "slotd.conf")
        text = open(entry, encoding="utf-8").read()
        text = re.sub(r"^horizon-days=.*$", "horizon-days=14", text,
                      flags=re.M)
        address = ""
        if os.path.exists(os.path.join(SOURCE, "daemon", "http.c")):
            # A port the kernel picks: tests run two at a time.
            self.port = 0
            address = "127.0.0.1:0"
        text = re.sub(r"^http-address=.*$", f"http-address={address}",
                      text, flags=re.M)
        with open(entry, "w", encoding="utf-8") as f:
            f.write(text)
        return entry

    def signal(self, number):
        """To slotd itself: strace does not pass signals on."""
        children = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        for pid in open(children).read().split():
            os.kill(int(pid), number)

    def slotctl(self, *args):
        return run(os.path.join(BUILD, "tools", "slotctl"), "--address",
                   self.address, *args)

    def wait_ready(self):
        for _ in range(1200):
            status = self.slotctl("--json", "plugins")
            if status.returncode == 0:
                done = run("gdbus", "call", "--address", self.address,
                           "--dest", "org.slotd.Slotd1", "--object-path",
                           "/org/slotd/Slotd1", "--method",
                           "org.slotd.Admin1.GetStatus").stdout
                if "'horizon-complete': <true>" in done:
                    return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def stop(self):
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.bus.terminate()
        self.bus.wait()
        self.log.close()
        return code


def first_slot(daemon):
    out = daemon.slotctl("--json", "find", "needs-assessment-west",
                         "--municipality", "Lohja", "--limit", "5").stdout
    slots = json.loads(out)
    return slots[0]["slot"]


def word(text, prefix):
    found = re.search(rf"\b{prefix}-[0-9A-Za-z]+", text)
    assert found, f"no {prefix}- id in {text!r}"
    return found.group(0)


def fetch_feed(daemon):
    """A staff feed over HTTP, when this build has the feed server."""
    if daemon.port is None:
        return
    issued = daemon.slotctl("feed-url", "W-SNA-LV")
    url = re.search(r"http://\S+", issued.stdout)
    if issued.returncode != 0 or not url:
        return
    with urllib.request.urlopen(url.group(0), timeout=10) as response:
        assert response.status == 200, response.status


def workload(daemon):
    """What a day brings: looking, holding, booking, cancelling, a
    reload by call and by signal, a backup, reports and a feed."""
    for command in (["services"], ["units"], ["plugins"], ["list"]):
        assert daemon.slotctl(*command).returncode == 0, command
    slot = first_slot(daemon)
    hold = word(daemon.slotctl("hold", slot, "--seconds", "60").stdout, "h")
    booked = daemon.slotctl("book", slot, "client-sandbox-1", "--hold", hold)
    booking = word(booked.stdout, "b")
    assert daemon.slotctl("show", booking).returncode == 0
    assert daemon.slotctl("cancel", booking, "--reason",
                          "sandbox test").returncode == 0
    assert daemon.slotctl("reload").returncode == 0
    daemon.signal(signal.SIGHUP)
    os.makedirs(daemon.backups, exist_ok=True)
    copy = os.path.join(daemon.backups, "copy.db")
    assert daemon.slotctl("backup", copy).returncode == 0
    assert os.path.getsize(copy) > 0
    # Whatever the planning commands answer, they run their code paths.
    daemon.slotctl("report", "needs-assessment-west")
    daemon.slotctl("staffing", "crisis-duty-west")
    daemon.slotctl("deadlines", "needs-assessment-west")
    fetch_feed(daemon)
    assert daemon.slotctl("services").returncode == 0  # after the HUP


# ---- reading the trace ------------------------------------------------

# slotd has threads (Planner1's workers): strace -f splits a call that
# another thread's call interrupts into "socket(AF_UNIX, ... <unfinished
# ...>" and "<... socket resumed>) = 12". The first half has the name
# and the arguments, the second only the result, so it is left out.
CALL = re.compile(r"^\d+\s+([a-z_0-9]+)\((.*)$")


def calls(path):
    for line in open(path, errors="replace"):
        found = CALL.match(line)
        if found:
            yield found.group(1), found.group(2)


# A quoted path, after the directory descriptor it is relative to when
# there is one (strace -y prints a descriptor as 10</its/path>).
AT_PATH = re.compile(r'(?:\d+<([^>]*)>, )?"([^"]*)"')


def path_args(args):
    """The paths of a call; those relative to a directory descriptor (the
    backup writes through one) made absolute."""
    return [os.path.join(base, p) if base else p
            for base, p in AT_PATH.findall(args)]


def problems(trace, writable):
    """`writable`: the directories slotd may write in."""
    found = []
    allowed = allowed_syscalls()
    writing = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
    changing = {"mkdir", "mkdirat", "rename", "renameat", "renameat2",
                "unlink", "unlinkat", "rmdir", "link", "linkat", "symlink",
                "symlinkat", "truncate", "chmod", "fchmodat"}
    for name, args in calls(trace):
        if name not in allowed and name not in ROOT_ONLY:
            found.append(f"system call outside the filter: {name}({args}")
        if name in ("mmap", "mmap2") and "PROT_WRITE" in args and \
                "PROT_EXEC" in args:
            found.append(f"writable and executable mapping: {name}({args}")
        if name in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in args:
            found.append(f"mprotect adding PROT_EXEC: {name}({args}")
        if name in ("socket", "socketpair"):
            family = args.split(",")[0].strip()
            if family not in ALLOWED_FAMILIES:
                found.append(f"socket family {family}: {name}({args}")
        if name in ("clone", "clone3", "unshare", "setns") and \
                "CLONE_NEW" in args:
            found.append(f"new namespace: {name}({args}")
        paths = path_args(args)
        if (name in changing or (name.startswith("open") and
                                 any(w in args for w in writing))):
            for p in paths:
                if not (any(p.startswith(d + "/") or p == d
                            for d in writable) or
                        p.startswith(PRIVATE_TMP) or p == "/dev/null"):
                    found.append(f"writes outside the state dir: "
                                 f"{name}({args}")
        if name.startswith("open") or name in ("stat", "newfstatat",
                                               "statx", "access"):
            for p in paths:
                if p.startswith(("/home/", "/root/", "/run/user/")):
                    found.append(f"reads a home directory: {name}({args}")
    return found


def main():
    if "--sanitized" in sys.argv:
        print("skipped: the sanitizer runtime makes system calls of its "
              "own; run this check on a normal build")
        return SKIP
    for tool in ("strace", "systemd-analyze", "dbus-daemon", "gdbus"):
        if not shutil.which(tool):
            print(f"skipped: {tool} is not installed")
            return SKIP
    probe = run("strace", "-qq", "-o", os.devnull, "true")
    if probe.returncode != 0:
        print(f"skipped: strace cannot trace here: {probe.stderr.strip()}")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="slotd-sandbox-")
    try:
        daemon = Daemon(tmp)
        if not daemon.wait_ready():
            daemon.stop()
            print(open(os.path.join(tmp, "slotd.log")).read())
            print("FAIL: slotd did not start under strace")
            return 1
        try:
            workload(daemon)
        finally:
            code = daemon.stop()
        assert code == 0, f"slotd exited {code}"
        found = problems(daemon.trace, [os.path.realpath(daemon.state),
                                        os.path.realpath(daemon.backups)])
        names = {n for n, _ in calls(daemon.trace)}
        print(f"{len(names)} distinct system calls traced: "
              f"{' '.join(sorted(names))}")
        for p in found[:40]:
            print(f"FAIL: {p}")
        if found:
            return 1
        print("every call fits the slotd.service sandbox")
        return 0
    finally:
        if not os.environ.get("SLOTD_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
