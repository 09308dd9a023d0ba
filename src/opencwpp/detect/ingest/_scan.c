/*
 * One pass over a CloudTrail file's JSON text: the ingest columns, as Arrow arrays.
 *
 * DuckDB's JSON reader parses each record three times on our path (the file, the record for
 * its struct, the record again for `raw`), and serialises it twice; that was two thirds of
 * ingest's CPU. This scanner validates the whole file as JSON once, copies the wanted values
 * out (strings unescaped, nested parts as their text), and builds `raw` from the record's own
 * text. It handles the common case only: on anything unusual (a key with an escape, a
 * duplicated wanted key, a lone surrogate, bad UTF-8, any syntax error, nesting over 256) it
 * gives up on the file, which then goes through DuckDB's reader as before, so its problems are
 * reported exactly as they were. It never reads past the buffer it is given.
 *
 * The result is exported through the Arrow C stream interface (one batch per file), which
 * DuckDB scans without a copy. Buffers are reference-counted in C, so DuckDB may release them
 * from its own threads without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Arrow C data interface (https://arrow.apache.org/docs/format/CDataInterface.html) ---- */

#define ARROW_FLAG_NULLABLE 2

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};

/* ---- growable buffers and columns ---- */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static int buf_reserve(buf_t *b, size_t extra) {
    if (extra > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) return -1;
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(buf_t *b, const void *src, size_t n) {
    if (buf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

enum { K_UTF8, K_INT32, K_INT64 };

typedef struct {
    int kind;
    int json;       /* utf8 holding JSON text: exported as the arrow.json extension type */
    char *name;
    buf_t data;     /* utf8 bytes, or the fixed-width values */
    buf_t offsets;  /* utf8: int32 offsets, one more than rows */
    buf_t valid;    /* validity bitmap, one bit a row */
    int64_t n, nulls;
} col_t;

static int col_begin(col_t *c) {
    if (c->n % 8 == 0) {
        char zero = 0;
        if (buf_put(&c->valid, &zero, 1)) return -1;
    }
    return 0;
}

static int col_null(col_t *c) {
    if (col_begin(c)) return -1;
    if (c->kind == K_UTF8) {
        int32_t end = (int32_t)c->data.len;
        if (buf_put(&c->offsets, &end, sizeof end)) return -1;
    } else {
        int64_t zero = 0;
        if (buf_put(&c->data, &zero, c->kind == K_INT32 ? 4 : 8)) return -1;
    }
    c->n++;
    c->nulls++;
    return 0;
}

static void col_mark_valid(col_t *c) {
    c->valid.p[c->n / 8] |= (char)(1u << (c->n % 8));
    c->n++;
}

/* Ends a utf8 value whose bytes were appended to c->data; -1 when offsets would overflow. */
static int col_end_text(col_t *c) {
    if (c->data.len > INT32_MAX) return -1;
    int32_t end = (int32_t)c->data.len;
    if (buf_put(&c->offsets, &end, sizeof end)) return -1;
    col_mark_valid(c);
    return 0;
}

static int col_text(col_t *c, const char *s, size_t n) {
    if (col_begin(c) || buf_put(&c->data, s, n)) return -1;
    return col_end_text(c);
}

static int col_int(col_t *c, int64_t v) {
    if (col_begin(c)) return -1;
    if (c->kind == K_INT32) {
        int32_t v32 = (int32_t)v;
        if (buf_put(&c->data, &v32, 4)) return -1;
    } else if (buf_put(&c->data, &v, 8)) {
        return -1;
    }
    col_mark_valid(c);
    return 0;
}

/* ---- a scanned file: its columns, shared by Python and Arrow consumers ---- */

typedef struct {
    atomic_long refs;
    int ncols;
    col_t *cols; /* every column holds a value for each record */
} result_t;

static int64_t result_rows(const result_t *r) { return r->cols[0].n; }

static void result_decref(result_t *r) {
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    for (int i = 0; i < r->ncols; i++) {
        free(r->cols[i].data.p);
        free(r->cols[i].offsets.p);
        free(r->cols[i].valid.p);
        free(r->cols[i].name);
    }
    free(r->cols);
    free(r);
}

/* ---- the wanted keys: a small trie of object keys ---- */

typedef struct {
    const char *key;
    size_t len;
    int child;    /* node to descend into when the value is an object, or -1 */
    int capture;  /* capture slot, or -1 */
    int moved;    /* top level: its non-null value has a column, so it is left out of raw */
    int next;     /* the next entry whose key has the same length, or -1 */
} entry_t;

#define MAX_KEY 64 /* longer keys are never wanted */

typedef struct {
    entry_t *entries;
    int n;
    int by_length[MAX_KEY]; /* the first entry whose key has this length, or -1 */
} node_t;

enum { CAP_NONE, CAP_NULL, CAP_STRING, CAP_ESCAPED, CAP_TEXT };

typedef struct {
    int state;
    int spaced;       /* the value's text has whitespace between its tokens */
    const char *p;
    size_t len;
} capture_t;

typedef struct {
    PyObject_HEAD
    node_t *nodes;
    int nnodes;
    int ncap;
    int *cap_json;    /* per capture: a JSON column (else text) */
    char **cap_names;
} ScannerObject;

/* ---- the parser ---- */

#define MAX_DEPTH 256

typedef struct {
    const char *p, *end;
    const ScannerObject *sc;
    capture_t *caps;
    buf_t raw;        /* the record's members left for raw */
    int lines;        /* values one per line: a record naming "Records" is an envelope */
    const char *source; /* the file's URI, the first column of each row */
    size_t source_len;
    size_t spaces;    /* whitespace skipped so far: tells a value that needs minifying */
} parse_t;

static inline void skip_ws(parse_t *P) {
    const char *from = P->p;
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\n' || *P->p == '\r' || *P->p == '\t'))
        P->p++;
    P->spaces += (size_t)(P->p - from);
}

/* Appends a validated JSON value without the whitespace between its tokens, so JSON columns
 * and raw hold the same text however the file was laid out. Strings are copied whole: their
 * closing quote is the first one not escaped (an odd run of backslashes before it). */
static int put_minified(buf_t *b, const char *s, size_t n) {
    if (buf_reserve(b, n)) return -1;
    char *w = b->p + b->len;
    const char *end = s + n;
    while (s < end) {
        const char *run = s;
        while (s < end && *s != '"' && *s != ' ' && *s != '\n' && *s != '\r' && *s != '\t') s++;
        memcpy(w, run, (size_t)(s - run));
        w += s - run;
        if (s >= end) break;
        if (*s != '"') {
            s++;
            continue;
        }
        const char *q = s + 1;
        for (;;) {
            q = memchr(q, '"', (size_t)(end - q));
            if (!q) return -1; /* cannot happen in a validated value */
            const char *back = q;
            while (back > s + 1 && back[-1] == '\\') back--;
            if ((q - back) % 2 == 0) break;
            q++;
        }
        memcpy(w, s, (size_t)(q + 1 - s));
        w += q + 1 - s;
        s = q + 1;
    }
    b->len = (size_t)(w - b->p);
    return 0;
}

static int put_value(buf_t *b, const char *s, size_t n, int spaced) {
    return spaced ? put_minified(b, s, n) : buf_put(b, s, n);
}

static inline int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the valid UTF-8 sequence at s (first byte >= 0x80), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end) {
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else return 0;
    if ((size_t)(end - s) < need + 1) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i <= need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return need + 1;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Bytes of x (eight, little-endian first) that end a plain run of a string: a quote, a
 * backslash, a control character or a non-ASCII byte. The lowest flagged byte is exact. */
static inline uint64_t string_stops(uint64_t x) {
    uint64_t quote = x ^ (ONES * '"'), backslash = x ^ (ONES * '\\');
    uint64_t zero_quote = (quote - ONES) & ~quote;
    uint64_t zero_backslash = (backslash - ONES) & ~backslash;
    uint64_t control = (x - ONES * 0x20) & ~x;
    return (zero_quote | zero_backslash | control | x) & HIGHS;
}

/* A string at P->p (on its quote): its content, and whether it holds an escape. */
static int scan_string(parse_t *P, const char **content, size_t *len, int *escaped) {
    const unsigned char *s = (const unsigned char *)P->p + 1;
    const unsigned char *end = (const unsigned char *)P->end;
    *escaped = 0;
    for (;;) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* eight bytes at a time; elsewhere the byte loop below does it all */
        while (end - s >= 8) {
            uint64_t x;
            memcpy(&x, s, 8);
            uint64_t stops = string_stops(x);
            if (stops) {
                s += __builtin_ctzll(stops) / 8;
                break;
            }
            s += 8;
        }
#endif
        while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') s++;
        if (s >= end) return -1;
        unsigned char c = *s;
        if (c == '"') break;
        if (c < 0x20) return -1;
        if (c == '\\') {
            *escaped = 1;
            if (end - s < 2) return -1;
            unsigned char e = s[1];
            if (e == 'u') {
                /* A surrogate must come as a high-low pair: DuckDB's JSON functions refuse a
                 * lone one, so a row holding one would break every query that reads it. */
                uint32_t unit = 0;
                if (end - s < 6) return -1;
                for (int i = 2; i < 6; i++) {
                    int h = hexval((char)s[i]);
                    if (h < 0) return -1;
                    unit = unit * 16 + (uint32_t)h;
                }
                s += 6;
                if (unit >= 0xDC00 && unit <= 0xDFFF) return -1;
                if (unit >= 0xD800 && unit <= 0xDBFF) {
                    uint32_t low = 0;
                    if (end - s < 6 || s[0] != '\\' || s[1] != 'u') return -1;
                    for (int i = 2; i < 6; i++) {
                        int h = hexval((char)s[i]);
                        if (h < 0) return -1;
                        low = low * 16 + (uint32_t)h;
                    }
                    if (low < 0xDC00 || low > 0xDFFF) return -1;
                    s += 6;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                s += 2;
            } else {
                return -1;
            }
            continue;
        }
        size_t n = utf8_len(s, end);
        if (!n) return -1;
        s += n;
    }
    *content = P->p + 1;
    *len = (size_t)((const char *)s - (P->p + 1));
    P->p = (const char *)s + 1;
    return 0;
}

static int skip_value(parse_t *P, int depth);

/* After a member or an element: 1 when a comma follows, 0 at `close`, -1 otherwise (the
 * comma or the closing character is consumed). */
static int after_item(parse_t *P, char close) {
    skip_ws(P);
    if (P->p >= P->end) return -1;
    if (*P->p == ',' || *P->p == close) return *P->p++ == ',';
    return -1;
}

static int scan_number(parse_t *P) {
    const char *p = P->p, *end = P->end;
    if (p < end && *p == '-') p++;
    if (p >= end) return -1;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < end && *p >= '0' && *p <= '9') p++;
    else return -1;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    P->p = p;
    return 0;
}

static int scan_literal(parse_t *P, const char *word, size_t n) {
    if ((size_t)(P->end - P->p) < n || memcmp(P->p, word, n) != 0) return -1;
    P->p += n;
    return 0;
}

/* Members of an object (P->p on '{'): when `node` >= 0, wanted keys are captured and, at the
 * top level (`top`), the members without a column of their own are copied to raw. */
static int scan_object(parse_t *P, int depth, int node, int top) {
    if (depth > MAX_DEPTH) return -1;
    P->p++;
    skip_ws(P);
    if (P->p < P->end && *P->p == '}') {
        P->p++;
        return 0;
    }
    uint64_t seen = 0; /* the wanted keys met in this object (a node has at most 64) */
    for (;;) {
        skip_ws(P);
        if (P->p >= P->end || *P->p != '"') return -1;
        const char *key_start = P->p, *key;
        size_t key_len;
        int escaped;
        if (scan_string(P, &key, &key_len, &escaped)) return -1;
        const char *key_end = P->p;
        const entry_t *hit = NULL;
        if (node >= 0) {
            if (escaped) return -1; /* "event\u0049D" is eventID: rare, left to the full reader */
            if (top && P->lines && key_len == 7 && memcmp(key, "Records", 7) == 0) return -1;
            const node_t *nd = &P->sc->nodes[node];
            int i = key_len < MAX_KEY ? nd->by_length[key_len] : -1;
            for (; i >= 0; i = nd->entries[i].next) {
                if (memcmp(nd->entries[i].key, key, key_len) == 0) {
                    hit = &nd->entries[i];
                    break;
                }
            }
            /* A wanted key twice (captured, or on the way to one): Python keeps the last, the
             * scan would mix both, so the full reader decides. */
            if (hit) {
                uint64_t bit = 1ULL << (hit - nd->entries);
                if (seen & bit) return -1;
                seen |= bit;
            }
        }
        skip_ws(P);
        if (P->p >= P->end || *P->p != ':') return -1;
        P->p++;
        skip_ws(P);
        if (P->p >= P->end) return -1;
        const char *value = P->p;
        size_t spaces = P->spaces;
        int state = CAP_TEXT;
        const char *content = value;
        size_t content_len = 0;
        if (*P->p == '"') {
            if (scan_string(P, &content, &content_len, &escaped)) return -1;
            state = escaped ? CAP_ESCAPED : CAP_STRING;
        } else if (*P->p == '{' && hit && hit->child >= 0) {
            if (scan_object(P, depth + 1, hit->child, 0)) return -1;
        } else if (*P->p == 'n') {
            if (scan_literal(P, "null", 4)) return -1;
            state = CAP_NULL;
        } else if (skip_value(P, depth + 1)) {
            return -1;
        }
        size_t value_len = (size_t)(P->p - value);
        int spaced = P->spaces != spaces;
        if (hit && hit->capture >= 0) {
            capture_t *cap = &P->caps[hit->capture];
            cap->state = state;
            cap->spaced = spaced;
            if (state == CAP_STRING || state == CAP_ESCAPED) {
                if (P->sc->cap_json[hit->capture]) {
                    cap->state = CAP_TEXT; /* a JSON column keeps the string's JSON text */
                    cap->p = value;
                    cap->len = value_len;
                } else {
                    cap->p = content;
                    cap->len = content_len;
                }
            } else {
                cap->p = value;
                cap->len = value_len;
            }
        }
        if (top && !(hit && hit->moved && state != CAP_NULL)) {
            if ((P->raw.len && buf_put(&P->raw, ",", 1)) ||
                buf_put(&P->raw, key_start, (size_t)(key_end - key_start)) ||
                buf_put(&P->raw, ":", 1) || put_value(&P->raw, value, value_len, spaced))
                return -1;
        }
        int more = after_item(P, '}');
        if (more <= 0) return more;
    }
}

static int skip_value(parse_t *P, int depth) {
    if (depth > MAX_DEPTH || P->p >= P->end) return -1;
    const char *content;
    size_t len;
    int escaped;
    switch (*P->p) {
    case '"':
        return scan_string(P, &content, &len, &escaped);
    case '{':
        return scan_object(P, depth, -1, 0);
    case '[':
        P->p++;
        skip_ws(P);
        if (P->p < P->end && *P->p == ']') {
            P->p++;
            return 0;
        }
        for (;;) {
            skip_ws(P);
            if (skip_value(P, depth + 1)) return -1;
            int more = after_item(P, ']');
            if (more <= 0) return more;
        }
    case 't':
        return scan_literal(P, "true", 4);
    case 'f':
        return scan_literal(P, "false", 5);
    case 'n':
        return scan_literal(P, "null", 4);
    default:
        return scan_number(P);
    }
}

/* Appends a JSON string's content to `out` unescaped; -1 on a lone surrogate or \u0000. */
static int unescape(buf_t *out, const char *s, size_t n) {
    const char *end = s + n;
    while (s < end) {
        const char *run = s;
        while (s < end && *s != '\\') s++;
        if (buf_put(out, run, (size_t)(s - run))) return -1;
        if (s >= end) break;
        char e = s[1]; /* scan_string checked every escape is complete */
        char c;
        switch (e) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': c = 0; break;
        default: c = e; break;
        }
        if (e != 'u') {
            if (buf_put(out, &c, 1)) return -1;
            s += 2;
            continue;
        }
        uint32_t cp = 0;
        for (int i = 2; i < 6; i++) cp = cp * 16 + (uint32_t)hexval(s[i]);
        s += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - s < 6 || s[0] != '\\' || s[1] != 'u') return -1;
            uint32_t lo = 0;
            for (int i = 2; i < 6; i++) lo = lo * 16 + (uint32_t)hexval(s[i]);
            if (lo < 0xDC00 || lo > 0xDFFF) return -1;
            s += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp == 0) return -1;
        unsigned char u[4];
        size_t k;
        if (cp < 0x80) { u[0] = (unsigned char)cp; k = 1; }
        else if (cp < 0x800) {
            u[0] = (unsigned char)(0xC0 | (cp >> 6));
            u[1] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            u[0] = (unsigned char)(0xE0 | (cp >> 12));
            u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            u[0] = (unsigned char)(0xF0 | (cp >> 18));
            u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (buf_put(out, u, k)) return -1;
    }
    return 0;
}

