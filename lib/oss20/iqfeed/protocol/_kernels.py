"""Numba kernels behind the protocol package: scan IQFeed text, parse fields into typed columns, format rows.

The parsers work on a whole buffer of lines at once and write straight into preallocated numpy
columns; strings come back as (start, length) offsets into the buffer and are materialised later
by ``intern`` (one Python string per distinct value). The formatter is the mirror image: typed
columns in, one byte buffer of lines out. Everything here is pure and allocation-light.

Times are "local" nanoseconds: wall-clock US Eastern time counted from 1970-01-01 00:00 as if it
were UTC; ``_columns.localize`` converts them to tz-aware timestamps. ``NAT`` marks a missing time
or date. The kernels call each other, so they stay in this one file: numba's ``cache=True`` only
notices edits to the file a cached function is defined in, not to callees in other files.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
from numba import njit

I64: TypeAlias = int | np.int64
"""An integer a kernel computes: int64 once compiled; ``int`` or ``np.int64`` read as plain Python
(what mypy checks: digits taken as ``np.int64(buf[i]) - 48`` make ``np.int64`` arithmetic)."""

NAT = np.iinfo(np.int64).min
DAY_NS = 86_400_000_000_000
_SEC_NS = 1_000_000_000
_MAX_EXACT = 9007199254740992  # 2**53: integers up to here are exact doubles
_MAX_EXACT_F = 9007199254740992.0
_MANTISSA_LIMIT = 922_337_203_685_477_580  # (2**63 - 1) // 10: one more digit still fits int64
P10 = np.array([10.0**k for k in range(23)])  # exact powers of ten (10**22 is the last exact one)
POW5 = np.array([5**k for k in range(23)], np.int64)  # 5**22 < 2**53
_NAN = np.nan

# Parse kinds: how the text of one field is read and where it goes.
K_SKIP = 0  # field we do not keep: any text
K_PRICE = 1  # decimal -> float column
K_INT = 2  # decimal integer -> int column (empty -> the column's default)
K_TIME = 3  # HH:MM:SS[.f] -> ns since midnight in an int column (empty -> NAT)
K_DATE_MDY = 4  # MM/DD/CCYY -> days since 1970 (empty -> NAT)
K_SYMBOL = 5  # non-empty printable ASCII -> string offsets
K_LETTERS = 6  # ASCII letters (Message Contents, BasisForLast) -> string offsets
K_HEX = 7  # pairs of hex digits (trade conditions) -> string offsets
K_DATETIME = 8  # CCYY-MM-DD HH:MM:SS[.f], required -> local ns
K_DATE_ISO = 9  # CCYY-MM-DD, required -> days since 1970

# Error codes; ``_layout.REASONS`` turns them into readable reasons.
E_OK = 0
E_FIELDS = 1
E_PRICE = 2
E_INT = 3
E_TIME = 4
E_DATE = 5
E_SYMBOL = 6
E_LETTERS = 7
E_HEX = 8
E_DATETIME = 9
E_EMPTY = 10
E_TSMSG = 11
E_REQUIRED = 12

# scan_level1 outcomes: the buffer is done, a layout switch line was read, the outputs are full.
SCAN_DONE = 0
SCAN_LAYOUT = 1
SCAN_FULL = 2

# Format kinds: how one output field is written.
F_EMPTY = 0
F_PRICE = 1  # float column, shortest exact decimal, NaN -> empty
F_INT = 2  # int column
F_TIME = 3  # local ns column -> HH:MM:SS.ffffff
F_DATE_MDY = 4  # local ns column -> MM/DD/CCYY
F_DATETIME_US = 5  # local ns column -> CCYY-MM-DD HH:MM:SS.ffffff
F_DATETIME_S = 6  # local ns column -> CCYY-MM-DD HH:MM:SS
F_DATE_ISO = 7  # local ns column -> CCYY-MM-DD
F_STR = 8  # string codes -> bytes from the shared table
F_DAY = 9  # local ns column -> day of month

# Level 1 column slots used by scan_level1 (``level1`` names them).
L1_TRADE_TIME = 7
L1_BID_TIME = 8
L1_ASK_TIME = 9
L1_TRADE_DATE = 10
L1_CONTENTS = 1


# ----------------------------------------------------------------------------------------------
# calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)


@njit(cache=True)
def days_from_civil(y: I64, m: I64, d: I64) -> I64:
    """Days since 1970-01-01 of a calendar date."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True)
