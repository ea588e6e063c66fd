#include "svgcheck.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../util/utf8.h"

#define MAX_DEPTH 256

typedef struct xs {
    const char *p, *end;
    const char *why;
} xs;

/* An XML 1.0 Char that is not a control character (tab, newline and
 * carriage return excepted). */
static bool allowed(uint32_t cp)
{
    if (cp == 0x9 || cp == 0xa || cp == 0xd)
        return true;
    return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f) &&
           !(cp >= 0xd800 && cp <= 0xdfff) && cp != 0xfffe && cp != 0xffff && cp <= 0x10ffff;
}

static bool bad(xs *x, const char *why)
{
    x->why = why;
    return false;
}

static bool at(const xs *x, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(xs *x)
{
    while (x->p < x->end && is_space(*x->p))
        x->p++;
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

/* An ASCII XML name; its start and length. */
static bool name(xs *x, const char **start, size_t *len)
{
    *start = x->p;
    if (x->p >= x->end || !name_char(*x->p, true))
        return bad(x, "a tag or attribute without a valid name");
    while (x->p < x->end && name_char(*x->p, false))
        x->p++;
    *len = (size_t)(x->p - *start);
    return true;
}

/* x->p is at '&': one of the five entities, or a character reference to
 * an allowed character. */
static bool reference(xs *x)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (at(x, named[i])) {
            x->p += strlen(named[i]);
            return true;
        }
    if (!at(x, "&#"))
        return bad(x, "an '&' that starts no entity");
    x->p += 2;
    bool hex = x->p < x->end && *x->p == 'x';
    x->p += hex;
    uint32_t cp = 0;
    int digits = 0;
    for (; x->p < x->end && *x->p != ';'; x->p++, digits++) {
        char c = *x->p;
        int v = c >= '0' && c <= '9' ? c - '0'
              : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0 || digits == 8)
            return bad(x, "a malformed character reference");
        cp = cp * (hex ? 16 : 10) + (uint32_t)v;
    }
    if (x->p >= x->end || digits == 0)
        return bad(x, "a malformed character reference");
    x->p++;
    return allowed(cp) || bad(x, "a character reference to a control character");
}

/* Up to (not past) stop; '<' never, '&' only as a reference. */
static bool chars(xs *x, char stop)
{
    while (x->p < x->end && *x->p != stop) {
        if (*x->p == '<')
            return bad(x, "a '<' inside an attribute value");
        if (*x->p == '&') {
            if (!reference(x))
                return false;
        } else {
            x->p++;
        }
    }
    return x->p < x->end || bad(x, "the document ends inside an attribute value");
}

static bool until(xs *x, const char *close, const char *why)
{
    const char *hit = memmem(x->p, (size_t)(x->end - x->p), close, strlen(close));
    if (!hit)
        return bad(x, why);
    x->p = hit + strlen(close);
    return true;
}

static bool comment(xs *x)
{
    x->p += 4;
    const char *hit = memmem(x->p, (size_t)(x->end - x->p), "--", 2);
    if (!hit || hit + 2 >= x->end || hit[2] != '>')
        return bad(x, "a malformed comment");
    x->p = hit + 3;
    return true;
}

/* Whitespace, comments and processing instructions. */
static bool misc(xs *x)
{
    for (;;) {
        skip_space(x);
        if (at(x, "<!--")) {
            if (!comment(x))
                return false;
        } else if (at(x, "<?")) {
            if (!until(x, "?>", "an unterminated processing instruction"))
                return false;
        } else {
            return true;
        }
    }
}

/* <!DOCTYPE ...> without an internal subset. */
static bool doctype(xs *x)
{
    x->p += 9;
    while (x->p < x->end && *x->p != '>') {
        char c = *x->p++;
        if (c == '"' || c == '\'') {
            const char *q = memchr(x->p, c, (size_t)(x->end - x->p));
            if (!q)
                return bad(x, "a malformed DOCTYPE");
            x->p = q + 1;
        } else if (c == '<' || c == '[') {
            return bad(x, "a DOCTYPE with an internal subset");
        }
    }
    if (x->p >= x->end)
        return bad(x, "a malformed DOCTYPE");
    x->p++;
    return true;
}

