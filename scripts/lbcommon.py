"""lbcommon.py: what report.py (plots and report.html) and compare.py share.

  BadInput, Failed      the two ways a script ends: malformed input or usage
                        (one line, exit 2); a file that could not be drawn
                        or written (one line, exit 1)
  refuse_control        a text with a control character is refused: a line
                        break would end a gnuplot string literal and make
                        the rest of it gnuplot commands
  gq                    a gnuplot single-quoted literal
  dec_lo, dec_hi        decade bounds of a log axis
  incomplete            why a gnuplot output is not a whole PNG/SVG
  write_file            write a text file, every step checked
  fsync_path            fsync a file or a directory
  si                    the one number formatter for rates: 3 significant
                        digits and k/M/G/T
  exit_on_signals       SIGTERM and SIGHUP end the program like SIGINT:
                        through its finally clauses

Python 3 standard library only.
"""
import math
import os
import re
import signal

# C0 and C1 control characters and DEL: lockbench never writes one in a
# cell.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Signals that end a script through its clean-up (SIGINT raises
# KeyboardInterrupt; exit_on_signals turns SIGTERM and SIGHUP into
# SystemExit).
CLEANUP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}

PNG_SIG = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"   # the empty IEND chunk and its CRC


class BadInput(Exception):
    """Malformed input or a usage error: one line, exit 2."""


class Failed(Exception):
    """Could not draw or write a file: one line naming it, exit 1."""


def refuse_control(s, where):
    """BadInput when s holds a control character; where names the place."""
    bad = CONTROL.search(s)
    if bad:
        raise BadInput("%s holds the control character %r; refused (it could end a gnuplot"
                       " command)" % (where, bad.group()))


def gq(s):
    """A gnuplot single-quoted string literal. Inside single quotes gnuplot
    expands nothing (no backslash escapes, no `command` substitution, no @
    macros); a quote is written twice. Only a line break could escape: the
    inputs are checked for control characters, and so is s, whatever its
    source (a script's own path)."""
    s = str(s)
    refuse_control(s, repr(s))
    return "'" + s.replace("'", "''") + "'"


def dec_lo(x):
    return math.floor(math.log10(x) + 1e-9)


def dec_hi(x):
    return math.ceil(math.log10(x) - 1e-9)


def incomplete(path, fmt):
    """Why a gnuplot output file is not complete, or None. gnuplot exits 0
    when the disk fills up under it, leaving a cut-off file: a PNG must end
    with its IEND chunk, an SVG with </svg>."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(8)
            fh.seek(max(0, size - 64))
            tail = fh.read()
    except FileNotFoundError:
        return "gnuplot wrote nothing"
    except OSError as e:
        return e.strerror or str(e)
    if fmt == "png" and (head != PNG_SIG or not tail.endswith(PNG_END)):
        why = "gnuplot's output is incomplete: no PNG IEND chunk at its end"
    elif fmt == "svg" and not tail.rstrip().endswith(b"</svg>"):
        why = "gnuplot's output is incomplete: no </svg> at its end"
    else:
        return None
    try:
        st = os.statvfs(os.path.dirname(path))
        if st.f_bavail * st.f_frsize < 1 << 20:
            why += "; is the disk full?"
    except OSError:
        pass
    return why


def write_file(path, text, sync=False, name=None):
    """Write text to path, every step checked (write, flush, fsync when
    sync, close); a failure raises Failed naming `name` (default: path)."""
    try:
        with open(path, "w", newline="") as fh:
            fh.write(text)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
    except OSError as e:
        raise Failed("could not write %s: %s" % (name or path, e.strerror or e))


def fsync_path(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(moves, directory):
    """Put finished files in place: for each (src, dst), fsync src and
    rename it to dst (same file system: atomic), then fsync the directory.
    A failure raises Failed naming the file. Returns the dst paths."""
    done = []
    for src, dst in moves:
        try:
            fsync_path(src)
            os.replace(src, dst)
        except OSError as e:
            raise Failed("could not write %s: %s" % (dst, e.strerror or e))
        done.append(dst)
    try:
        fsync_path(directory, directory=True)
    except OSError as e:
        raise Failed("could not write %s: %s" % (directory, e.strerror or e))
    return done


def to_float(v):
    """A cell or number as a float; None when empty or not a number."""
    if v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def nonfinite(f):
    return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")


def as_number(v):
    """(f, None) for a cell or number that is a finite number f; (None, text)
    otherwise, text being "" for None or an empty cell, inf or nan, or the
    cell as it is."""
    if v is None or v == "":
        return None, ""
    f = to_float(v)
    if f is None:
        return None, str(v)
    if not math.isfinite(f):
        return None, nonfinite(f)
    return f, None


def si(v, missing=""):
    """A rate for reading: 3 significant digits and k/M/G/T (236M, 1.05k,
    0.5); inf and nan as such; text that is not a number as it is; missing
    for None or an empty cell."""
    if v is None or v == "":
        return missing
    f, text = as_number(v)
    if f is None:
        return text
    r = float("{:.3g}".format(f))   # rounded first: 999,999 is 1M, not 1e+03k
    for div, suf in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(r) >= div:
            return "{:.3g}{}".format(r / div, suf)
    return "{:.3g}".format(r)


def _exit_on(signum, frame):
    raise SystemExit(128 + signum)


def exit_on_signals():
    """SIGTERM and SIGHUP end the program like SIGINT does: through the
    finally clauses, which remove scratch directories."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _exit_on)