def civil_from_days(z: int) -> tuple[int, int, int]:
    """Calendar (year, month, day) of a day count since 1970-01-01."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400
    if m <= 2:
        y += 1
    return y, m, d


@njit(cache=True)
def _days_in_month(y: I64, m: I64) -> int:
    if m == 2:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        return 29 if leap else 28
    if m == 4 or m == 6 or m == 9 or m == 11:
        return 30
    return 31


# ----------------------------------------------------------------------------------------------
# field parsers: each returns (error code, value)


@njit(cache=True)
def _digits(buf, i: int, n: int) -> int:
    """Value of n decimal digits at buf[i:], or -1 if any is not a digit."""
    v = 0
    for j in range(i, i + n):
        c = buf[j]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


@njit(cache=True)
def _bit_length(v: int) -> int:
    n = 0
    while v > 0:
        v >>= 1
        n += 1
    return n


@njit(cache=True)
def div_round(m: I64, k: int) -> float:
    """m / 10**k correctly rounded (round half to even) for 0 <= m < 2**63 and 0 <= k <= 22.

    m / 10**k = (m / 5**k) * 2**-k; the quotient by 5**k (< 2**53) is built bit by bit with
    integer arithmetic to 55 bits plus a sticky bit, then rounded to 53 bits. Used where the
    one-division fast path (m <= 2**53) does not apply: 16-18 significant digits.
    """
    if m == 0:
        return 0.0
    d = POW5[k]
    mant = m // d
    r = m % d
    e2 = 0
    nb = _bit_length(mant)
    if nb > 55:
        sh = nb - 55
        sticky = (mant & ((1 << sh) - 1)) != 0 or r != 0
        mant >>= sh
        e2 = sh
    else:
        while nb < 55:
            r <<= 1
            mant <<= 1
            if r >= d:
                r -= d
                mant |= 1
            e2 -= 1
            if mant > 0:
                nb += 1
        sticky = r != 0
    low = mant & 3
    mant >>= 2
    e2 += 2
    if (low & 2) != 0 and ((low & 1) != 0 or sticky or (mant & 1) != 0):
        mant += 1
    return math.ldexp(float(mant), e2 - k)


@njit(cache=True, inline="always")
def _delim_end(buf, p: int, end: int) -> int:
    """First index >= p holding a field or line delimiter (comma, CR, LF), or end."""
    while p < end:
        c = buf[p]
        if c == 44 or c == 10 or c == 13:
            return p
        p += 1
    return end


@njit(cache=True)
def _line_end(buf, p: int, end: int) -> int:
    """Index of the LF ending the line that contains p, or end."""
    while p < end and buf[p] != 10:
        p += 1
    return p


@njit(cache=True)
def _d2(buf, i: int) -> I64:
    """Two decimal digits at buf[i:i+2] as a number, or -1."""
    a = np.int64(buf[i]) - 48
    b = np.int64(buf[i + 1]) - 48
    if a < 0 or a > 9 or b < 0 or b > 9:
        return -1
    return a * 10 + b


@njit(cache=True)
def _parse_tod(buf, s: int, e: int) -> I64:
    """HH:MM:SS[.f{1,9}] -> ns since midnight, or -1."""
    n = e - s
    if n < 8 or buf[s + 2] != 58 or buf[s + 5] != 58:
        return -1
    h = _d2(buf, s)
    mi = _d2(buf, s + 3)
    se = _d2(buf, s + 6)
    if h < 0 or mi < 0 or se < 0 or h > 23 or mi > 59 or se > 59:
        return -1
    ns = ((h * 60 + mi) * 60 + se) * _SEC_NS
    if n == 8:
        return ns
    nf = n - 9
    if buf[s + 8] != 46 or nf < 1 or nf > 9:
        return -1
    f: I64 = 0
    for j in range(s + 9, e):
        c = np.int64(buf[j]) - 48
        if c < 0 or c > 9:
            return -1
        f = f * 10 + c
    for _ in range(9 - nf):
        f *= 10
    return ns + f


@njit(cache=True)
def _valid_day(y: I64, m: I64, d: I64) -> I64:
    """Days since 1970 of a date in pandas' ns range, or NAT when invalid."""
    if y < 1678 or y > 2261 or m < 1 or m > 12 or d < 1 or d > _days_in_month(y, m):
        return NAT
    return days_from_civil(y, m, d)


