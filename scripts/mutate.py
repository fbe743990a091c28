#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
Mutation testing of pvhk's pure logic (`make mutate`, docs/mutation.md).

Each mutant is one single-point change to one source file. It is built in a
private copy of the tree (build/mutate/wN/, never the tracked files) and run
against the host tests and the host CLI tests; a mutant that any of them
notices (a failure, a sanitizer report, a crash, a timeout) is killed, one
that passes everything survived. Survivors listed in
tests/mutate-equivalents.txt, each with the reason it cannot be told apart
from the original, are left out of the second score.

Environment (all optional):
  MUTATE_FILES    space-separated sources (default: the covered pure files)
  MUTATE_MAX      at most this many mutants per file, evenly spread
  MUTATE_JOBS     mutants tested in parallel (default 2)
  MUTATE_TIMEOUT  seconds per test stage (default: 3x its unmutated time + 10)
  MUTATE_GREP     only the mutants whose "FILE:LINE: `...` -> `...`" line
                  matches this Python regular expression
  MUTATE_LIST=1   only list the mutants, build nothing
  MUTATE_RETEST=1 keep the last run's kills (build/mutate/results.txt) and
                  test only its survivors and the mutants it did not have
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), '..'))
WORK = os.path.join(ROOT, 'build', 'mutate')
EQUIV_FILE = 'tests/mutate-equivalents.txt'
DEFAULT_FILES = ('mm/page_alloc.c mm/page_table.c mm/page_range.c mm/page_check.c mm/page_cpu.c '
                 'mm/page_smp.c '
                 'mm/page_state.c mm/page_ref.c mm/memblock.c mm/e820.c '
                 'mm/scratch.c mm/extra_mem.c xen/p2m.c xen/grant_table.c '
                 'xen/evtchn_2l.c xen/xs_msg.c xen/xs_ring.c xen/xs_events.c '
                 'xen/xs_conn.c xen/xs_ops.c').split()

# The host tests that kill a file's mutants fastest, run before the rest
# (build/host/hosttests takes several filters; a test runs if its name
# contains any). The default is the file's stem up to its first underscore:
# mm/e820.c -> "e820", xen/xs_conn.c -> "xs". The grant table's tests are
# named gnttab_*, after the prefix of its functions.
FAST_ALLOC = [['page_alloc', 'page_edges'], ['page_model_exhaustive']]
FIRST_TESTS = {
    'mm/page_alloc.c': FAST_ALLOC, 'mm/page_table.c': FAST_ALLOC,
    'mm/page_range.c': FAST_ALLOC, 'mm/page_check.c': FAST_ALLOC,
    'mm/page_cpu.c': [['page_cache', 'page_alloc', 'page_edges'], ['page_model_exhaustive']],
    'mm/page_state.c': [['page_state', 'page_alloc', 'page_ref', 'page_edges']],
    'mm/page_ref.c': [['page_ref', 'page_edges'], ['page_model_exhaustive']],
    'xen/grant_table.c': [['gnttab']],
}
# Files whose every host-side caller is in the named tests: their mutants
# run those instead of the whole host suite. The reference allocator's
# pr_* functions are called by test_page_ref.c, test_page_edges.c and the
# lockstep tests of test_page_model.c;
# the fast allocator's pa_* by test_page_*.c, test_p2m.c (p2m over the
# allocator, xen_sim included) and test_scratch.c. The CLI tests of the
# tools that link the file run as well.
FAST_CALLERS = ['page_', 'p2m', 'scratch', 'xen_']
ALL_HOST_TESTS_NEEDED_EXCEPT = {
    'mm/page_ref.c': ['page_ref', 'page_edges', 'page_model'],
    'mm/page_alloc.c': FAST_CALLERS, 'mm/page_table.c': FAST_CALLERS,
    'mm/page_range.c': FAST_CALLERS, 'mm/page_check.c': FAST_CALLERS,
    'mm/page_cpu.c': FAST_CALLERS,
}

# ---- mutant generation ------------------------------------------------------

TOKEN_RE = re.compile(r'''
    (?P<ws>[ \t\r\f\v]+|\n)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])*')
  | (?P<num>(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*)
  | (?P<id>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>>>=|<<=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\+=|-=|\*=|/=|%=|&=|\|=|\^=
           |[-+*/%&|^~!<>=?:;,.(){}\[\]\\])
''', re.S | re.X)


