// Loads a routegraph HTML report from a file in Debian's headless chromium
// and checks it as a user would see it. Prints TAP; exit status 1 when any
// check fails, 2 on bad usage.
//
//   node report-test.mjs REPORT.html SCREENSHOT.png [--literal TEXT]...
//
// The expected node count comes from the model twice over: the report's own
// graph block (rg-graph, written from rg_graph) and a count recomputed here
// from the embedded results (rg-results) by the graph's documented rules
// (src/graph/graph.h); both must equal the SVG's nodes. Every --literal TEXT
// must appear as visible text; outside strings of the results that hold
// markup (< or >) must too, and inside the details panel of their node.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// playwright-core from RG_BROWSER_DEPS (run.sh installs it there, outside
// the work tree) or from node_modules beside this file.
const deps = process.env.RG_BROWSER_DEPS;
const require = createRequire(deps ? join(resolve(deps), 'package.json') : import.meta.url);
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.RG_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = 30000;

function usage() {
  console.error('usage: node report-test.mjs REPORT.html SCREENSHOT.png [--literal TEXT]...');
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [], literals = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--literal' && i + 1 < argv.length) literals.push(argv[++i]);
    else if (argv[i].startsWith('--')) usage();
    else pos.push(argv[i]);
  }
  if (pos.length !== 2) usage();
  return { report: resolve(pos[0]), shot: resolve(pos[1]), literals };
}

// ---- TAP ----
let n = 0, failed = 0;
function check(ok, what, detail) {
  n++;
  if (!ok) failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${what}`);
  if (!ok && detail !== undefined) console.log(`  # ${String(detail).replace(/\n/g, '\n  # ')}`);
  return ok;
}

// The visible form the report gives control characters (html.h).
function shown(s) {
  let out = '';
  for (const ch of String(s)) {
    const c = ch.codePointAt(0);
    if (c < 32) out += String.fromCodePoint(0x2400 + c);
    else if (c === 127) out += String.fromCodePoint(0x2421);
    else if (c >= 128 && c < 160) out += String.fromCodePoint(0xfffd);
    else out += ch;
  }
  return out;
}

// ---- the model's node count, recomputed from the results document ----
// One node for the prober, one per destination and per address that
// answered on a path, one unk node per silent TTL shared by traces with the
// same known neighbours and gap length, one end node per (last answering
// node, destination, reason) of a trace that did not reach its destination.
function modelNodeCount(results) {
  const hosts = new Set(), unks = new Set(), ends = new Set();
  for (const t of results.traces || []) {
    hosts.add(t.address);
    const hops = t.hops || [];
    const end = t.reached_ttl || t.last_answer_ttl || 0;
    const byTtl = new Map(hops.map((h) => [h.ttl, h.responder]));
    const path = [];
    for (let ttl = hops.length ? hops[0].ttl : 1; end && ttl <= end; ttl++)
      path.push(byTtl.get(ttl) ?? null);
    let before = 'prober', gap = 0;
    for (const addr of path) {
      if (addr === null) { gap++; continue; }
      hosts.add(addr);
      for (let k = 0; k < gap; k++) unks.add(`${before}|${addr}|${gap}|${k}`);
      before = addr;
      gap = 0;
    }
    if (!t.reached && hops.length)
      ends.add(`${before}|${t.address}|${t.stopped_by === 'unreachable'}`);
  }
  return 1 + hosts.size + unks.size + ends.size;
}