@njit(cache=True)
def _parse_date_mdy(buf, s: int, e: int) -> I64:
    if e - s != 10 or buf[s + 2] != 47 or buf[s + 5] != 47:
        return NAT
    m = _d2(buf, s)
    d = _d2(buf, s + 3)
    y1 = _d2(buf, s + 6)
    y2 = _d2(buf, s + 8)
    if m < 0 or d < 0 or y1 < 0 or y2 < 0:
        return NAT
    return _valid_day(y1 * 100 + y2, m, d)


@njit(cache=True)
def _parse_date_iso(buf, s: int, e: int) -> I64:
    if e - s != 10 or buf[s + 4] != 45 or buf[s + 7] != 45:
        return NAT
    y1 = _d2(buf, s)
    y2 = _d2(buf, s + 2)
    m = _d2(buf, s + 5)
    d = _d2(buf, s + 8)
    if m < 0 or d < 0 or y1 < 0 or y2 < 0:
        return NAT
    return _valid_day(y1 * 100 + y2, m, d)


@njit(cache=True)
def _parse_datetime_iso(buf, s: int, e: int) -> I64:
    """CCYY-MM-DD HH:MM:SS[.f] -> local ns, or NAT."""
    if e - s < 19 or buf[s + 10] != 32:
        return NAT
    day = _parse_date_iso(buf, s, s + 10)
    if day == NAT:
        return NAT
    tod = _parse_tod(buf, s + 11, e)
    if tod < 0:
        return NAT
    return day * DAY_NS + tod


@njit(cache=True)
def _price_text(buf, p: int, q: int):
    """Decimal text in buf[p:q] (no delimiters, not empty) -> (error, value, slow).

    Correctly rounded: m / 10**k with one division while m <= 2**53, else ``div_round``;
    slow=True (more than 18 digits or 22 decimals) asks the caller for Python's float().
    """
    i = p
    neg = buf[i] == 45
    if neg:
        i += 1
    m: I64 = 0
    k = 0
    nd = 0
    dot = -1
    if q - i <= 18:  # at most 18 digits: the mantissa cannot overflow
        while i < q:
            d = np.int64(buf[i]) - 48
            if 0 <= d <= 9:
                m = m * 10 + d
                nd += 1
            elif d == -2 and dot < 0:
                dot = nd
            else:
                return E_PRICE, _NAN, False
            i += 1
        if nd == 0:
            return E_PRICE, _NAN, False
        if dot >= 0:
            k = nd - dot
    else:
        big = False
        while i < q:
            c = buf[i]
            if 48 <= c <= 57:
                if m < _MANTISSA_LIMIT:
                    m = m * 10 + (c - 48)
                elif c != 48 or dot < 0:
                    big = True
                else:
                    nd -= 1  # trailing zero past the limit: drop it
                    k -= 1
                if dot >= 0:
                    k += 1
                nd += 1
            elif c == 46 and dot < 0:
                dot = nd
            else:
                return E_PRICE, _NAN, False
            i += 1
        if nd == 0:
            return E_PRICE, _NAN, False
        if big or k > 22:
            return E_OK, _NAN, True
    # both operands exact below 2**53, so one division is correctly rounded
    v = m / P10[k] if m <= _MAX_EXACT else div_round(m, k)
    return E_OK, -v if neg else v, False


@njit(cache=True)
def _int_text(buf, p: int, q: int) -> I64:
    """Decimal integer in buf[p:q] (no delimiters, not empty), or NAT when it is not one."""
    i = p
    neg = buf[i] == 45
    if neg:
        i += 1
    if i == q or q - i > 18:
        return NAT
    v: I64 = 0
    while i < q:
        d = np.int64(buf[i]) - 48
        if d < 0 or d > 9:
            return NAT
        v = v * 10 + d
        i += 1
    return -v if neg else v