class Tok:
    __slots__ = ('kind', 'text', 'start', 'end')

    def __init__(self, kind, text, start, end):
        self.kind, self.text, self.start, self.end = kind, text, start, end


def tokenize(src):
    """Code tokens of src; comments, literals' insides and directives skipped."""
    toks, pos, line_start = [], 0, True
    while pos < len(src):
        if line_start and src[pos] == '#':
            # A preprocessor directive, with its continuation lines.
            while pos < len(src) and src[pos] != '\n':
                if src[pos] == '\\' and src[pos + 1:pos + 2] == '\n':
                    pos += 1
                pos += 1
            continue
        m = TOKEN_RE.match(src, pos)
        if not m:
            raise ValueError('cannot tokenize at offset %d: %r' %
                             (pos, src[pos:pos + 20]))
        kind = m.lastgroup
        if kind == 'ws':
            if m.group() == '\n':
                line_start = True
        else:
            line_start = False
            if kind != 'comment':
                toks.append(Tok(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    return toks


FLIP = {'<': '<=', '<=': '<', '>': '>=', '>=': '>', '==': '!=', '!=': '=='}
OPERAND_END = ('id', 'num')
JUMPS = ('return', 'break', 'continue', 'goto')


def int_value(text):
    body = text.rstrip('uUlL')
    return int(body, 16) if body[:2] in ('0x', '0X') else int(body, 10)


def int_text(text, value):
    body = text.rstrip('uUlL')
    suffix = text[len(body):]
    if body[:2] in ('0x', '0X'):
        digits = '%x' % value
        if body[2:].isupper():
            digits = digits.upper()
        return body[:2] + digits + suffix
    return '%d%s' % (value, suffix)


def matching(toks, i):
    """Index of the bracket closing toks[i]."""
    pairs = {'(': ')', '[': ']', '{': '}'}
    open_, close, depth = toks[i].text, pairs[toks[i].text], 0
    for j in range(i, len(toks)):
        if toks[j].text == open_:
            depth += 1
        elif toks[j].text == close:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError('unbalanced %s at offset %d' % (open_, toks[i].start))


def top_level_split(toks, a, b, op):
    """Split toks[a:b] at top-level `op` tokens: list of (start, end) index pairs."""
    parts, depth, start = [], 0, a
    for j in range(a, b):
        t = toks[j].text
        if t in ('(', '[', '{'):
            depth += 1
        elif t in (')', ']', '}'):
            depth -= 1
        elif depth == 0 and t == op:
            parts.append((start, j))
            start = j + 1
        elif depth == 0 and t == '?':
            return [(a, b)]         # a conditional expression: leave it whole
    parts.append((start, b))
    return parts


def in_declarator_brackets(toks, i):
    """Is toks[i] inside [] that follow a declared name (an array size)?"""
    depth = 0
    for j in range(i - 1, -1, -1):
        t = toks[j].text
        if t == ']':
            depth += 1
        elif t == '[':
            if depth == 0:
                # `name[` at the start of a declaration: type words before it.
                k = j - 1
                if k >= 1 and toks[k].kind == 'id' and toks[k - 1].kind == 'id' \
                        and toks[k - 1].text not in JUMPS + ('sizeof',):
                    return True
                return False
            depth -= 1
        elif t in (';', '{', '}'):
            return False
    return False


def generate(path, src):
    """All mutants of src as (start, end, replacement, operator)."""
    toks = tokenize(src)
    muts = []

    def add(a, b, text, op):
        muts.append((toks[a].start, toks[b - 1].end, text, op))

    for i, t in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.kind == 'op' and t.text in FLIP:
            add(i, i + 1, FLIP[t.text], 'comparison')
        elif t.text in ('&&', '||'):
            add(i, i + 1, '||' if t.text == '&&' else '&&', 'logic')
        elif t.text == '!':
            add(i, i + 1, '', 'negation')
        elif t.kind == 'num' and not in_declarator_brackets(toks, i):
            v = int_value(t.text)
            add(i, i + 1, int_text(t.text, v + 1), 'constant')
            if v > 0:
                add(i, i + 1, int_text(t.text, v - 1), 'constant')
        elif t.text in ('+', '-') and nxt is not None and nxt.kind == 'num' \
                and int_value(nxt.text) == 1 and prev is not None and \
                (prev.kind in OPERAND_END or prev.text in (')', ']')):
            add(i, i + 1, '-' if t.text == '+' else '+', 'plus-minus-one')
        elif t.text == 'if' and nxt is not None and nxt.text == '(':
            close = matching(toks, i + 1)
            a, b = i + 2, close
            body = toks[close + 1] if close + 1 < len(toks) else None
            guard = body is not None and body.text in JUMPS
            add(a, b, '0', 'guard-dropped' if guard else 'if-false')
            ors = top_level_split(toks, a, b, '||')
            if len(ors) > 1:
                for (x, y) in ors:
                    add(x, y, '0', 'check-dropped')
            else:
                ands = top_level_split(toks, a, b, '&&')
                if len(ands) > 1:
                    for (x, y) in ands:
                        add(x, y, '1', 'check-dropped')
    return muts


def squash(text):
    return ' '.join(text.split())


class Mutant:
    def __init__(self, path, src, start, end, repl, op):
        self.path, self.op = path, op
        self.start, self.end, self.repl = start, end, repl
        ls = src.rfind('\n', 0, start) + 1
        le = src.find('\n', end)
        le = len(src) if le < 0 else le
        self.line = src.count('\n', 0, start) + 1
        self.orig = squash(src[ls:le])
        self.mut = squash(src[ls:start] + repl + src[end:le])
        self.text = src[:start] + repl + src[end:]
        self.key = (path, self.orig, self.mut)
        self.result = self.detail = None

    def show(self):
        return '%s:%d: `%s` -> `%s`' % (self.path, self.line, self.orig, self.mut)


def mutants_of(path, limit):
    with open(os.path.join(ROOT, path)) as f:
        src = f.read()
    seen, out = set(), []
    for (s, e, r, op) in generate(path, src):
        m = Mutant(path, src, s, e, r, op)
        if m.text == src or m.text in seen:
            continue
        seen.add(m.text)
        out.append(m)
    if limit and len(out) > limit:
        # Evenly spread over the file rather than its first lines.
        out = [out[(k * len(out)) // limit] for k in range(limit)]
    return out


# ---- the equivalents list ---------------------------------------------------

EQUIV_RE = re.compile(r'^(\S+): `(.*)` -> `(.*)`: (.+)$')


def load_equivalents():
    eq, path = {}, os.path.join(ROOT, EQUIV_FILE)
    if not os.path.exists(path):
        return eq
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            m = EQUIV_RE.match(line)
            if not m:
                sys.exit('mutate: %s:%d: not "FILE: `ORIGINAL` -> `MUTATED`: '
                         'REASON"' % (EQUIV_FILE, n))
            eq[(m.group(1), squash(m.group(2)), squash(m.group(3)))] = \
                (m.group(4), n)
    return eq


RESULT_RE = re.compile(r'^(\S+) +\[[^]]+\] (\S+?):\d+: `(.*)` -> `(.*)`(?:  # (.*))?$')


def load_previous():
    """The last run's results.txt as {key: (result, detail)}."""
    path = os.path.join(WORK, 'results.txt')
    if not os.path.exists(path):
        sys.exit('mutate: MUTATE_RETEST needs a previous run (%s)' % path)
    prev = {}
    with open(path) as f:
        for line in f:
            m = RESULT_RE.match(line.rstrip('\n'))
            if m:
                prev[(m.group(2), m.group(3), m.group(4))] = (m.group(1), m.group(5) or '')
    return prev


# ---- the tree copies and the stages -----------------------------------------

procs_lock = threading.Lock()
live_procs = set()


def run(cmd, cwd, timeout=None, env=None):
    """Run cmd in its own process group. Returns (status, output); status
    'timeout' if it ran out of time (the whole group is killed)."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         env=env)
    with procs_lock:
        live_procs.add(p)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.decode(errors='replace')
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return 'timeout', out.decode(errors='replace')
    finally:
        with procs_lock:
            live_procs.discard(p)


def tree_files():
    out = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'],
                         cwd=ROOT, stdout=subprocess.PIPE, check=True).stdout
    return [f for f in out.decode().split('\0')
            if f and os.path.isfile(os.path.join(ROOT, f))]


def sync_copy(dst, files):
    """Make dst a copy of the working tree (its build/ kept). Only files whose
    content changed are rewritten, so make rebuilds only what they affect."""
    wanted = set(files)
    for dirpath, dirnames, filenames in os.walk(dst):
        rel = os.path.relpath(dirpath, dst)
        if rel == 'build' or rel.startswith('build' + os.sep):
            dirnames[:] = []
            continue
        for fn in filenames:
            r = os.path.normpath(os.path.join(rel, fn))
            if r not in wanted:
                os.unlink(os.path.join(dirpath, fn))
    for f in files:
        s, d = os.path.join(ROOT, f), os.path.join(dst, f)
        with open(s, 'rb') as fh:
            data = fh.read()
        try:
            with open(d, 'rb') as fh:
                if fh.read() == data:
                    continue
        except FileNotFoundError:
            os.makedirs(os.path.dirname(d), exist_ok=True)
        with open(d, 'wb') as fh:
            fh.write(data)
        shutil.copymode(s, d)


def make_var(copy, name):
    rc, out = run(['make', '-s', '--no-print-directory',
                   '--eval', 'mutate-print: ; @echo $(%s)' % name,
                   'mutate-print'], copy, 60)
    return out.strip().split() if rc == 0 else None


class Plan:
    """What to build and run for a mutant of each file."""

    def __init__(self, copy):
        self.o3_srcs = make_var(copy, 'O3_SRCS') or []
        self.cli = sorted(f[:-3] for f in os.listdir(os.path.join(copy, 'tests/cli'))
                          if f.endswith('.sh'))
        self.users = self.cli_users(copy)
        self.broken_cli = {}        # CLI tests failing unmutated: their output

    def cli_users(self, copy):
        """For each CLI tool, the pure sources it links in, found by linking
        it against an archive of the pure objects (the linker pulls in only
        the members it needs). None means unknown: run it for every file."""
        users = {}
        flags = make_var(copy, 'HCFLAGS')
        pure = make_var(copy, 'PURE_SRCS')
        cc = (make_var(copy, 'HOSTCC') or ['cc'])[0]
        if not flags or not pure:
            return {t: None for t in self.cli}
        lib = os.path.join(copy, 'build', 'mutate-pure.a')
        objs = ['build/hopt/%s.o' % p[:-2] for p in pure]
        if os.path.exists(lib):
            os.unlink(lib)
        rc, _ = run(['ar', 'rcs', lib] + objs, copy, 60)
        for t in self.cli:
            if rc != 0 or not os.path.exists(os.path.join(copy, 'tools', t + '.c')):
                users[t] = None
                continue
            r, out = run([cc] + flags + ['-O0', '-w', '-o', 'build/mutate-link-test',
                                         'tools/%s.c' % t, lib, '-lm',
                                         '-Wl,-M'], copy, 120)
            if r != 0:
                users[t] = None
                continue
            members = set(re.findall(r'mutate-pure\.a\(([^)]+)\.o\)', out))
            users[t] = {p for p in pure if os.path.basename(p)[:-2] in members}
        return users

    def tools_for(self, path):
        return [t for t in self.cli
                if self.users.get(t) is None or path in self.users[t]]

    def stages(self, path):
        """(name, command) in the order they run: the tests that kill the
        file's mutants fastest first, then every test that can reach it."""
        first = FIRST_TESTS.get(path, [[os.path.basename(path)[:-2].split('_')[0]]])
        st = [('own tests' if not k else 'own tests %d' % (k + 1),
               ['build/host/hosttests'] + f) for k, f in enumerate(first)]
        only = ALL_HOST_TESTS_NEEDED_EXCEPT.get(path)
        if only is None:
            st.append(('host tests', ['build/host/hosttests']))
        elif [only] != first:
            st.append(('callers', ['build/host/hosttests'] + only))
        if path in self.o3_srcs:
            st.append(('host tests o3', ['build/host/hosttests-o3']))
        for t in self.tools_for(path):
            if t in self.broken_cli:
                continue
            st.append(('cli ' + t, ['bash', 'tests/cli/%s.sh' % t,
                                    'build/tools/' + t]))
        return st

    @staticmethod
    def target_of(cmd):
        """The binary a stage runs: built just before its first stage, so a
        mutant killed early costs no build of the rest."""
        return cmd[2] if cmd[0] == 'bash' else cmd[0]


def baseline(copy, plan, paths):
    """Time every stage on the unmutated copy. A host test stage must pass;
    a CLI test that fails unmutated cannot judge a mutant: it is left out
    of the run (plan.broken_cli) and reported."""
    times = {}
    for path in paths:
        for name, cmd in plan.stages(path):
            if tuple(cmd) in times or (name.startswith('cli ') and
                                       name[4:] in plan.broken_cli):
                continue
            t0 = time.time()
            rc, out = run(cmd, copy, 1800)
            if rc != 0 and name.startswith('cli '):
                plan.broken_cli[name[4:]] = out
                print('mutate: WARNING: tests/cli/%s.sh fails on the unmutated '
                      'tree; it is left out of this run:\n%s' % (
                          name[4:], '\n'.join('    ' + l for l in out.splitlines()
                                              if l.startswith('not ok'))),
                      flush=True)
                continue
            if rc != 0:
                sys.exit('mutate: the unmutated tree fails "%s":\n%s'
                         % (' '.join(cmd), out[-3000:]))
            times[tuple(cmd)] = time.time() - t0
    return times


def test_mutant(m, copy, plan, timeouts):
    """Build and run one mutant in copy; the copy's file is the original
    again afterwards, whatever happened."""
    dst = os.path.join(copy, m.path)
    with open(dst) as f:
        original = f.read()
    try:
        with open(dst, 'w') as f:
            f.write(m.text)
        run_mutant(m, copy, plan, timeouts)
    finally:
        with open(dst, 'w') as f:
            f.write(original)


def run_mutant(m, copy, plan, timeouts):
    built = set()
    for name, cmd in plan.stages(m.path):
        target = plan.target_of(cmd)
        if target not in built:
            rc, out = run(['make', '-s', '-j1', target], copy, 600)
            if rc != 0:
                err = [l for l in out.splitlines() if 'error' in l]
                m.result, m.detail = 'stillborn', squash(err[0] if err else out[-200:])
                return
            built.add(target)
        tmo = timeouts[tuple(cmd)]
        rc, out = run(cmd, copy, tmo)
        if rc == 'timeout':
            m.result, m.detail = 'killed', '%s (timeout %ds)' % (name, tmo)
            return
        if rc != 0:
            m.result = 'killed'
            san = 'sanitizer' if re.search(r'AddressSanitizer|runtime error:',
                                           out) else None
            m.detail = name + (' (%s)' % san if san else '')
            return
    m.result, m.detail = 'survived', ''


# ---- main ---------------------------------------------------------------------

def main():
    files = os.environ.get('MUTATE_FILES', '').split() or list(DEFAULT_FILES)
    limit = int(os.environ.get('MUTATE_MAX', '0') or 0)
    jobs = max(1, int(os.environ.get('MUTATE_JOBS', '2') or 2))
    fixed_tmo = int(os.environ.get('MUTATE_TIMEOUT', '0') or 0)
    for f in files:
        if not os.path.isfile(os.path.join(ROOT, f)):
            sys.exit('mutate: no such file: %s' % f)
    equiv = load_equivalents()
    all_m = []
    pick = re.compile(os.environ['MUTATE_GREP']) if os.environ.get('MUTATE_GREP') else None
    previous = load_previous() if os.environ.get('MUTATE_RETEST') else None
    if previous is not None and not os.environ.get('MUTATE_FILES'):
        files = [f for f in files if any(k[0] == f for k in previous)]
    for f in files:
        ms = mutants_of(f, limit)
        if pick:
            ms = [m for m in ms if pick.search(m.show())]
        all_m += ms
        print('mutate: %s: %d mutants' % (f, len(ms)), flush=True)
    to_test = all_m
    if previous is not None:
        # Keep what the last run killed (or could not compile); test again
        # its survivors and every mutant it did not see (the code changed).
        to_test = []
        for m in all_m:
            old = previous.get(m.key)
            if old and old[0] in ('killed', 'stillborn'):
                m.result, m.detail = old[0], old[1] if old[1].endswith('(previous run)') else old[1] + ' (previous run)'
            else:
                to_test.append(m)
        print('mutate: MUTATE_RETEST: %d mutants to test again, %d results kept'
              % (len(to_test), len(all_m) - len(to_test)), flush=True)
    if os.environ.get('MUTATE_LIST'):
        for m in all_m:
            print('  [%s] %s' % (m.op, m.show()))
        return 0

    t_start = time.time()
    src_files = tree_files()
    copies = [os.path.join(WORK, 'w%d' % k) for k in range(jobs)]
    for c in copies:
        os.makedirs(c, exist_ok=True)
        sync_copy(c, src_files)
    print('mutate: building %d copies of the tree in %s' % (jobs, WORK), flush=True)
    def prep(c):
        rc, out = run(['make', '-s', '-j1', 'hosttests', 'tools'], c, 1800)
        if rc != 0:
            sys.exit('mutate: the unmutated tree does not build:\n' + out[-3000:])
        return Plan(c)
    with ThreadPoolExecutor(jobs) as ex:
        plans = dict(zip(copies, ex.map(prep, copies)))
    times = baseline(copies[0], plans[copies[0]], files)
    for p in plans.values():
        p.broken_cli = plans[copies[0]].broken_cli
    timeouts = {k: fixed_tmo or int(3 * v + 10) for k, v in times.items()}
    plan0 = plans[copies[0]]
    for f in files:
        print('mutate: %s: stages: %s' % (f, ', '.join(
            ' '.join(c) for _, c in plan0.stages(f))), flush=True)
    print('mutate: unmutated stage times: %s' % ', '.join(
        '%s %.1fs' % (' '.join(k), v) for k, v in sorted(times.items())), flush=True)

    free = list(copies)
    free_lock = threading.Lock()
    done = [0]

    def work(m):
        with free_lock:
            c = free.pop()
        try:
            test_mutant(m, c, plans[c], timeouts)
        finally:
            with free_lock:
                free.append(c)
                done[0] += 1
                n = done[0]
        if m.result == 'survived' and m.key not in equiv:
            print('  SURVIVED %s' % m.show(), flush=True)
        if n % 50 == 0 or n == len(to_test):
            print('mutate: %d/%d mutants tested, %ds' % (
                n, len(to_test), time.time() - t_start), flush=True)

    def stop(signum, frame):
        # The stages run in their own sessions: end them, then exit at once
        # (the worker threads would otherwise start the next mutants).
        with procs_lock:
            for p in live_procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        print('mutate: interrupted', flush=True)
        os._exit(130)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    with ThreadPoolExecutor(jobs) as ex:
        list(ex.map(work, to_test))

    # ---- report ----
    log = os.path.join(WORK, 'results.txt')
    used = set()
    lines = []
    with open(log, 'w') as lf:
        for m in all_m:
            tag = m.result
            if m.result == 'survived' and m.key in equiv:
                tag = 'equivalent'
                used.add(m.key)
            lf.write('%-10s [%s] %s%s\n' % (tag, m.op, m.show(),
                                            '  # ' + m.detail if m.detail else ''))
    print()
    print('mutate: results per file (every mutant: %s)' % os.path.relpath(log, ROOT))
    for f in files:
        ms = [m for m in all_m if m.path == f]
        still = sum(m.result == 'stillborn' for m in ms)
        total = len(ms) - still
        killed = sum(m.result == 'killed' for m in ms)
        eqv = sum(m.result == 'survived' and m.key in equiv for m in ms)
        surv = total - killed - eqv
        pct = lambda a, b: 100.0 * a / b if b else 100.0
        lines.append('  %-20s killed %4d / %4d (%5.1f%%), %4d / %4d non-equivalent '
                     '(%5.1f%%); %d equivalent, %d survived, %d did not compile'
                     % (f, killed, total, pct(killed, total), killed, total - eqv,
                        pct(killed, total - eqv), eqv, surv, still))
    print('\n'.join(lines))
    surv = [m for m in all_m if m.result == 'survived' and m.key not in equiv]
    if surv:
        print('mutate: %d surviving mutants:' % len(surv))
        for m in surv:
            print('  %s' % m.show())
    stale = [(k, v) for k, v in equiv.items() if k[0] in files and k not in used
             and not limit and not pick]
    for k, (reason, n) in stale:
        print('mutate: %s:%d matches no surviving mutant (killed now, or the code '
              'changed): %s: `%s`' % (EQUIV_FILE, n, k[0], k[2]))
    for t, out in sorted(plan0.broken_cli.items()):
        print('mutate: WARNING: tests/cli/%s.sh failed on the unmutated tree and '
              'was not run' % t)
    wall = 'mutate: %d mutants tested in %ds with %d jobs' % (
        len(to_test), time.time() - t_start, jobs)
    if previous is not None:
        wall += ' (MUTATE_RETEST: %d results kept from the previous run)' % (
            len(all_m) - len(to_test))
    print(wall)
    with open(os.path.join(WORK, 'summary.txt'), 'w') as sf:
        sf.write('\n'.join(lines + ['  SURVIVED ' + m.show() for m in surv] +
                           ['left out (fails unmutated): tests/cli/%s.sh' % t
                            for t in sorted(plan0.broken_cli)] + [wall]) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