/* Columns: source, nbytes, is_object, one per capture, raw. */
#define FIXED_BEFORE 3

/* One record at P->p: a row. */
static int scan_record(parse_t *P, result_t *r) {
    const ScannerObject *sc = P->sc;
    const char *start = P->p;
    col_t *cols = r->cols;
    if (P->p >= P->end) return -1;
    int is_object = *P->p == '{';
    memset(P->caps, 0, sizeof(capture_t) * (size_t)sc->ncap);
    P->raw.len = 0;
    if (is_object ? scan_object(P, 0, 0, 1) : skip_value(P, 0)) return -1;
    if (col_text(&cols[0], P->source, P->source_len) || col_int(&cols[1], (int64_t)(P->p - start)) ||
        col_int(&cols[2], is_object))
        return -1;
    for (int i = 0; i < sc->ncap; i++) {
        col_t *c = &cols[FIXED_BEFORE + i];
        capture_t *cap = &P->caps[i];
        if (cap->state == CAP_NONE || cap->state == CAP_NULL) {
            if (col_null(c)) return -1;
        } else if (cap->state == CAP_ESCAPED) {
            if (col_begin(c) || unescape(&c->data, cap->p, cap->len) || col_end_text(c)) return -1;
        } else if (col_begin(c) || put_value(&c->data, cap->p, cap->len, cap->spaced) ||
                   col_end_text(c)) {
            return -1;
        }
    }
    col_t *raw = &cols[FIXED_BEFORE + sc->ncap];
    if (!is_object) return col_null(raw);
    if (col_begin(raw) || buf_put(&raw->data, "{", 1) || buf_put(&raw->data, P->raw.p, P->raw.len) ||
        buf_put(&raw->data, "}", 1))
        return -1;
    return col_end_text(raw);
}