@njit(cache=True)
def _text_ok(buf, p: int, q: int, kind: int) -> bool:
    """Whether buf[p:q] is valid text for a string kind (symbol, letters, hex pairs)."""
    if kind == K_SYMBOL:
        if q == p:
            return False
        for i in range(p, q):
            c = buf[i]
            if c < 33 or c > 126:
                return False
    elif kind == K_LETTERS:
        for i in range(p, q):
            c = buf[i] | 32
            if c < 97 or c > 122:
                return False
    else:
        if (q - p) % 2 != 0:
            return False
        for i in range(p, q):
            c = buf[i]
            if not (48 <= c <= 57 or 65 <= (c & 0xDF) <= 70):
                return False
    return True


@njit(cache=True, inline="always")
def _reset_row(r: int, ls: int, fout, iout, idef, sst, sln) -> None:
    for c in range(fout.shape[0]):
        fout[c, r] = _NAN
    for c in range(iout.shape[0]):
        iout[c, r] = idef[c]
    for c in range(sst.shape[0]):
        sst[c, r] = ls
        sln[c, r] = 0


@njit(cache=True)
def _parse_fields(buf, p: int, end: int, kinds, cols, nmin: int, r: int, fout, iout, sst, sln):
    """Parse the comma-separated fields from p to the line end into row r, in one pass.

    A line holds nmin..len(kinds) fields (either end exactly) plus at most one empty trailing
    field, then CR LF, LF or the end of the buffer. Returns (error, field index, slow, position):
    the position is where the line's content ends (its CR or LF), or where the error was found.
    Each field's end is found first, then its text is read by kind (a tight loop per kind).
    """
    nmax = kinds.shape[0]
    fi = 0
    slow = False
    q = p
    while True:
        q = p
        while q < end:
            c = buf[q]
            if c == 44 or c == 10 or c == 13:
                break
            q += 1
        if fi < nmax:
            kind = kinds[fi]
            col = cols[fi]
            if kind == K_PRICE:
                if q > p:
                    err, v, sl = _price_text(buf, p, q)
                    if err != E_OK:
                        return err, fi, False, q
                    fout[col, r] = v
                    slow = slow or sl
            elif kind == K_INT:
                if q > p:
                    v = _int_text(buf, p, q)
                    if v == NAT:
                        return E_INT, fi, False, q
                    iout[col, r] = v
            elif kind == K_TIME:
                t: I64 = NAT
                if q > p:
                    t = _parse_tod(buf, p, q)
                    if t < 0:
                        return E_TIME, fi, False, q
                iout[col, r] = t
            elif kind >= K_SYMBOL and kind <= K_HEX:
                if not _text_ok(buf, p, q, kind):
                    return E_SYMBOL + kind - K_SYMBOL, fi, False, q
                sst[col, r] = p
                sln[col, r] = q - p
            elif kind == K_DATE_MDY:
                d: I64 = NAT
                if q > p:
                    d = _parse_date_mdy(buf, p, q)
                    if d == NAT:
                        return E_DATE, fi, False, q
                iout[col, r] = d
            elif kind == K_DATETIME or kind == K_DATE_ISO:  # noqa: SIM109
                if q == p:
                    return E_REQUIRED, fi, False, q
                t = _parse_datetime_iso(buf, p, q) if kind == K_DATETIME else _parse_date_iso(buf, p, q)
                if t == NAT:
                    return (E_DATETIME if kind == K_DATETIME else E_DATE), fi, False, q
                iout[col, r] = t
        elif q != p or (q < end and buf[q] == 44):
            return E_FIELDS, fi + 1, False, q
        fi += 1
        if q >= end:
            break
        c = buf[q]
        if c == 44:
            p = q + 1
            continue
        if c == 13 and q + 1 < end and buf[q + 1] != 10:
            return E_FIELDS, fi, False, q  # a stray CR inside the line
        break
    if fi == nmin or fi == nmax or fi == nmax + 1 or (fi == nmin + 1 and q == p):  # noqa: SIM109
        return E_OK, -1, slow, q
    return E_FIELDS, fi, False, q


@njit(cache=True)
def _contents_basis(buf, s: int, n: int) -> int:
    """1, 2, 3 for the first C, E, O in Message Contents; 0 when the update is not a trade."""
    for i in range(s, s + n):
        c = buf[i]
        if c == 67:
            return 1
        if c == 69:
            return 2
        if c == 79:
            return 3
    return 0