// http: and https: may appear only as the SVG's XML namespace attributes.
function externalRefs(html) {
  const bad = [];
  for (const m of html.matchAll(/https?:/gi)) {
    const before = html.slice(Math.max(0, m.index - 16), m.index);
    if (!/xmlns(:xlink)?="$/.test(before)) bad.push(html.slice(Math.max(0, m.index - 30), m.index + 40));
  }
  return bad;
}

// Outside strings holding markup: they must show as text, never as markup.
function markupStrings(results) {
  const out = [];
  const add = (s, address) => { if (typeof s === 'string' && /[<>]/.test(s)) out.push({ s, address }); };
  for (const h of results.hosts || []) { add(h.ptr, h.address); add(h.as_org, h.address); }
  for (const t of results.traces || []) add(t.target, null);
  return out;
}

async function nodeIndex(page, name) {
  return page.evaluate((want) => {
    const all = [...document.querySelectorAll('#rg-svg g.node')];
    return all.findIndex((g) => g.querySelector('title')?.textContent === want);
  }, name);
}

async function panelText(page) {
  return page.locator('#rg-details').textContent();
}

// The node to inspect: one with markup in its name or its AS name (the
// hostile one), else the first host with an AS.
function pickHost(results, graph) {
  const hosts = new Map((results.hosts || []).map((h) => [h.address, h]));
  const nodes = graph.nodes.filter((x) => x.kind === 'host' && hosts.has(x.address));
  const marked = (h) => /[<>]/.test(h.ptr || '') || /[<>]/.test(h.as_org || '');
  const hostile = nodes.find((x) => marked(hosts.get(x.address)));
  const withAs = nodes.find((x) => hosts.get(x.address).asn);
  const node = hostile || withAs || nodes[0];
  return node ? { node, host: hosts.get(node.address) } : null;
}

async function checkHover(page, pick) {
  const { node, host } = pick;
  const idx = await nodeIndex(page, node.name);
  if (!check(idx >= 0, `the SVG has node ${node.name}`)) return;
  await page.locator('#rg-svg g.node').nth(idx).hover();
  const text = await panelText(page);
  check(text.includes(node.address), `hover: details show the address ${node.address}`, text);
  if (host.asn) {
    const as = `AS${host.asn}`;
    check(text.includes(as) && (!host.as_org || text.includes(shown(host.as_org))),
          `hover: details show ${as} and its organisation`, text);
  }
  if (host.ptr) check(text.includes(shown(host.ptr)), 'hover: details show the name literally', text);
  check(/Traces through it \(\d+\)/.test(text) && (!node.rtt_count || / ms/.test(text)),
        'hover: details list the traces through it and their RTTs', text);
}

// The host whose answer carried the most ICMP extensions, both kinds
// (labels and interfaces) first, if any answer carried some.
function pickExtended(results, graph) {
  let best = null;
  for (const t of results.traces || []) {
    for (const hop of t.hops || []) {
      for (const p of hop.probes || []) {
        const ext = p.reply && p.reply.extensions;
        if (!ext) continue;
        const labels = (ext.mpls || []).length, ifs = (ext.interfaces || []).length;
        const size = 100 * ((labels > 0) + (ifs > 0)) + labels + ifs;
        const node = graph.nodes.find((x) => x.kind === 'host' && x.address === p.reply.from);
        if (node && (!best || size > best.size)) best = { node, ext, size };
      }
    }
  }
  return best;
}

async function checkExtensions(page, pick) {
  const idx = await nodeIndex(page, pick.node.name);
  if (!check(idx >= 0, `the SVG has node ${pick.node.name}`)) return;
  await page.locator('#rg-svg g.node').nth(idx).hover();
  const text = await panelText(page);
  const want = (pick.ext.mpls || []).map((l) => `${l.label} (TC ${l.tc}, S ${l.s}, TTL ${l.ttl})`);
  for (const x of pick.ext.interfaces || []) {
    want.push(`${x.role} interface`);
    if (x.name) want.push(shown(x.name));
    if (x.mtu !== undefined) want.push(`MTU ${x.mtu}`);
  }
  check(want.every((w) => text.includes(w)),
        `hover: details list the ICMP extensions of ${pick.node.address}`, text);
}

async function checkClick(page, graph) {
  const idx = await nodeIndex(page, 'prober');
  if (!check(idx >= 0, 'the SVG has the prober node')) return;
  await page.locator('#rg-svg g.node').nth(idx).click();
  const pinned = await page.locator('#rg-details.pinned').count();
  const text = await panelText(page);
  check(pinned === 1 && text.includes('prober'), 'click: the prober\'s details are pinned', text);
  const other = graph.nodes.find((x) => x.kind === 'host');
  if (other) {
    await page.locator('#rg-svg g.node').nth(await nodeIndex(page, other.name)).hover();
    check((await panelText(page)).includes('prober'), 'a pinned panel stays while hovering elsewhere');
  }
  await page.keyboard.press('Escape');
  check((await page.locator('#rg-details.pinned').count()) === 0 &&
        (await panelText(page)).includes('Hover over'), 'Escape clears the panel');
  // Many traces start with their tables folded: open the first one.
  const first = page.locator('#hops details').first();
  if ((await first.count()) && (await first.getAttribute('open')) === null)
    await first.locator('summary').click();
  const row = first.locator('tr[data-node]').first();
  if (await row.count()) {
    const name = await row.getAttribute('data-node');
    await row.click();
    check((await panelText(page)).includes(name), `clicking a hop row shows node ${name}`);
  }
}

async function checkZoom(page) {
  const width = () => page.evaluate(() => document.querySelector('#rg-svg svg').getBoundingClientRect().width);
  const fit = await width();
  await page.click('#rg-zoom-in');
  const bigger = await width();
  await page.click('#rg-zoom-fit');
  const back = await width();
  check(Math.abs(bigger / fit - 1.25) < 0.02 && Math.abs(back - fit) < 1,
        'zoom in is 125% of the fitted width, fit restores it', `${fit} ${bigger} ${back}`);
}

// A watch against a baseline: one timeline entry per change event, and
// hovering one marks the nodes of its new path (green) and of its old path
// that are not on the new one (red) among those the graph has.
async function checkChanges(page, results, graph) {
  const changes = (results.watch && results.watch.changes) || [];
  const entries = await page.locator('#changes li.change').count();
  check(entries === Math.min(changes.length, 1000), `one timeline entry per change (${entries})`);
  if (!changes.length) return;
  const names = new Set(graph.nodes.map((x) => x.name));
  const ev = changes[0];
  const now = (ev.new.hops || []).filter((a) => a && names.has(a));
  const gone = ((ev.old && ev.old.hops) || []).filter((a) => a && names.has(a) && !now.includes(a));
  const marked = (cls) => page.evaluate((c) =>
    [...document.querySelectorAll(`#rg-svg g.node.${c}`)].map((g) => g.querySelector('title').textContent), cls);
  await page.locator('#changes li.change').first().hover();
  const green = await marked('rg-new'), red = (await marked('rg-old')).filter((a) => !green.includes(a));
  check(now.length > 0 && JSON.stringify([...green].sort()) === JSON.stringify([...now].sort()),
        'hovering a change marks its new path in the graph', `${green} vs ${now}`);
  check(JSON.stringify([...red].sort()) === JSON.stringify([...gone].sort()),
        'and its old path where the graph has it', `${red} vs ${gone}`);
  await page.mouse.move(0, 0);
  check((await marked('rg-new')).length + (await marked('rg-old')).length === 0,
        'leaving it clears the marks');
}

async function checkStatic(page, html, results, graph) {
  const bad = externalRefs(html);
  check(bad.length === 0, 'no http:/https: reference but the SVG namespaces', bad.join('\n'));
  const svgNodes = await page.evaluate(() =>
    [...document.querySelectorAll('#rg-svg svg g.node')].map((g) => g.querySelector('title')?.textContent));
  const drawn = svgNodes.filter((t) => t !== 'legend');
  const model = modelNodeCount(results);
  check(graph.node_count === graph.nodes.length && drawn.length === graph.node_count,
        `SVG nodes (${drawn.length}) = graph block's node_count (${graph.node_count})`);
  check(drawn.length === model, `SVG nodes (${drawn.length}) = count from the results (${model})`);
  const names = new Set(graph.nodes.map((x) => x.name));
  check(drawn.every((t) => names.has(t)) && new Set(drawn).size === names.size,
        'every SVG node is a model node, each once');
  check(svgNodes.includes('legend') === graph.legend, 'the legend is drawn exactly when there are traces');
  const rows = await page.evaluate(() =>
    [...document.querySelectorAll('#verdicts tbody tr')].map((r) => r.querySelector('.badge')?.textContent));
  const states = (results.traces || []).map((t) => t.state);
  check(JSON.stringify(rows) === JSON.stringify(states), 'one verdict row per trace, with its state',
        `${JSON.stringify(rows)} vs ${JSON.stringify(states)}`);
  const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.type || 'js'));
  check(scripts.length === 3 && scripts.filter((t) => t === 'application/json').length === 2,
        'only the report\'s own script elements exist', JSON.stringify(scripts));
}

