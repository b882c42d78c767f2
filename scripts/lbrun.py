"""lbrun.py: the one reader of a lockbench run directory, for compare.py,
report.py and `./bench scoreboard`. Python 3 standard library only.

A run directory holds summary.csv, results.csv, threads.csv and meta.json
(results/README.md). Everything here either returns what a file says or
raises lbcommon.BadInput with one line that names the file, the line and
the column; the caller prints it and exits 2.

  RunDir(path)          the directory (BadInput unless it is one); .path and
                        .summary_path, .results_path, .threads_path,
                        .meta_path
  read_table(path, required=(), numbers=(), optional_numbers=(),
             missing_ok=False)
                        -> Table (None when missing_ok and the file is
                        absent). RFC 4180, strict, UTF-8; every cell is
                        refused if it holds a control character. Checked
                        while reading, so the first bad line is the one
                        named: `required` columns (at the header), every
                        row's field count, `numbers` (a finite number in
                        every row; implies required) and `optional_numbers`
                        (finite or empty, where the column exists).
  Table                 .path, .header, .rows (list of Row);
                        .require(cols): a missing column is an error (for
                        a caller that checks only when there are rows)
  Row                   a dict of cells by column name, plus .path, .line
                        (the line its record starts on) and three readers:
                        .num(col)      float (inf, nan included) or None
                                       when empty or absent
                        .finite(col, required=False)
                                       a finite float; None when empty and
                                       not required
                        .count(col)    a positive whole number (threads)
  read_meta(path)       meta.json as a dict; None when absent
  platform(meta)        meta.json's "platform" object, or {}
  identity(results, meta, meta_path)
                        (host, cpu_model, run_id): results.csv's first row
                        where its cell is not empty, else meta.json's
                        string (refused if it holds a control character:
                        these go into gnuplot), else None
  CONFIG_KEY, config_key(row), describe_key(key), key_num(v)
                        what a configuration is: (workload, impl, threads,
                        cs_ns, think_ns, param, pin), threads an int and
                        cs_ns, think_ns floats; its description in messages
  workload_of(path)     the workload of a run directory (summary.csv's
                        first row), None without a summary.csv or a row

The messages (PATH is the file):
  PATH: no such file (not a lockbench run directory?)
  PATH: cannot read: REASON          PATH: not UTF-8 text (REASON)
  PATH line 1: empty file, no header
  PATH line N: empty, expected the header
  PATH line N: no column "COL" in the header
  PATH line N: K fields, the header (line 1) has H
  PATH line N: REASON                (the csv module's: a stray quote ...)
  PATH line N: column COL holds the control character 'C'; refused (it
      could end a gnuplot command)
  PATH line N: column COL is empty, a number is required
  PATH line N: column COL is 'TEXT', not a number
  PATH line N: column COL is 'TEXT', not a positive whole number
  PATH line N: not valid JSON: REASON
  PATH line 1: not a JSON object
  PATH: KEY holds the control character 'C'; refused (it could end a
      gnuplot command)
"""
import csv
import json
import math
import os

from lbcommon import CONTROL, BadInput

SUMMARY, RESULTS, THREADS, META = "summary.csv", "results.csv", "threads.csv", "meta.json"

# What a configuration is, in summary.csv, results.csv and threads.csv.
CONFIG_KEY = ("workload", "impl", "threads", "cs_ns", "think_ns", "param", "pin")


def refused(where, ch):
    return BadInput("%s holds the control character %r; refused (it could end a gnuplot"
                    " command)" % (where, ch))


class RunDir:
    """A run directory: its path and the paths of its files."""

    def __init__(self, path):
        if not os.path.exists(path):
            raise BadInput("%s: no such directory" % path)
        if not os.path.isdir(path):
            raise BadInput("%s: not a directory (give run directories)" % path)
        self.path = path
        self.summary_path = os.path.join(path, SUMMARY)
        self.results_path = os.path.join(path, RESULTS)
        self.threads_path = os.path.join(path, THREADS)
        self.meta_path = os.path.join(path, META)


class Row(dict):
    """One record of a table: cells by column name, where it was read."""

    def __init__(self, path, line, cells):
        super().__init__(cells)
        self.path = path
        self.line = line
        self._finite = {}

    def where(self, col):
        return "%s line %d: column %s" % (self.path, self.line, col)

    def num(self, col):
        """The cell as a float, inf and nan included; None when empty or
        absent; anything else is malformed."""
        s = self.get(col, "").strip()
        if s == "":
            return None
        try:
            return float(s)
        except ValueError:
            raise BadInput("%s is %r, not a number" % (self.where(col), s))

    def finite(self, col, required=False):
        """The cell as a finite float; None when empty and not required."""
        if col not in self._finite:
            v = self.num(col)
            if v is None and required:
                raise BadInput("%s is empty, a number is required" % self.where(col))
            if v is not None and not math.isfinite(v):
                raise BadInput("%s is %r, not a number" % (self.where(col), self[col].strip()))
            self._finite[col] = v
        return self._finite[col]

    def count(self, col):
        """The cell as a positive whole number (a thread count)."""
        v = self.num(col)
        if v is None or not math.isfinite(v) or v < 1 or v != int(v):
            raise BadInput("%s is %r, not a positive whole number"
                           % (self.where(col), self.get(col, "")))
        return int(v)