@njit(cache=True)
def _starts_with(buf, s: int, e: int, pat) -> bool:
    n = pat.shape[0]
    if e - s < n:
        return False
    for j in range(n):  # noqa: SIM110 (numba: plain loops)
        if buf[s + j] != pat[j]:
            return False
    return True


@njit(cache=True, inline="always")
def _content_end(buf, ls: int, le: int) -> int:
    """End of a line's content: its LF position minus a CR before it."""
    if le > ls and buf[le - 1] == 13:
        return le - 1
    return le


@njit(cache=True)
def scan_level1(
    buf,
    pos,
    end,
    kinds,
    cols,
    idef,
    stop_pat,
    session_day,
    session_ns,
    nrow,
    noth,
    nbad,
    fout,
    iout,
    sst,
    sln,
    row_kind,
    row_ts,
    row_basis,
    row_slow,
    row_start,
    row_end,
    oth_start,
    oth_end,
    bad_start,
    bad_end,
    bad_code,
    bad_field,
):
    """Scan Level 1 lines in buf[pos:end]: Q/P into rows, T updates the session, the rest aside.

    Returns (pos, nrow, noth, nbad, session_day, session_ns, status): ``SCAN_LAYOUT`` right after
    a line starting with ``stop_pat`` (S,CURRENT UPDATE FIELDNAMES) so the caller can switch
    layouts, ``SCAN_FULL`` before a line that might not fit the output arrays (grow and resume).
    """
    nf = kinds.shape[0]
    while pos < end:
        if nrow >= row_start.shape[0] or noth >= oth_start.shape[0] or nbad >= bad_start.shape[0]:
            return pos, nrow, noth, nbad, session_day, session_ns, SCAN_FULL
        ls = pos
        c0 = buf[ls]
        if (c0 == 81 or c0 == 80) and ls + 1 < end and buf[ls + 1] == 44:
            r = nrow
            _reset_row(r, ls, fout, iout, idef, sst, sln)
            err, fi, slow, q = _parse_fields(buf, ls + 2, end, kinds, cols, nf, r, fout, iout, sst, sln)
            le = _line_end(buf, q, end)
            pos = le + 1
            e = _content_end(buf, ls, le)
            if err != E_OK:
                _reset_row(r, ls, fout, iout, idef, sst, sln)
                bad_start[nbad] = ls
                bad_end[nbad] = e
                bad_code[nbad] = err
                bad_field[nbad] = fi
                nbad += 1
                continue
            basis = _contents_basis(buf, sst[L1_CONTENTS, r], sln[L1_CONTENTS, r])
            ts = NAT
            if basis > 0:
                day = iout[L1_TRADE_DATE, r]
                if day == NAT:
                    day = session_day
                tod = iout[L1_TRADE_TIME, r]
                if day != NAT and tod != NAT:
                    ts = day * DAY_NS + tod
            else:
                tod = max(iout[L1_BID_TIME, r], iout[L1_ASK_TIME, r])
                day = session_day
                if day == NAT:
                    day = iout[L1_TRADE_DATE, r]
                if tod == NAT:
                    ts = session_ns
                elif day != NAT:
                    ts = day * DAY_NS + tod
            row_kind[r] = c0
            row_ts[r] = ts
            row_basis[r] = basis
            row_slow[r] = slow
            row_start[r] = ls
            row_end[r] = e
            nrow += 1
            continue
        le = _line_end(buf, ls, end)
        pos = le + 1
        e = _content_end(buf, ls, le)
        if e == ls:
            bad_start[nbad] = ls
            bad_end[nbad] = e
            bad_code[nbad] = E_EMPTY
            bad_field[nbad] = -1
            nbad += 1
            continue
        if c0 == 84 and e - ls >= 2 and buf[ls + 1] == 44:
            # T,CCYYMMDD HH:MM:SS
            day = NAT
            tod = -1
            if e - ls == 19 and buf[ls + 10] == 32:
                y = _digits(buf, ls + 2, 4)
                mo = _digits(buf, ls + 6, 2)
                d = _digits(buf, ls + 8, 2)
                if y >= 0 and mo >= 0 and d >= 0:
                    day = _valid_day(y, mo, d)
                tod = _parse_tod(buf, ls + 11, e)
            if day == NAT or tod < 0:
                bad_start[nbad] = ls
                bad_end[nbad] = e
                bad_code[nbad] = E_TSMSG
                bad_field[nbad] = 1
                nbad += 1
                continue
            session_day = day
            session_ns = day * DAY_NS + tod
        oth_start[noth] = ls
        oth_end[noth] = e
        noth += 1
        if c0 == 83 and _starts_with(buf, ls, e, stop_pat):
            n = stop_pat.shape[0]
            if e - ls == n or buf[ls + n] == 44:
                return pos, nrow, noth, nbad, session_day, session_ns, SCAN_LAYOUT
    return pos, nrow, noth, nbad, session_day, session_ns, SCAN_DONE