/* The records of a file, by its shape (as the Python path reads it):
 * 'r' {"Records": [...]}, 'a' a JSON array, 'l' values one per line (NDJSON, or one record). */
static int scan_file(parse_t *P, result_t *r, char shape) {
    skip_ws(P);
    if (shape == 'r' || shape == 'a') {
        if (shape == 'r') {
            /* the envelope: "Records" first (the caller sniffed it), other keys ignored */
            if (P->p >= P->end || *P->p != '{') return -1;
            P->p++;
            skip_ws(P);
            const char *key;
            size_t key_len;
            int escaped;
            if (P->p >= P->end || *P->p != '"' || scan_string(P, &key, &key_len, &escaped) ||
                key_len != 7 || memcmp(key, "Records", 7) != 0)
                return -1;
            skip_ws(P);
            if (P->p >= P->end || *P->p != ':') return -1;
            P->p++;
            skip_ws(P);
        }
        if (P->p >= P->end || *P->p != '[') return -1;
        P->p++;
        skip_ws(P);
        if (P->p < P->end && *P->p == ']') {
            P->p++;
        } else {
            for (int more = 1; more;) {
                skip_ws(P);
                if (scan_record(P, r)) return -1;
                more = after_item(P, ']');
                if (more < 0) return -1;
            }
        }
        if (shape == 'r') {
            skip_ws(P);
            while (P->p < P->end && *P->p == ',') {
                /* another key of the envelope: skipped, unless it is a second "Records" */
                P->p++;
                skip_ws(P);
                const char *key;
                size_t key_len;
                int escaped;
                if (P->p >= P->end || *P->p != '"' || scan_string(P, &key, &key_len, &escaped))
                    return -1;
                if (escaped || (key_len == 7 && memcmp(key, "Records", 7) == 0)) return -1;
                skip_ws(P);
                if (P->p >= P->end || *P->p != ':') return -1;
                P->p++;
                skip_ws(P);
                if (skip_value(P, 1)) return -1;
                skip_ws(P);
            }
            if (P->p >= P->end || *P->p != '}') return -1;
            P->p++;
        }
        skip_ws(P);
        return P->p == P->end ? 0 : -1;
    }
    /* One value per line (NDJSON), or one value over any number of lines: the Python path
     * reads a file of several values line by line, so none of them may span lines. */
    int count = 0, multiline = 0;
    P->lines = 1;
    while (P->p < P->end) {
        const char *start = P->p;
        if (scan_record(P, r)) return -1;
        if (memchr(start, '\n', (size_t)(P->p - start))) multiline = 1;
        count++;
        int newline = 0;
        while (P->p < P->end &&
               (*P->p == ' ' || *P->p == '\n' || *P->p == '\r' || *P->p == '\t')) {
            if (*P->p == '\n') newline = 1;
            P->p++;
        }
        if (P->p < P->end && !newline) return -1;
    }
    return count == 0 || (count > 1 && multiline) ? -1 : 0; /* an empty file: the full reader */
}