async function checkLiterals(page, results, literals) {
  const body = await page.evaluate(() => document.body.textContent);
  for (const lit of literals) check(body.includes(lit), `shown literally: ${JSON.stringify(lit)}`);
  for (const { s } of markupStrings(results))
    check(body.includes(shown(s)), `outside string shown as text: ${JSON.stringify(s).slice(0, 60)}`);
  const injected = await page.evaluate(() =>
    document.querySelectorAll('main script, main iframe, main img, main svg script, [onload], [onerror]').length);
  check(injected === 0, 'no element or handler was injected from the data');
}

async function run(args) {
  const html = readFileSync(args.report, 'utf8');
  const profile = mkdtempSync(join(tmpdir(), 'rg-chromium-'));
  const problems = [], requests = [];
  const url = pathToFileURL(args.report).href;
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run'],
      timeout: TIMEOUT_MS,
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => { problems.push(`dialog ${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load' });
    const ready = await page.evaluate(() => document.documentElement.getAttribute('data-rg-ready'));
    check(ready === '1', 'the report loads and its script runs');
    const results = await page.evaluate(() => JSON.parse(document.getElementById('rg-results').textContent));
    const graph = await page.evaluate(() => JSON.parse(document.getElementById('rg-graph').textContent));
    await checkStatic(page, html, results, graph);
    await checkLiterals(page, results, args.literals);
    await checkChanges(page, results, graph);
    const pick = pickHost(results, graph);
    if (pick) await checkHover(page, pick);
    const extended = pickExtended(results, graph);
    if (extended) await checkExtensions(page, extended);
    await checkClick(page, graph);
    await checkZoom(page);
    if (pick) {
      await page.keyboard.press('Escape');
      await page.locator('#rg-svg g.node').nth(await nodeIndex(page, pick.node.name)).click();
    }
    await page.screenshot({ path: args.shot, fullPage: true });
    check(statSync(args.shot).size > 10000, `screenshot saved to ${args.shot}`);
    check(requests.length === 0, 'no request besides the report file', requests.join('\n'));
    check(problems.length === 0, 'no console error, page error or dialog', problems.join('\n'));
  } catch (e) {
    check(false, 'browser session', e.stack || e);
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

const args = parseArgs(process.argv.slice(2));
await run(args);
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