@njit(cache=True)
def _field_is(buf, p: int, q: int, pat) -> bool:
    return q - p == pat.shape[0] and _starts_with(buf, p, q, pat)


@njit(cache=True)
def _looks_like_date(buf, p: int, q: int) -> bool:
    return q - p >= 10 and buf[p + 4] == 45 and buf[p + 7] == 45 and _digits(buf, p, 4) >= 0


@njit(cache=True, nogil=True)
def scan_history(
    buf,
    end,
    kinds,
    cols,
    nmin,
    idef,
    pat_e,
    pat_end,
    pat_lh,
    fout,
    iout,
    sst,
    sln,
    row_slow,
    row_start,
    row_end,
    oth_start,
    oth_end,
    oth_kind,
    bad_start,
    bad_end,
    bad_code,
    bad_field,
):
    """Scan a history reply: data lines into rows, error (kind 1) and end (kind 2) lines aside.

    A line is ``[RequestID,][LH,]data`` or ``[RequestID,]E,text,`` or ``[RequestID,]!ENDMSG!,``;
    the last line may lack its LF. Returns (nrow, noth, nbad).
    """
    nrow = 0
    noth = 0
    nbad = 0
    pos = 0
    while pos < end:
        ls = pos
        p = ls
        q = _delim_end(buf, p, end)
        kind = 0
        if _field_is(buf, p, q, pat_e):
            kind = 1
        elif _field_is(buf, p, q, pat_end):
            kind = 2
        elif not _looks_like_date(buf, p, q):
            # a RequestID, then LH, E, !ENDMSG! or data
            if q >= end or buf[q] != 44:
                kind = -1  # an empty line, or a lone field
            else:
                p = q + 1
                q = _delim_end(buf, p, end)
                if _field_is(buf, p, q, pat_e):
                    kind = 1
                elif _field_is(buf, p, q, pat_end):
                    kind = 2
                elif _field_is(buf, p, q, pat_lh):
                    p = q + 1 if q < end and buf[q] == 44 else q
        if kind != 0:
            le = _line_end(buf, q, end)
            pos = le + 1
            e = _content_end(buf, ls, le)
            if kind > 0:
                oth_start[noth] = ls
                oth_end[noth] = e
                oth_kind[noth] = kind
                noth += 1
            else:
                bad_start[nbad] = ls
                bad_end[nbad] = e
                bad_code[nbad] = E_EMPTY if e == ls else E_FIELDS
                bad_field[nbad] = -1
                nbad += 1
            continue
        r = nrow
        _reset_row(r, ls, fout, iout, idef, sst, sln)
        err, fi, slow, q = _parse_fields(buf, p, end, kinds, cols, nmin, r, fout, iout, sst, sln)
        le = _line_end(buf, q, end)
        pos = le + 1
        e = _content_end(buf, ls, le)
        if err != E_OK:
            _reset_row(r, ls, fout, iout, idef, sst, sln)
            bad_start[nbad] = ls
            bad_end[nbad] = e
            bad_code[nbad] = err
            bad_field[nbad] = fi
            nbad += 1
            continue
        row_slow[r] = slow
        row_start[r] = ls
        row_end[r] = e
        nrow += 1
    return nrow, noth, nbad


# ----------------------------------------------------------------------------------------------
# string interning


@njit(cache=True)
def _hash(buf, s: int, n: int) -> np.uint64:
    """A string's key: up to 7 bytes, the bytes and length packed (equal keys mean equal strings);
    longer, FNV-1a of the bytes with the top bit set (never equal to a short key)."""
    if n == 0:
        return np.uint64(0)
    if n <= 7:
        last = buf.shape[0] - 1
        w = np.uint64(0)
        for j in range(7):  # a fixed count without branches; bytes past the string masked off
            w |= np.uint64(buf[min(s + j, last)]) << np.uint64(8 * j)
        return (w & ((np.uint64(1) << np.uint64(8 * n)) - np.uint64(1))) | (np.uint64(n) << np.uint64(56))
    h = np.uint64(14695981039346656037)
    for i in range(s, s + n):
        h = (h ^ np.uint64(buf[i])) * np.uint64(1099511628211)
    return h | (np.uint64(1) << np.uint64(63))