/* ---- Python: Scanner(captures, moved) ---- */

static void scanner_free_nodes(ScannerObject *self) {
    if (self->nodes) {
        for (int i = 0; i < self->nnodes; i++) {
            for (int j = 0; j < self->nodes[i].n; j++) free((char *)self->nodes[i].entries[j].key);
            free(self->nodes[i].entries);
        }
        free(self->nodes);
    }
    if (self->cap_names) {
        for (int i = 0; i < self->ncap; i++) free(self->cap_names[i]);
        free(self->cap_names);
    }
    free(self->cap_json);
    self->nodes = NULL;
    self->cap_names = NULL;
    self->cap_json = NULL;
}

static void scanner_dealloc(ScannerObject *self) {
    scanner_free_nodes(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The entry for `key` under `node`, added when missing; -1 out of memory, -2 when the node
 * has 64 keys already (scan_object keeps the keys it met in one 64-bit mask). */
static int trie_entry(ScannerObject *self, int node, const char *key, size_t len) {
    node_t *nd = &self->nodes[node];
    for (int i = 0; i < nd->n; i++)
        if (nd->entries[i].len == len && memcmp(nd->entries[i].key, key, len) == 0) return i;
    if (nd->n >= 64) return -2;
    entry_t *grown = realloc(nd->entries, sizeof(entry_t) * (size_t)(nd->n + 1));
    if (!grown) return -1;
    nd->entries = grown;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, key, len);
    copy[len] = 0;
    nd->entries[nd->n] = (entry_t){copy, len, -1, -1, 0, -1};
    if (len < MAX_KEY) {
        nd->entries[nd->n].next = nd->by_length[len];
        nd->by_length[len] = nd->n;
    }
    return nd->n++;
}

static int trie_child(ScannerObject *self, int node, int entry) {
    if (self->nodes[node].entries[entry].child >= 0) return self->nodes[node].entries[entry].child;
    node_t *grown = realloc(self->nodes, sizeof(node_t) * (size_t)(self->nnodes + 1));
    if (!grown) return -1;
    self->nodes = grown;
    self->nodes[self->nnodes] = (node_t){NULL, 0, {0}};
    memset(self->nodes[self->nnodes].by_length, -1, sizeof self->nodes[0].by_length);
    self->nodes[node].entries[entry].child = self->nnodes;
    return self->nnodes++;
}

static int trie_error(int code) {
    if (code == -2) PyErr_SetString(PyExc_ValueError, "over 64 wanted keys in one object");
    else PyErr_NoMemory();
    return -1;
}

static int scanner_init(ScannerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"captures", "moved", NULL};
    PyObject *captures, *moved;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO", kwlist, &captures, &moved)) return -1;
    PyObject *caps = PySequence_Fast(captures, "captures must be a sequence");
    if (!caps) return -1;
    scanner_free_nodes(self);
    Py_ssize_t ncap = PySequence_Fast_GET_SIZE(caps);
    self->ncap = 0;
    self->nodes = calloc(1, sizeof(node_t));
    self->nnodes = 1;
    if (self->nodes) memset(self->nodes[0].by_length, -1, sizeof self->nodes[0].by_length);
    self->cap_json = calloc((size_t)ncap + 1, sizeof(int));
    self->cap_names = calloc((size_t)ncap + 1, sizeof(char *));
    if (!self->nodes || !self->cap_json || !self->cap_names) {
        Py_DECREF(caps);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < ncap; i++) {
        const char *name, *path;
        int is_json;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(caps, i), "ssp", &name, &path, &is_json)) {
            Py_DECREF(caps);
            return -1;
        }
        int node = 0, entry = -1;
        const char *part = path;
        for (;;) {
            const char *dot = strchr(part, '.');
            size_t len = dot ? (size_t)(dot - part) : strlen(part);
            entry = trie_entry(self, node, part, len);
            if (entry < 0) {
                Py_DECREF(caps);
                return trie_error(entry);
            }
            if (!dot) break;
            node = trie_child(self, node, entry);
            if (node < 0) goto nomem;
            part = dot + 1;
        }
        if (self->nodes[node].entries[entry].capture >= 0) {
            Py_DECREF(caps);
            PyErr_Format(PyExc_ValueError, "path captured twice: %s", path);
            return -1;
        }
        self->nodes[node].entries[entry].capture = (int)i;
        self->cap_json[i] = is_json;
        self->cap_names[i] = strdup(name);
        if (!self->cap_names[i]) goto nomem;
        self->ncap = (int)i + 1;
    }
    Py_DECREF(caps);
    PyObject *mv = PySequence_Fast(moved, "moved must be a sequence");
    if (!mv) return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(mv); i++) {
        Py_ssize_t len;
        const char *key = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(mv, i), &len);
        if (!key) {
            Py_DECREF(mv);
            return -1;
        }
        int entry = trie_entry(self, 0, key, (size_t)len);
        if (entry < 0) {
            Py_DECREF(mv);
            return trie_error(entry);
        }
        self->nodes[0].entries[entry].moved = 1;
    }
    Py_DECREF(mv);
    return 0;
