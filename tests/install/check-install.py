#!/usr/bin/env python3
"""Installs slotd into a DESTDIR and checks what an administrator gets.

usage: check-install.py BUILD_ROOT SOURCE_ROOT

The tree holds every file where Debian's tools look for it; the unit,
sysusers.d, tmpfiles.d, activation and policy files agree on the user,
the groups and the paths; slotd.conf lists every [daemon] key of
daemon/config.c; the man pages render without warnings and document
every option and command the programs print in --help; the installed
daemon starts from the installed slotd.conf and serves; the D-Bus daemon
accepts the activation file; `systemd-analyze verify` prints nothing on
stderr; `systemd-analyze security --offline=yes` rates the unit at most
2.0. Output is TAP; a check that cannot run here is skipped with the
reason.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.dom.minidom

BUILD, SOURCE = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="slotd-install-")
DEST = os.path.join(TMP, "dest")
MAX_EXPOSURE = 2.0
PLUGINS = ["home-hospital", "crisis-duty", "walk-in"]
MAN_PAGES = ["man8/slotd.8", "man1/slotctl.1", "man5/slotd.conf.5",
             "man7/slotd-plugin.7"]
INTERFACES = ["org.slotd.Scheduler1", "org.slotd.Planner1",
              "org.slotd.Admin1"]
results = []


class Skip(Exception):
    pass


def check(function):
    """Runs one check as a TAP test point."""
    name = function.__name__.replace("_", "-")
    try:
        function()
        results.append(True)
        print(f"ok {len(results)} - {name}")
    except Skip as reason:
        results.append(True)
        print(f"ok {len(results)} - {name} # SKIP {reason}")
    except Exception as error:  # report every failure, then go on
        results.append(False)
        print(f"not ok {len(results)} - {name}")
        for line in str(error).splitlines() or [repr(error)]:
            print(f"# {line}")


def run(*argv, env=None, check_rc=True, **kwargs):
    done = subprocess.run(argv, capture_output=True, text=True, env=env,
                          **kwargs)
    if check_rc and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited "
                             f"{done.returncode}:\n{done.stderr}")
    return done


# ---- where things go --------------------------------------------------

def build_options():
    out = run("meson", "introspect", BUILD, "--buildoptions").stdout
    return {o["name"]: o["value"] for o in json.loads(out)}


OPTIONS = build_options()
PREFIX = OPTIONS["prefix"]


def directory(name):
    value = OPTIONS[name]
    return value if value.startswith("/") else os.path.join(PREFIX, value)


def systemd_dir(variable, define):
    done = run("pkg-config", f"--define-variable={define}={PREFIX}",
               f"--variable={variable}", "systemd", check_rc=False)
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    fallback = {"systemdsystemunitdir": "lib/systemd/system",
                "sysusersdir": "lib/sysusers.d",
                "tmpfilesdir": "lib/tmpfiles.d"}
    return os.path.join(PREFIX, fallback[variable])


def staged(path):
    """The DESTDIR copy of an installed absolute path."""
    return DEST + path


LIBDIR = directory("libdir")
DATADIR = directory("datadir")
DOCDIR = os.path.join(DATADIR, "doc", "slotd")
PLUGINDIR = os.path.join(LIBDIR, "slotd", "plugins")
SYSCONF = os.path.join(directory("sysconfdir"), "slotd", "slotd.conf")
UNIT = os.path.join(systemd_dir("systemdsystemunitdir", "rootprefix"),
                    "slotd.service")
SYSUSERS = os.path.join(systemd_dir("sysusersdir", "prefix"), "slotd.conf")
TMPFILES = os.path.join(systemd_dir("tmpfilesdir", "prefix"), "slotd.conf")
POLICY = os.path.join(DATADIR, "dbus-1", "system.d", "org.slotd.Slotd1.conf")
ACTIVATION = os.path.join(DATADIR, "dbus-1", "system-services",
                          "org.slotd.Slotd1.service")
SLOTD = os.path.join(directory("sbindir"), "slotd")
SLOTCTL = os.path.join(directory("bindir"), "slotctl")


def expected_files():
    files = [SLOTD, SLOTCTL, SYSCONF, UNIT, SYSUSERS, TMPFILES, POLICY,
             ACTIVATION,
             os.path.join(directory("includedir"), "slotd", "plugin.h"),
             os.path.join(LIBDIR, "pkgconfig", "slotd-plugin.pc")]
    files += [os.path.join(PLUGINDIR, p + ".so") for p in PLUGINS]
    files += [os.path.join(DATADIR, "dbus-1", "interfaces", i + ".xml")
              for i in INTERFACES]
    files += [os.path.join(directory("mandir"), m) for m in MAN_PAGES]
    files += [os.path.join(DOCDIR, d) for d in
              ["errors.md", "operations.md", "config-format.md"]]
    example = os.path.join(SOURCE, "config", "example")
    for root, _, names in os.walk(example):
        for name in names:
            relative = os.path.relpath(os.path.join(root, name), example)
            files.append(os.path.join(DOCDIR, "example", relative))
    return files


def key_file(path):
    """GKeyFile groups -> {key: value}, comments dropped."""
    groups, group = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            group = groups.setdefault(line[1:-1], {})
        else:
            key, _, value = line.partition("=")
            group[key.strip()] = value.strip()
    return groups


# ---- the checks -------------------------------------------------------

def install_into_destdir():
    run("meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", DEST)


def tree_has_every_file():
    missing = [f for f in expected_files() if not os.path.isfile(staged(f))]
    assert not missing, "not installed:\n" + "\n".join(missing)
    for program in (SLOTD, SLOTCTL):
        assert os.access(staged(program), os.X_OK), program
    sample = os.path.join(PLUGINDIR, "example.so")
    assert not os.path.exists(staged(sample)), "the sample plugin is a doc"


def interface_xml_is_the_repository_copy():
    for name in INTERFACES:
        installed = staged(os.path.join(DATADIR, "dbus-1", "interfaces",
                                        name + ".xml"))
        source = os.path.join(SOURCE, "daemon", "dbus", name + ".xml")
        assert open(installed).read() == open(source).read(), name
        xml.dom.minidom.parse(installed)


def unit_names_the_installed_daemon():
    service = key_file(staged(UNIT))["Service"]
    assert service["ExecStart"].split()[0] == SLOTD, service["ExecStart"]
    # sd_notify (daemon/notify.c): ready once the name is taken, and a
    # watchdog the main loop feeds.
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] == "30s"
    assert int(service["LimitNOFILE"]) >= 256 + 64
    assert service["BusName"] == "org.slotd.Slotd1"
    assert service["User"] == "slotd" and service["Group"] == "slotd"
    activation = key_file(staged(ACTIVATION))["D-BUS Service"]
    assert activation["Name"] == service["BusName"]
    assert activation["SystemdService"] == "slotd.service"
    assert activation["User"] == service["User"]


def sysusers_creates_user_and_role_groups():
    """systemd-sysusers itself reads our file into an empty root."""
    if not shutil.which("systemd-sysusers"):
        raise Skip("systemd-sysusers is not installed")
    root = os.path.join(TMP, "sysroot")
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    run("systemd-sysusers", f"--root={root}", staged(SYSUSERS))
    users = [l.split(":") for l in open(os.path.join(root, "etc/passwd"))]
    groups = {l.split(":")[0] for l in open(os.path.join(root, "etc/group"))}
    slotd = [u for u in users if u[0] == "slotd"]
    assert slotd, "no slotd user"
    assert slotd[0][5] == "/var/lib/slotd", slotd[0]
    assert slotd[0][6].strip().endswith("nologin"), slotd[0]
    wanted = {"slotd", "slotd-read", "slotd-book", "slotd-admin",
              "slotd-planner", "slotd-gateway"}
    assert wanted <= groups, f"missing groups: {wanted - groups}"


def tmpfiles_creates_the_state_directories():
    if not shutil.which("systemd-tmpfiles"):
        raise Skip("systemd-tmpfiles is not installed")
    if os.geteuid() != 0:
        raise Skip("needs root to give the directories to slotd")
    root = os.path.join(TMP, "sysroot")
    if not os.path.exists(os.path.join(root, "etc/passwd")):
        raise Skip("sysusers did not run")
    run("systemd-tmpfiles", f"--root={root}", "--create", staged(TMPFILES))
    uid = [int(l.split(":")[2]) for l in open(os.path.join(root,
           "etc/passwd")) if l.startswith("slotd:")][0]
    for d in ["var/lib/slotd", "var/lib/slotd-backups"]:
        st = os.stat(os.path.join(root, d))
        assert st.st_uid == uid, f"{d} owned by {st.st_uid}, not {uid}"
        assert st.st_mode & 0o777 == 0o750, f"{d} mode {st.st_mode:o}"


def policy_lets_the_configured_groups_in():
    dom = xml.dom.minidom.parse(staged(POLICY))
    policies = dom.getElementsByTagName("policy")
    owners = [p.getAttribute("user") for p in policies
              if any(a.getAttribute("own") == "org.slotd.Slotd1"
                     for a in p.getElementsByTagName("allow"))]
    assert "slotd" in owners, f"user slotd cannot own the name: {owners}"
    groups = {p.getAttribute("group") for p in policies} - {""}
    access = key_file(staged(SYSCONF))["access"]
    configured = {access[k] for k in
                  ("read-groups", "book-groups", "admin-groups",
                   "planner-groups", "gateway-groups")}
    assert configured == groups, f"{configured} != policy {groups}"
    sysusers = {l.split()[1] for l in open(staged(SYSUSERS))
                if l.startswith("g ")}
    assert groups <= sysusers, f"not created: {groups - sysusers}"


def daemon_keys_of_config_c():
    text = open(os.path.join(SOURCE, "daemon", "config.c")).read()
    table = re.search(r"daemon_keys\[\] = \{(.*?)\};", text, re.S).group(1)
    return re.findall(r'"([a-z-]+)"', table)


def slotd_conf_documents_every_key():
    text = open(staged(SYSCONF), encoding="utf-8").read()
    assert "@" not in text, "an unsubstituted @...@ is left"
    keys = daemon_keys_of_config_c()
    assert len(keys) >= 10, keys
    missing = [k for k in keys
               if not re.search(rf"^#?{k}=", text, re.M)]
    assert not missing, f"keys without a line: {missing}"
    assert f"#plugin-dir={PLUGINDIR}\n" in text, "plugin-dir default"
    man = open(os.path.join(SOURCE, "docs", "man", "slotd.conf.5")).read()
    undocumented = [k for k in keys if k.replace("-", r"\-") not in man]
    assert not undocumented, f"not in slotd.conf(5): {undocumented}"


def pkg_config_finds_the_sdk():
    env = dict(os.environ,
               PKG_CONFIG_PATH=staged(os.path.join(LIBDIR, "pkgconfig")))
    cflags = run("pkg-config", "--cflags", "slotd-plugin", env=env).stdout
    include = [f[2:] for f in cflags.split() if f.startswith("-I")
               and os.path.isfile(os.path.join(f[2:], "slotd/plugin.h"))]
    assert include, f"no -I with slotd/plugin.h in {cflags!r}"
    plugindir = run("pkg-config", "--variable=plugindir", "slotd-plugin",
                    env=env).stdout.strip()
    assert os.path.realpath(plugindir) == \
        os.path.realpath(staged(PLUGINDIR)), plugindir
    source = os.path.join(TMP, "sdk.c")
    with open(source, "w") as f:
        f.write("#include <slotd/plugin.h>\n"
                "int abi = SLOTD_PLUGIN_ABI_MAJOR;\n")
    run("cc", "-fsyntax-only", *cflags.split(), source)


def man_pages_render_cleanly():
    if not shutil.which("man") or not shutil.which("lexgrog"):
        raise Skip("man-db is not installed")
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    for page in MAN_PAGES:
        path = staged(os.path.join(directory("mandir"), page))
        done = run("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8",
                   "-Z", path, env=env)
        assert not done.stderr, f"{page}:\n{done.stderr}"
        run("lexgrog", path)


def help_options(argv):
    done = run(*argv, check_rc=False)
    return set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)",
                          done.stdout, re.M))


def man_pages_follow_the_programs():
    """Every option and command in --help is in the man page."""
    slotd_man = open(os.path.join(SOURCE, "docs/man/slotd.8")).read()
    missing = [o for o in help_options([staged(SLOTD), "--help"])
               if o.replace("-", r"\-") not in slotd_man]
    ctl_man = open(os.path.join(SOURCE, "docs/man/slotctl.1")).read()
    ctl = staged(SLOTCTL)
    top = run(ctl, "--help", check_rc=False).stdout
    commands = re.findall(r"^  ([a-z][a-z-]+)  ", top.split("Commands:")[1],
                          re.M)
    assert len(commands) >= 15, commands
    for command in commands:
        if not re.search(rf"^\.(B|BI|BR) \"?{command.replace('-', r'.-')}",
                         ctl_man, re.M):
            missing.append(f"slotctl {command}")
        for option in help_options([ctl, command, "--help"]):
            if option.replace("-", r"\-") not in ctl_man:
                missing.append(f"slotctl {command} {option}")
    assert not missing, "not documented:\n" + "\n".join(sorted(missing))


# ---- the installed daemon ---------------------------------------------

class PrivateBus:
    """A dbus-daemon that also reads our activation file."""

    def __init__(self):
        config = os.path.join(TMP, "bus.conf")
        services = os.path.dirname(staged(ACTIVATION))
        with open(config, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={TMP}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        self.process = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--print-address",
             f"--config-file={config}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.process.stdout.readline().strip()

    def call(self, *args):
        return run("gdbus", "call", "--address", self.address, *args)

    def bus_call(self, method, *args):
        return self.call("--dest", "org.freedesktop.DBus", "--object-path",
                         "/org/freedesktop/DBus", "--method",
                         "org.freedesktop.DBus." + method, *args).stdout

    def stop(self):
        self.process.terminate()
        self.process.wait()


BUS = None


def bus_knows_the_activation_file():
    global BUS
    BUS = PrivateBus()
    assert BUS.address.startswith("unix:"), "no bus address"
    names = BUS.bus_call("ListActivatableNames")
    assert "'org.slotd.Slotd1'" in names, names


def fresh_install_starts_and_serves():
    """The installed slotd.conf as is, but for the feed port: one the
    kernel picks (tests run two at a time), asked of slotd."""
    if BUS is None:
        raise Skip("no private bus")
    etc = os.path.join(TMP, "etc")
    os.makedirs(etc)
    conf = os.path.join(etc, "slotd.conf")
    text = open(staged(SYSCONF), encoding="utf-8").read()
    text = text.replace("#http-address=127.0.0.1:8470",
                        "http-address=127.0.0.1:0")
    assert "\nhttp-address=127.0.0.1:0" in text, \
        "the installed slotd.conf has no #http-address=127.0.0.1:8470 line"
    argv = [staged(SLOTD), "--config", conf, "--state-dir",
            os.path.join(TMP, "state"), "--bus-address", BUS.address]
    if os.geteuid() == 0:
        # From the configuration, the plugin directory gets the system
        # checks (root-owned, not group/world-writable) it has in use.
        text = text.replace(f"#plugin-dir={PLUGINDIR}",
                            f"plugin-dir={staged(PLUGINDIR)}")
    else:
        argv += ["--plugin-dir", staged(PLUGINDIR)]
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    log = open(os.path.join(TMP, "slotd.log"), "w")
    daemon = subprocess.Popen(argv, stderr=log)
    try:
        wait_for_name(daemon)
        status = BUS.call("--dest", "org.slotd.Slotd1", "--object-path",
                          "/org/slotd/Slotd1", "--method",
                          "org.slotd.Admin1.GetStatus").stdout
        assert "'region': <'region'>" in status, status
        assert "'offerings': <uint32 0>" in status, status
        plugins = run(staged(SLOTCTL), "--address", BUS.address,
                      "plugins").stdout
        for p in PLUGINS:
            assert re.search(rf"^{p} ", plugins, re.M), plugins
        assert "refused" not in plugins, plugins
        if os.path.exists(os.path.join(SOURCE, "daemon", "http.c")):
            address = BUS.call("--dest", "org.slotd.Slotd1",
                               "--object-path", "/org/slotd/Slotd1",
                               "--method",
                               "org.slotd.Admin1.GetHttpAddress").stdout
            found = re.search(r"'127\.0\.0\.1:([0-9]+)'", address)
            assert found, f"no feed address: {address}"
            port = int(found.group(1))
            assert port != 0, address
            with socket.create_connection(("127.0.0.1", port), 5) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                assert s.recv(12).startswith(b"HTTP/1."), "no HTTP answer"
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        log.close()
    assert code == 0, f"exit status {code}:\n" + \
        open(os.path.join(TMP, "slotd.log")).read()


def wait_for_name(daemon):
    for _ in range(200):
        if "true" in BUS.bus_call("NameHasOwner", "org.slotd.Slotd1"):
            return
        if daemon.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError("slotd did not take its name:\n" +
                         open(os.path.join(TMP, "slotd.log")).read())


# ---- systemd-analyze --------------------------------------------------

def verification_root():
    """The staged tree, plus what the unit refers to from the host (kill
    for ExecReload=, the targets it is ordered against)."""
    root = os.path.join(TMP, "vroot")
    if os.path.exists(root):
        return root
    shutil.copytree(DEST, root, symlinks=True)
    kill = shutil.which("kill", path="/bin:/usr/bin")
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    shutil.copy(kill, os.path.join(root, "bin", "kill"))
    units = os.path.join(root, "usr", "lib", "systemd", "system")
    hosts = {os.path.realpath(h) for h in ("/lib/systemd/system",
                                           "/usr/lib/systemd/system")
             if os.path.isdir(h)}
    for host in hosts:
        shutil.copytree(host, units, symlinks=True, dirs_exist_ok=True)
    return root


def analyze(*args):
    if not shutil.which("systemd-analyze"):
        raise Skip("systemd-analyze is not installed (Debian: systemd)")
    root = verification_root()
    env = dict(os.environ, LC_ALL="C.UTF-8",
               MANPATH=root + directory("mandir"), SYSTEMD_PAGER="",
               SYSTEMD_COLORS="0")
    return run("systemd-analyze", *args, f"--root={root}", UNIT, env=env,
               check_rc=False)


def systemd_analyze_verify_is_silent():
    done = analyze("verify")
    assert done.returncode == 0 and not done.stderr.strip(), \
        f"exit {done.returncode}, stderr:\n{done.stderr}"


def systemd_analyze_security_exposure():
    done = analyze("security", "--offline=yes",
                   f"--threshold={int(MAX_EXPOSURE * 10)}")
    found = re.search(r"Overall exposure level for slotd.service: "
                      r"([0-9.]+)", done.stdout)
    assert found, f"no exposure figure:\n{done.stdout}\n{done.stderr}"
    exposure = float(found.group(1))
    print(f"# systemd-analyze security --offline=yes: exposure "
          f"{exposure} (at most {MAX_EXPOSURE})")
    assert exposure <= MAX_EXPOSURE and done.returncode == 0, done.stdout


def main():
    print("TAP version 13")
    try:
        check(install_into_destdir)
        for c in [tree_has_every_file, interface_xml_is_the_repository_copy,
                  unit_names_the_installed_daemon,
                  sysusers_creates_user_and_role_groups,
                  tmpfiles_creates_the_state_directories,
                  policy_lets_the_configured_groups_in,
                  slotd_conf_documents_every_key, pkg_config_finds_the_sdk,
                  man_pages_render_cleanly, man_pages_follow_the_programs,
                  bus_knows_the_activation_file,
                  fresh_install_starts_and_serves,
                  systemd_analyze_verify_is_silent,
                  systemd_analyze_security_exposure]:
            check(c)
    finally:
        if BUS:
            BUS.stop()
        if not os.environ.get("SLOTD_KEEP_TMP"):
            shutil.rmtree(TMP, ignore_errors=True)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