@njit(cache=True, inline="always")
def _slot(h: np.uint64, bits: int) -> np.int64:
    """Table slot of a key: Fibonacci hashing spreads packed short keys over the table."""
    return np.int64((h * np.uint64(11400714819323198485)) >> np.uint64(64 - bits))


@njit(cache=True)
def _same(buf, s1: int, s2: int, n: int) -> bool:
    for j in range(n):  # noqa: SIM110 (numba: plain loops)
        if buf[s1 + j] != buf[s2 + j]:
            return False
    return True


@njit(cache=True)
def intern(buf, starts, lens):
    """Codes for the byte strings buf[starts[i]:starts[i]+lens[i]] and the first row of each code.

    Open addressing on keys stored in the table itself; strings of up to 7 bytes (symbols,
    message contents, trade conditions) compare by key alone.
    """
    n = starts.shape[0]
    bits = 6
    tkey = np.zeros(1 << bits, np.uint64)
    tcode = np.full(1 << bits, -1, np.int64)
    keys = np.empty(max(n, 1), np.uint64)
    firsts = np.empty(max(n, 1), np.int64)
    codes = np.empty(n, np.int64)
    nu = 0
    for i in range(n):
        s = starts[i]
        ln = lens[i]
        h = _hash(buf, s, ln)
        mask = (1 << bits) - 1
        slot = _slot(h, bits)
        while True:
            code = tcode[slot]
            if code < 0:
                code = nu
                tkey[slot] = h
                tcode[slot] = code
                keys[nu] = h
                firsts[nu] = i
                nu += 1
                if nu * 2 > mask + 1:
                    bits += 2
                    mask = (1 << bits) - 1
                    tkey = np.zeros(mask + 1, np.uint64)
                    tcode = np.full(mask + 1, -1, np.int64)
                    for v in range(nu):
                        sl = _slot(keys[v], bits)
                        while tcode[sl] != -1:
                            sl = (sl + 1) & mask
                        tkey[sl] = keys[v]
                        tcode[sl] = v
                break
            if tkey[slot] == h:
                f = firsts[code]
                if ln <= 7 or (lens[f] == ln and _same(buf, starts[f], s, ln)):
                    break
            slot = (slot + 1) & mask
        codes[i] = code
    return codes, firsts[:nu].copy()


# ----------------------------------------------------------------------------------------------
# formatting


@njit(cache=True)
def _price_digits(x: float):
    """(ok, mantissa, decimals) of the shortest m / 10**k that reads back exactly as |x|.

    Exactness is checked with the parser's own arithmetic, so what we write is what we read.
    Up to 2**53 one rounding suffices; above it (16-17 digits) nearby mantissas are tried.
    """
    a = abs(x)
    if not a < 1e17:
        return False, 0, 0
    for k in range(23):
        s = a * P10[k]
        if s < _MAX_EXACT_F:
            m = np.int64(math.floor(s + 0.5))
            if m / P10[k] == a:
                return True, m, k
        elif s < 1e17:
            c = np.int64(s)
            for j in range(25):
                m = c + (j + 1) // 2 if j % 2 == 1 else c - j // 2
                if m > 0 and div_round(m, k) == a:
                    return True, m, k
        else:
            break
    return False, 0, 0


@njit(cache=True)
def price_slow_keys(fmat):
    """Flat keys (col * n + row) of finite values the fast price writer cannot render."""
    nc, n = fmat.shape
    keys = []
    for c in range(nc):
        for r in range(n):
            x = fmat[c, r]
            if x == x:
                ok, _, _ = _price_digits(x)
                if not ok:
                    keys.append(c * n + r)
    out = np.empty(len(keys), np.int64)
    for i in range(len(keys)):
        out[i] = keys[i]
    return out