nomem:
    Py_DECREF(caps);
    PyErr_NoMemory();
    return -1;
}

/* ---- Python: Scanned, one file's result ---- */

typedef struct {
    PyObject_HEAD
    result_t *result;
} ScannedObject;

static void scanned_dealloc(ScannedObject *self) {
    result_decref(self->result);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *scanned_rows(ScannedObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLongLong(self->result ? result_rows(self->result) : 0);
}

static PyGetSetDef scanned_getset[] = {
    {"rows", (getter)scanned_rows, NULL, "records in the file", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannedType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "opencwpp.detect.ingest._scan.Scanned",
    .tp_basicsize = sizeof(ScannedObject),
    .tp_dealloc = (destructor)scanned_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One file's records as columns (see Scanner.stream).",
    .tp_getset = scanned_getset,
};

static result_t *result_new(const ScannerObject *sc) {
    result_t *r = calloc(1, sizeof(result_t));
    if (!r) return NULL;
    atomic_init(&r->refs, 1);
    r->ncols = FIXED_BEFORE + sc->ncap + 1;
    r->cols = calloc((size_t)r->ncols, sizeof(col_t));
    if (!r->cols) {
        free(r);
        return NULL;
    }
    static const char *fixed[FIXED_BEFORE] = {"source", "nbytes", "is_object"};
    static const int kinds[FIXED_BEFORE] = {K_UTF8, K_INT64, K_INT32};
    int ok = 1;
    for (int i = 0; i < FIXED_BEFORE; i++) {
        r->cols[i].kind = kinds[i];
        ok &= (r->cols[i].name = strdup(fixed[i])) != NULL;
    }
    for (int i = 0; i < sc->ncap; i++) {
        col_t *c = &r->cols[FIXED_BEFORE + i];
        c->kind = K_UTF8;
        c->json = sc->cap_json[i];
        ok &= (c->name = strdup(sc->cap_names[i])) != NULL;
    }
    col_t *raw = &r->cols[r->ncols - 1];
    raw->kind = K_UTF8;
    raw->json = 1;
    ok &= (raw->name = strdup("raw")) != NULL;
    for (int i = 0; i < r->ncols; i++) {
        if (r->cols[i].kind == K_UTF8) {
            int32_t zero = 0;
            ok &= buf_put(&r->cols[i].offsets, &zero, sizeof zero) == 0;
            ok &= buf_reserve(&r->cols[i].data, 1) == 0; /* never a NULL data buffer */
        }
    }
    if (!ok) {
        result_decref(r);
        return NULL;
    }
    return r;
}

static PyObject *scanner_scan(ScannerObject *self, PyObject *args) {
    Py_buffer view;
    const char *source;
    Py_ssize_t source_len;
    int shape;
    if (!PyArg_ParseTuple(args, "y*s#C", &view, &source, &source_len, &shape)) return NULL;
    if (shape != 'r' && shape != 'a' && shape != 'l') {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "shape must be 'r', 'a' or 'l'");
        return NULL;
    }
    result_t *r = result_new(self);
    capture_t *caps = calloc((size_t)self->ncap + 1, sizeof(capture_t));
    if (!r || !caps) {
        result_decref(r);
        free(caps);
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    parse_t P = {.p = view.buf, .end = (const char *)view.buf + view.len, .sc = self, .caps = caps,
                 .source = source, .source_len = (size_t)source_len};
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = scan_file(&P, r, (char)shape);
    Py_END_ALLOW_THREADS
    free(caps);
    free(P.raw.p);
    PyBuffer_Release(&view);
    if (failed) {
        result_decref(r);
        Py_RETURN_NONE;
    }
    ScannedObject *out = PyObject_New(ScannedObject, &ScannedType);
    if (!out) {
        result_decref(r);
        return NULL;
    }
    out->result = r;
    return (PyObject *)out;
}

/* ---- the Arrow stream over scanned files ---- */

typedef struct {
    result_t **results;
    Py_ssize_t n, next;
} stream_data_t;

static void release_child_array(struct ArrowArray *a) {
    result_decref((result_t *)a->private_data);
    free(a->buffers);
    a->release = NULL;
}

static void release_array(struct ArrowArray *a) {
    for (int64_t i = 0; i < a->n_children; i++) {
        if (a->children[i]->release) a->children[i]->release(a->children[i]);
        free(a->children[i]);
    }
    free(a->children);
    free(a->buffers);
    result_decref((result_t *)a->private_data);
    a->release = NULL;
}

static int export_result(result_t *r, struct ArrowArray *out) {
    memset(out, 0, sizeof *out);
    out->length = result_rows(r);
    out->n_buffers = 1;
    out->n_children = r->ncols;
    out->buffers = calloc(1, sizeof(void *));
    out->children = calloc((size_t)r->ncols, sizeof(struct ArrowArray *));
    if (!out->buffers || !out->children) {
        free(out->buffers);
        free(out->children);
        return ENOMEM;
    }
    atomic_fetch_add(&r->refs, 1);
    out->private_data = r;
    out->release = release_array;
    for (int i = 0; i < r->ncols; i++) {
        col_t *c = &r->cols[i];
        struct ArrowArray *child = calloc(1, sizeof *child);
        const void **buffers = calloc(3, sizeof(void *));
        if (!child || !buffers) {
            free(child);
            free(buffers);
            out->n_children = i;
            release_array(out);
            return ENOMEM;
        }
        child->length = c->n;
        child->null_count = c->nulls;
        buffers[0] = c->nulls ? c->valid.p : NULL;
        if (c->kind == K_UTF8) {
            child->n_buffers = 3;
            buffers[1] = c->offsets.p;
            buffers[2] = c->data.p;
        } else {
            child->n_buffers = 2;
            buffers[1] = c->data.p;
        }
        child->buffers = buffers;
        atomic_fetch_add(&r->refs, 1);
        child->private_data = r;
        child->release = release_child_array;
        out->children[i] = child;
    }
    return 0;
}

static void release_schema(struct ArrowSchema *s) {
    for (int64_t i = 0; i < s->n_children; i++) {
        struct ArrowSchema *c = s->children[i];
        if (c->release) c->release(c);
        free(c);
    }
    free(s->children);
    free((void *)s->name);
    free((void *)s->metadata);
    s->release = NULL;
}

/* The arrow.json extension's metadata: {"ARROW:extension:name": "arrow.json",
 * "ARROW:extension:metadata": ""} in the interface's binary layout. */
static char *json_metadata(void) {
    static const char *pairs[2][2] = {{"ARROW:extension:name", "arrow.json"},
                                      {"ARROW:extension:metadata", ""}};
    size_t size = 4;
    for (int i = 0; i < 2; i++) size += 8 + strlen(pairs[i][0]) + strlen(pairs[i][1]);
    char *m = malloc(size), *w = m;
    if (!m) return NULL;
    int32_t n = 2;
    memcpy(w, &n, 4);
    w += 4;
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            int32_t len = (int32_t)strlen(pairs[i][j]);
            memcpy(w, &len, 4);
            w += 4;
            memcpy(w, pairs[i][j], (size_t)len);
            w += len;
        }
    }
    return m;
}

