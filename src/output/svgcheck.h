/* svgcheck: the last look at an SVG before it leaves the process.
 *
 * graphviz decodes character references in labels and passes others
 * through, so what it writes is checked, not trusted: the SVG must be
 * well-formed XML 1.0 (one root element, matched tags, quoted attributes,
 * only the five predefined entities and character references), valid UTF-8,
 * and free of control characters, raw or as references (C0 but tab, newline
 * and carriage return; DEL; C1; U+FFFE, U+FFFF). */
#ifndef RG_SVGCHECK_H
#define RG_SVGCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True if svg[0..len) is clean; else false and one line in why. */
bool rg_svg_check(const char *svg, size_t len, char *why, size_t whylen);

#endif
