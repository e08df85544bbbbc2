#!/bin/sh
# Man page checks:
#  - man -l renders docs/man/smb3d.8, smb3ctl.8 and smb3d.conf.5 without
#    groff/man warnings (MANWIDTH=80 man -l --warnings FILE, stderr empty);
#  - every option of `smb3d --help` appears in smb3d(8) and every option in
#    smb3d(8)'s OPTIONS appears in --help; same for smb3ctl(8), plus its
#    commands ("config check", "user add", ...) and their switches;
#  - every option name of the table in src/conf/conf_options.c appears as an
#    entry of smb3d.conf(5), every entry there is a real option, every entry
#    states its default, and the defaults printed by `smb3ctl config check`
#    for a minimal configuration are the ones the page states.
# Usage: test_manpages.sh [BUILD_DIR]   (default build; binaries are taken from
#        BUILD_DIR/ or BUILD_DIR/src/ and BUILD_DIR/tools/)
# Exit 0 when every check passed; the last line is "N passed, N failed".

cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac

SMB3D=
for c in "$B/smb3d" "$B/src/smb3d"; do [ -x "$c" ] && { SMB3D=$c; break; }; done
CTL=
for c in "$B/smb3ctl" "$B/tools/smb3ctl"; do [ -x "$c" ] && { CTL=$c; break; }; done
if [ -z "$SMB3D" ] || [ -z "$CTL" ]; then
	echo "smb3d or smb3ctl not found under $B" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# --- rendering -----------------------------------------------------------
for page in docs/man/smb3d.8 docs/man/smb3ctl.8 docs/man/smb3d.conf.5; do
	if [ ! -f "$page" ]; then
		bad "$page exists"
		continue
	fi
	MANWIDTH=80 man -l --warnings "$page" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && [ -s "$T/out" ]; then
		ok "man -l --warnings $page renders cleanly"
	else
		bad "man -l --warnings $page renders cleanly (rc $rc)"
		sed 's/^/  /' "$T/err"
	fi
	# the same with the C locale (ASCII output) and a narrow terminal
	LC_ALL=C MANWIDTH=60 man -l --warnings "$page" >"$T/out" 2>"$T/err"
	if [ $? -eq 0 ] && [ ! -s "$T/err" ]; then
		ok "man -l $page renders in the C locale at 60 columns"
	else
		bad "man -l $page renders in the C locale at 60 columns"
		sed 's/^/  /' "$T/err"
	fi
done

# --- help output vs man pages ----------------------------------------------
"$SMB3D" --help >"$T/smb3d.help" 2>&1
[ $? -eq 0 ] && ok "smb3d --help exits 0" || bad "smb3d --help exits 0"
"$CTL" --help >"$T/smb3ctl.help" 2>&1
[ $? -eq 0 ] && ok "smb3ctl --help exits 0" || bad "smb3ctl --help exits 0"

# effective defaults of a minimal configuration
mkdir -p "$T/share"
printf '[s]\n\tpath = %s/share\n' "$T" >"$T/min.conf"
"$CTL" config check "$T/min.conf" >"$T/defaults" 2>"$T/defaults.err"
[ $? -eq 0 ] && ok "smb3ctl config check of a minimal config exits 0" \
	|| { bad "smb3ctl config check of a minimal config exits 0"; cat "$T/defaults.err"; }

/usr/bin/python3 - "$T" >"$T/py.out" <<'EOF'
import re, sys

T = sys.argv[1]
results = []


def check(name, cond, detail=""):
    results.append((bool(cond), name, detail))


def text(s):
    """troff inline markup to plain text"""
    s = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", s)
    s = s.replace("\\-", "-").replace("\\ ", " ").replace("\\e", "\\").replace("\\&", "")
    s = re.sub(r"\\\((..)", lambda m: {"em": "--", "en": "-", "bu": "*"}.get(m.group(1), ""), s)
    return s


def macro_args(rest):
    args, cur, q, i = [], "", False, 0
    while i < len(rest):
        c = rest[i]
        if c == '"':
            if q and rest[i + 1:i + 2] == '"':
                cur += '"'
                i += 1
            else:
                q = not q
        elif c in " \t" and not q:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        args.append(cur)
    return args