static int stream_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
    stream_data_t *d = st->private_data;
    result_t *r = d->results[0];
    memset(out, 0, sizeof *out);
    out->format = "+s";
    out->name = strdup("");
    out->n_children = r->ncols;
    out->children = calloc((size_t)r->ncols, sizeof(struct ArrowSchema *));
    out->release = release_schema;
    if (!out->name || !out->children) {
        out->n_children = 0;
        release_schema(out);
        return ENOMEM;
    }
    for (int i = 0; i < r->ncols; i++) {
        struct ArrowSchema *c = calloc(1, sizeof *c);
        if (!c) {
            out->n_children = i;
            release_schema(out);
            return ENOMEM;
        }
        out->children[i] = c;
        col_t *col = &r->cols[i];
        c->format = col->kind == K_UTF8 ? "u" : col->kind == K_INT32 ? "i" : "l";
        c->name = strdup(col->name);
        c->metadata = col->json ? json_metadata() : NULL;
        c->flags = ARROW_FLAG_NULLABLE;
        c->release = release_schema;
        if (!c->name || (col->json && !c->metadata)) {
            out->n_children = i + 1;
            release_schema(out);
            return ENOMEM;
        }
    }
    return 0;
}

static int stream_get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
    stream_data_t *d = st->private_data;
    if (d->next >= d->n) {
        memset(out, 0, sizeof *out);
        out->release = NULL; /* the end of the stream */
        return 0;
    }
    return export_result(d->results[d->next++], out);
}