@njit(cache=True)
def _write_uint(out, p: int, v: int, width: int) -> int:
    """Write v in decimal, zero-padded to at least width digits."""
    n = 1
    t = v
    while t >= 10:
        t //= 10
        n += 1
    if n < width:
        n = width
    for j in range(n - 1, -1, -1):
        out[p + j] = 48 + v % 10
        v //= 10
    return p + n


@njit(cache=True)
def _write_int(out, p: int, v: int) -> int:
    if v < 0:
        out[p] = 45
        return _write_uint(out, p + 1, -v, 1)
    return _write_uint(out, p, v, 1)


@njit(cache=True)
def _write_price(out, p: int, x: float) -> int:
    """Shortest exact decimal of x, or -1 when only the Python fallback can write it."""
    ok, m, k = _price_digits(x)
    if not ok:
        return -1
    if x < 0 or (x == 0 and math.copysign(1.0, x) < 0):
        out[p] = 45
        p += 1
    if k == 0:
        return _write_uint(out, p, m, 1)
    q = _write_uint(out, p, m, k + 1)
    # shift the last k digits right by one and put the point in front of them
    for j in range(q - 1, q - k - 1, -1):
        out[j + 1] = out[j]
    out[q - k] = 46
    return q + 1


@njit(cache=True)
def _write_tod(out, p: int, v: int, frac: bool) -> int:
    tod = v % DAY_NS
    sec = tod // _SEC_NS
    p = _write_uint(out, p, sec // 3600, 2)
    out[p] = 58
    p = _write_uint(out, p + 1, (sec // 60) % 60, 2)
    out[p] = 58
    p = _write_uint(out, p + 1, sec % 60, 2)
    if frac:
        out[p] = 46
        p = _write_uint(out, p + 1, (tod % _SEC_NS) // 1000, 6)
    return p


@njit(cache=True)
def _write_date(out, p: int, v: int, mdy: bool) -> int:
    y, m, d = civil_from_days(v // DAY_NS)
    if mdy:
        p = _write_uint(out, p, m, 2)
        out[p] = 47
        p = _write_uint(out, p + 1, d, 2)
        out[p] = 47
        return _write_uint(out, p + 1, y, 4)
    p = _write_uint(out, p, y, 4)
    out[p] = 45
    p = _write_uint(out, p + 1, m, 2)
    out[p] = 45
    return _write_uint(out, p + 1, d, 2)


@njit(cache=True)
def _copy(out, p: int, src, s: int, e: int) -> int:
    for j in range(s, e):
        out[p] = src[j]
        p += 1
    return p


@njit(cache=True)
def format_rows(
    n, kinds, cols, fmat, imat, smat, sblob, soff, over_keys, over_off, over_blob, prefix, suffix, out
):
    """Write n lines: prefix, the row's fields joined by commas, suffix. Returns bytes written."""
    nfield = kinds.shape[0]
    p = 0
    for r in range(n):
        p = _copy(out, p, prefix, 0, prefix.shape[0])
        for j in range(nfield):
            if j > 0:
                out[p] = 44
                p += 1
            k = kinds[j]
            c = cols[j]
            if k == F_PRICE:
                x = fmat[c, r]
                if x == x:
                    q = _write_price(out, p, x)
                    if q < 0:
                        i = np.searchsorted(over_keys, c * n + r)
                        q = _copy(out, p, over_blob, over_off[i], over_off[i + 1])
                    p = q
            elif k == F_INT:
                p = _write_int(out, p, imat[c, r])
            elif k == F_STR:
                code = smat[c, r]
                p = _copy(out, p, sblob, soff[code], soff[code + 1])
            elif k != F_EMPTY:
                v = imat[c, r]
                if v != NAT:
                    if k == F_TIME:
                        p = _write_tod(out, p, v, True)
                    elif k == F_DATE_MDY:
                        p = _write_date(out, p, v, True)
                    elif k == F_DATETIME_US or k == F_DATETIME_S:  # noqa: SIM109
                        p = _write_date(out, p, v, False)
                        out[p] = 32
                        p = _write_tod(out, p + 1, v, k == F_DATETIME_US)
                    elif k == F_DATE_ISO:
                        p = _write_date(out, p, v, False)
                    elif k == F_DAY:
                        _, _, d = civil_from_days(v // DAY_NS)
                        p = _write_uint(out, p, d, 1)
        p = _copy(out, p, suffix, 0, suffix.shape[0])
    return p