def line_text(line):
    if line.startswith("."):
        parts = line[1:].split(None, 1)
        mac = parts[0] if parts else ""
        rest = parts[1] if len(parts) > 1 else ""
        if mac in ("B", "I", "SM", "SB"):
            return text(" ".join(macro_args(rest)))
        if mac in ("BR", "RB", "BI", "IB", "IR", "RI"):
            return text("".join(macro_args(rest)))
        return ""
    return text(line)


def parse(path):
    """{section: [(tag, body)]} for the .TP entries of each .SH section"""
    secs, sec, entries, cur, want_tag = {}, None, None, None, False
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.startswith(".SH"):
            sec = " ".join(macro_args(line[3:].strip()))
            entries = secs.setdefault(sec, [])
            cur, want_tag = None, False
            continue
        if line.startswith(".TP"):
            want_tag = True
            continue
        if line.startswith((".PP", ".P ", ".LP")) or line in (".P", ".LP"):
            cur = None
            continue
        if sec is None:
            continue
        if want_tag:
            cur = [line_text(line), ""]
            entries.append(cur)
            want_tag = False
            continue
        if cur is not None:
            cur[1] += " " + line_text(line)
    return {k: [(re.sub(r"\s+", " ", t).strip(), re.sub(r"\s+", " ", b).strip()) for t, b in v]
            for k, v in secs.items()}


def dash_tokens(s):
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", s))


# ---- smb3d(8) vs smb3d --help
help_d = open(T + "/smb3d.help").read()
man_d = parse("docs/man/smb3d.8")
h_opts = set()
for l in help_d.splitlines():
    if re.match(r"\s+-", l):
        h_opts |= dash_tokens(re.split(r"\s{2,}", l.strip())[0])
m_opts = set()
for tag, _ in man_d.get("OPTIONS", []):
    m_opts |= dash_tokens(tag)
check("smb3d --help lists options", h_opts, help_d)
for o in sorted(h_opts):
    check("smb3d --help option %s is in smb3d(8) OPTIONS" % o, o in m_opts, sorted(m_opts))
for o in sorted(m_opts):
    check("smb3d(8) option %s is in smb3d --help" % o, o in h_opts, sorted(h_opts))
check("smb3d --help names the default config /etc/smb3d/smb.conf",
      "/etc/smb3d/smb.conf" in help_d)
check("smb3d(8) names the default config /etc/smb3d/smb.conf",
      any("/etc/smb3d/smb.conf" in b for _, b in man_d.get("OPTIONS", [])))
check("smb3d --help and smb3d(8) both describe SIGHUP",
      "SIGHUP" in help_d and any("SIGHUP" in t for t, _ in man_d.get("SIGNALS", [])))

# ---- smb3ctl(8) vs smb3ctl --help
help_c = open(T + "/smb3ctl.help").read()
man_c = parse("docs/man/smb3ctl.8")
h_opts, h_cmds, h_cmd_opts, mode = set(), set(), set(), None
for l in help_c.splitlines():
    s = l.strip()
    if re.match(r"^(options|commands)\s*:", s, re.I):
        mode = s.split(":")[0].lower()
        continue
    if not s or not l[:1].isspace():
        continue
    head = re.split(r"\s{2,}", s)[0]
    if mode == "options":
        h_opts |= dash_tokens(head)
    elif mode == "commands":
        words = []
        for w in head.split():
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            words.append(w)
        h_cmds.add(" ".join(words))
        h_cmd_opts |= dash_tokens(head)
m_opts = set()
for tag, _ in man_c.get("OPTIONS", []):
    m_opts |= dash_tokens(tag)
m_cmds, m_cmd_opts = set(), set()
for tag, _ in man_c.get("COMMANDS", []):
    words = []
    for w in tag.split():
        if not re.fullmatch(r"[a-z][a-z-]*", w):
            break
        words.append(w)
    m_cmds.add(" ".join(words))
    m_cmd_opts |= dash_tokens(tag)
check("smb3ctl --help lists options", h_opts, help_c)
check("smb3ctl --help lists commands", h_cmds, help_c)
for o in sorted(h_opts):
    check("smb3ctl --help option %s is in smb3ctl(8) OPTIONS" % o, o in m_opts, sorted(m_opts))
for o in sorted(m_opts):
    check("smb3ctl(8) option %s is in smb3ctl --help" % o, o in h_opts, sorted(h_opts))