static const char *stream_last_error(struct ArrowArrayStream *st) {
    (void)st;
    return "out of memory";
}

static void stream_release(struct ArrowArrayStream *st) {
    stream_data_t *d = st->private_data;
    if (d) {
        for (Py_ssize_t i = 0; i < d->n; i++) result_decref(d->results[i]);
        free(d->results);
        free(d);
    }
    st->release = NULL;
}

static void stream_capsule_free(PyObject *capsule) {
    struct ArrowArrayStream *st = PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (!st) return;
    if (st->release) st->release(st);
    free(st);
}

static PyObject *scanner_stream(ScannerObject *self, PyObject *args) {
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O", &list)) return NULL;
    PyObject *items = PySequence_Fast(list, "stream needs a sequence of Scanned");
    if (!items) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    if (n == 0) {
        Py_DECREF(items);
        PyErr_SetString(PyExc_ValueError, "stream needs at least one scanned file");
        return NULL;
    }
    stream_data_t *d = calloc(1, sizeof *d);
    struct ArrowArrayStream *st = calloc(1, sizeof *st);
    if (d) d->results = calloc((size_t)n, sizeof(result_t *));
    if (!d || !st || !d->results) {
        if (d) free(d->results);
        free(d);
        free(st);
        Py_DECREF(items);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, i);
        if (!PyObject_TypeCheck(item, &ScannedType) || !((ScannedObject *)item)->result ||
            ((ScannedObject *)item)->result->ncols != FIXED_BEFORE + self->ncap + 1) {
            d->n = i;
            st->private_data = d;
            stream_release(st);
            free(st);
            Py_DECREF(items);
            PyErr_SetString(PyExc_TypeError, "stream needs files scanned by this scanner");
            return NULL;
        }
        result_t *r = ((ScannedObject *)item)->result;
        atomic_fetch_add(&r->refs, 1);
        d->results[i] = r;
    }
    d->n = n;
    Py_DECREF(items);
    st->get_schema = stream_get_schema;
    st->get_next = stream_get_next;
    st->get_last_error = stream_last_error;
    st->release = stream_release;
    st->private_data = d;
    PyObject *capsule = PyCapsule_New(st, "arrow_array_stream", stream_capsule_free);
    if (!capsule) {
        stream_release(st);
        free(st);
    }
    return capsule;
}

static PyMethodDef scanner_methods[] = {
    {"scan", (PyCFunction)scanner_scan, METH_VARARGS,
     "scan(text, source, shape) -> Scanned | None: a file's records as columns; None when the "
     "file needs the full reader. shape: 'r' {\"Records\": [...]}, 'a' array, 'l' lines."},
    {"stream", (PyCFunction)scanner_stream, METH_VARARGS,
     "stream(scanned) -> PyCapsule: an Arrow C stream of the files, one batch each."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "opencwpp.detect.ingest._scan.Scanner",
    .tp_basicsize = sizeof(ScannerObject),
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scanner(captures, moved): captures are (column, dotted path, is_json).",
    .tp_methods = scanner_methods,
    .tp_init = (initproc)scanner_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "CloudTrail files to Arrow columns in one pass.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&ScannedType) < 0) return NULL;
    PyObject *m = PyModule_Create(&scan_module);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ScannedType);
    if (PyModule_AddObject(m, "Scanned", (PyObject *)&ScannedType) < 0) {
        Py_DECREF(&ScannedType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