/* x->p is past '<'; a start tag, its attributes; *empty for "/>". */
static bool start_tag(xs *x, const char **tag, size_t *taglen, bool *empty)
{
    if (!name(x, tag, taglen))
        return false;
    for (;;) {
        const char *before = x->p;
        skip_space(x);
        if (at(x, ">") || at(x, "/>")) {
            *empty = *x->p == '/';
            x->p += *empty ? 2 : 1;
            return true;
        }
        const char *attr;
        size_t attrlen;
        if (x->p == before)
            return bad(x, "attributes not separated by white space");
        if (!name(x, &attr, &attrlen))
            return false;
        skip_space(x);
        if (x->p >= x->end || *x->p++ != '=')
            return bad(x, "an attribute without a value");
        skip_space(x);
        if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
            return bad(x, "an unquoted attribute value");
        char q = *x->p++;
        if (!chars(x, q))
            return false;
        x->p++;
    }
}

static bool element(xs *x)
{
    const char *stack[MAX_DEPTH];
    size_t lens[MAX_DEPTH];
    size_t depth = 0;
    do {
        if (at(x, "<!--")) {
            if (!comment(x))
                return false;
        } else if (at(x, "<![CDATA[")) {
            if (depth == 0 || !until(x, "]]>", "an unterminated CDATA section"))
                return depth ? false : bad(x, "text outside the root element");
        } else if (at(x, "<?")) {
            if (!until(x, "?>", "an unterminated processing instruction"))
                return false;
        } else if (at(x, "</")) {
            x->p += 2;
            const char *tag;
            size_t len;
            if (depth == 0 || !name(x, &tag, &len))
                return x->why ? false : bad(x, "an end tag without a start tag");
            depth--;
            if (len != lens[depth] || memcmp(tag, stack[depth], len) != 0)
                return bad(x, "an end tag that does not match its start tag");
            skip_space(x);
            if (x->p >= x->end || *x->p++ != '>')
                return bad(x, "a malformed end tag");
        } else if (at(x, "<")) {
            x->p++;
            const char *tag;
            size_t len;
            bool empty;
            if (!start_tag(x, &tag, &len, &empty))
                return false;
            if (!empty) {
                if (depth == MAX_DEPTH)
                    return bad(x, "elements nested too deeply");
                stack[depth] = tag;
                lens[depth++] = len;
            }
        } else if (depth == 0) {
            return bad(x, "text outside the root element");
        } else if (*x->p == '&') {
            if (!reference(x))
                return false;
        } else {
            x->p++;
        }
        if (depth > 0 && x->p >= x->end)
            return bad(x, "the document ends inside an element");
    } while (depth > 0);
    return true;
}

bool rg_svg_check(const char *svg, size_t len, char *why, size_t whylen)
{
    xs x = {svg, svg + len, NULL};
    if (!svg || strlen(svg) != len) {
        snprintf(why, whylen, "a NUL byte inside");
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)svg; *p;) {
        uint32_t cp;
        size_t n = rg_utf8_char(p, &cp);
        if (!n || !allowed(cp)) {
            snprintf(why, whylen, "%s at byte %zu", n ? "a control character" : "invalid UTF-8",
                     (size_t)((const char *)p - svg));
            return false;
        }
        p += n;
    }
    bool ok = misc(&x);
    if (ok && at(&x, "<!DOCTYPE"))
        ok = doctype(&x) && misc(&x);
    if (ok && !at(&x, "<"))
        ok = bad(&x, "no root element");
    ok = ok && element(&x) && misc(&x);
    if (ok && x.p != x.end)
        ok = bad(&x, "more than one root element, or text after it");
    if (!ok)
        snprintf(why, whylen, "%s at byte %zu", x.why, (size_t)(x.p - svg));
    return ok;
}