for c in sorted(h_cmds):
    check("smb3ctl --help command '%s' is in smb3ctl(8) COMMANDS" % c, c in m_cmds, sorted(m_cmds))
for c in sorted(m_cmds):
    check("smb3ctl(8) command '%s' is in smb3ctl --help" % c, c in h_cmds, sorted(h_cmds))
for o in sorted(h_cmd_opts):
    check("smb3ctl --help command switch %s is in smb3ctl(8) COMMANDS" % o, o in m_cmd_opts,
          sorted(m_cmd_opts))
for o in sorted(m_cmd_opts):
    check("smb3ctl(8) command switch %s is in smb3ctl --help" % o, o in h_cmd_opts,
          sorted(h_cmd_opts))

# ---- smb3d.conf(5) vs the option table
src = open("src/conf/conf_options.c", encoding="utf-8").read()
table = re.findall(r'^\s*\{\s*"([^"]+)"\s*,\s*(GLOBAL|SHARE)\s*,', src, re.M)
check("option table found in src/conf/conf_options.c", len(table) >= 20, len(table))
man5 = parse("docs/man/smb3d.conf.5")
entries = man5.get("GLOBAL OPTIONS", []) + man5.get("SHARE OPTIONS", [])
check("smb3d.conf(5) has GLOBAL OPTIONS and SHARE OPTIONS entries",
      man5.get("GLOBAL OPTIONS") and man5.get("SHARE OPTIONS"))


def norm(n):
    return re.sub(r"[\s_]", "", n.lower())


def tag_names(tag):
    # "server min protocol, server max protocol (also: min protocol)" -> names
    return [norm(x) for x in re.split(r"[,()]|\binverse:|\balso:|\balias(?:es)?:", tag)
            if x.strip()]


entry_of = {}
for sec in ("GLOBAL OPTIONS", "SHARE OPTIONS"):
    for tag, body in man5.get(sec, []):
        for n in tag_names(tag):
            entry_of.setdefault(n, (sec, tag, body))
known = {norm(n) for n, _ in table}
for name, scope in table:
    e = entry_of.get(norm(name))
    check("conf option '%s' has an entry in smb3d.conf(5)" % name, e)
    if e and scope == "GLOBAL":
        check("global option '%s' is under GLOBAL OPTIONS" % name, e[0] == "GLOBAL OPTIONS", e[0])
for n, (sec, tag, body) in sorted(entry_of.items()):
    check("smb3d.conf(5) entry '%s' is a real option" % n, n in known, tag)
nodefault = {"include", "path", "directory"}  # no default: include is an action, path required
for sec in ("GLOBAL OPTIONS", "SHARE OPTIONS"):
    for tag, body in man5.get(sec, []):
        names = set(tag_names(tag))
        if names & nodefault:
            continue
        has = re.search(r"\bDefaults?\b", body) or re.search(r"\bAs the global option\b", body)
        check("smb3d.conf(5) entry '%s' states its default" % tag, has, body)

# defaults printed by config check for a minimal configuration
sec = None
for l in open(T + "/defaults"):
    l = l.strip()
    if l.startswith("["):
        sec = l
        continue
    if "=" not in l or l.startswith(("#", ";")):
        continue
    name, val = [x.strip() for x in l.split("=", 1)]
    if sec != "[global]" and name == "path":
        continue
    if name == "netbios name":  # host dependent
        continue
    e = entry_of.get(norm(name))
    if not e:
        check("config check option '%s' has an entry in smb3d.conf(5)" % name, False)
        continue
    body = e[2]
    m = re.search(r"\bDefaults?\b:?(.*)", body)
    d = m.group(1) if m else ""
    check("smb3d.conf(5) default of '%s' is '%s' (as config check prints)" % (name, val),
          re.search(r"(?<![\w/.-])%s(?![\w/-])" % re.escape(val.lower()), d.lower()),
          "man: %r" % d.strip())

for good, name, detail in results:
    print("%s - %s" % ("ok  " if good else "FAIL", name))
    if not good and detail not in ("", None):
        print("  %s" % (detail,))
EOF
[ $? -eq 0 ] || bad "python checks ran"
cat "$T/py.out"
pass=$((pass + $(grep -c '^ok  ' "$T/py.out")))
fail=$((fail + $(grep -c '^FAIL' "$T/py.out")))

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
