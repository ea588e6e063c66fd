/* report_assets: the HTML report's style sheet and script, kept as
 * src/output/report.css and src/output/report.js (edited and linted as such)
 * and embedded at build time by scripts/embed-text.py.
 *
 * Promise: each is the file's exact text, NUL-terminated, with no "</" in it
 * (the build refuses one), so it cannot end its <style> or <script> element.
 * The script touches data only through textContent, never innerHTML. */
#ifndef RG_REPORT_ASSETS_H
#define RG_REPORT_ASSETS_H

extern const char rg_report_css[];
extern const char rg_report_js[];

#endif