class Table:
    """A CSV file as read: its header and its rows."""

    def __init__(self, path, header, rows):
        self.path = path
        self.header = header
        self.rows = rows

    def require(self, cols):
        for c in cols:
            if c not in self.header:
                raise BadInput('%s line 1: no column "%s" in the header' % (self.path, c))


def read_table(path, required=(), numbers=(), optional_numbers=(), missing_ok=False):
    """A CSV file of a run directory, every check done while reading (see
    the top of this file)."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise BadInput("%s: no such file (not a lockbench run directory?)" % path)
    except OSError as e:
        raise BadInput("%s: cannot read: %s" % (path, e.strerror or e))
    header, rows = None, []
    with fh:
        reader = csv.reader(fh, strict=True)
        next_line = 1
        try:
            for rec in reader:
                # A quoted cell may span lines: name the line its record starts on.
                line, next_line = next_line, reader.line_num + 1
                for i, cell in enumerate(rec):
                    bad = CONTROL.search(cell)
                    if bad:
                        raise refused("%s line %d: %s" % (
                            path, line, "column %s" % header[i] if header and i < len(header)
                            else "field %d" % (i + 1)), bad.group())
                if header is None:
                    if not rec or rec == [""]:
                        raise BadInput("%s line %d: empty, expected the header" % (path, line))
                    header = [h.strip() for h in rec]
                    for c in tuple(required) + tuple(numbers):
                        if c not in header:
                            raise BadInput('%s line %d: no column "%s" in the header'
                                           % (path, line, c))
                    opt = [c for c in optional_numbers if c in header]
                    continue
                if not rec:
                    continue   # a blank line
                if len(rec) != len(header):
                    raise BadInput("%s line %d: %d fields, the header (line 1) has %d"
                                   % (path, line, len(rec), len(header)))
                row = Row(path, line, zip(header, rec))
                for c in numbers:
                    row.finite(c, required=True)
                for c in opt:
                    row.finite(c)
                rows.append(row)
        except csv.Error as e:
            raise BadInput("%s line %d: %s" % (path, reader.line_num, e))
        except UnicodeDecodeError as e:
            raise BadInput("%s: not UTF-8 text (%s)" % (path, e.reason))
    if header is None:
        raise BadInput("%s line 1: empty file, no header" % path)
    return Table(path, header, rows)


def read_meta(path):
    """meta.json as a dict; None when there is none."""
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise BadInput("%s line %d: not valid JSON: %s" % (path, e.lineno, e.msg))
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e))
    if not isinstance(meta, dict):
        raise BadInput("%s line 1: not a JSON object" % path)
    return meta


def platform(meta):
    p = (meta or {}).get("platform")
    return p if isinstance(p, dict) else {}


def identity(results, meta, meta_path):
    """(host, cpu_model, run_id) of a run; see the top of this file.
    results: a Table or None; meta: a dict or None."""
    first = results.rows[0] if results and results.rows else {}
    meta = meta or {}
    plat = platform(meta)
    out = []
    for col, what, v in (("host", "host", meta.get("host")),
                         ("cpu_model", "platform.cpu_model", plat.get("cpu_model")),
                         ("run_id", "run_id", meta.get("run_id"))):
        if first.get(col):
            out.append(first[col])
            continue
        if not isinstance(v, str) or not v:
            out.append(None)
            continue
        bad = CONTROL.search(v)
        if bad:
            raise refused("%s: %s" % (meta_path, what), bad.group())
        out.append(v)
    return tuple(out)


def key_num(v):
    """A key number (cs_ns, think_ns) as text: 0, 100, 2.5. Not lbcommon.si:
    a key is written exactly, never rounded to 3 digits."""
    return "%d" % v if v == int(v) else "%g" % v


def config_key(row):
    """The configuration of a summary.csv or results.csv row."""
    return (row["workload"], row["impl"], row.count("threads"), row.finite("cs_ns", True),
            row.finite("think_ns", True), row["param"], row["pin"])


def describe_key(k, skip=()):
    """A configuration for a message: counter futex-mutex threads=2 cs_ns=0 ..."""
    parts = []
    for n, v in zip(CONFIG_KEY, k):
        if n in skip:
            continue
        if n in ("cs_ns", "think_ns"):
            v = key_num(v)
        parts.append(str(v) if n in ("workload", "impl") else "%s=%s" % (n, v))
    return " ".join(parts)


def workload_of(path):
    """The workload of a run directory: its summary.csv's first row's; None
    when it has no summary.csv or no row."""
    t = read_table(os.path.join(path, SUMMARY), missing_ok=True)
    return t.rows[0].get("workload") if t and t.rows else None
