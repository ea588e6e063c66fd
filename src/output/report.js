(function () {
  'use strict';
  function block(id) {
    var e = document.getElementById(id);
    return e ? JSON.parse(e.textContent) : null;
  }
  var R = block('rg-results'), G = block('rg-graph');
  var panel = document.getElementById('rg-details');
  var box = document.getElementById('rg-svg');
  if (!R || !G || !panel) return;
  var HINT = 'Hover over or click a node for its details; Esc clears.';
  var hosts = new Map(), nodes = new Map(), elems = new Map();
  (R.hosts || []).forEach(function (h) { hosts.set(h.address, h); });
  G.nodes.forEach(function (n) { nodes.set(n.name, n); });
  function shown(s) {
    var out = '';
    for (var ch of String(s)) {
      var c = ch.codePointAt(0);
      if (c < 32) ch = String.fromCodePoint(0x2400 + c);
      else if (c === 127) ch = String.fromCodePoint(0x2421);
      else if (c >= 128 && c < 160) ch = String.fromCodePoint(0xfffd);
      out += ch;
    }
    return out;
  }
  function ms(us) {
    if (us < 10000) return (Math.floor(us / 10) / 100).toFixed(2) + ' ms';
    if (us < 100000) return (Math.floor(us / 100) / 10).toFixed(1) + ' ms';
    return Math.floor(us / 1000) + ' ms';
  }
  function add(parent, tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = shown(text);
    parent.appendChild(e);
    return e;
  }
  function field(dl, key, value) {
    if (value === undefined || value === null || value === '') return;
    add(dl, 'dt', null, key);
    add(dl, 'dd', null, value);
  }
  function traceLabel(i) {
    var t = R.traces[i];
    if (!t) return 'trace ' + i;
    var name = String(t.target);
    return (name.indexOf(':') >= 0 ? '[' + name + ']' : name) + ':' + t.port;
  }
  function asText(h) {
    if (!h || !h.asn) return null;
    return 'AS' + h.asn + (h.as_org ? ' ' + h.as_org : '');
  }
  function place(h) {
    return h ? [h.city, h.country].filter(Boolean).join(', ') : '';
  }
  function repliesFrom(addr) {
    var by = new Map();
    (R.traces || []).forEach(function (t, i) {
      (t.hops || []).forEach(function (hop) {
        (hop.probes || []).forEach(function (p) {
          if (!p.reply || p.reply.from !== addr) return;
          if (!by.has(i)) by.set(i, []);
          by.get(i).push(p.reply.rtt_us);
        });
      });
    });
    return by;
  }
  function traceItem(ul, i, text) {
    var li = add(ul, 'li');
    var sw = add(li, 'span', 'swatch');
    var look = (G.traces || [])[i];
    if (look) {
      sw.style.borderTopColor = look.color;
      sw.style.borderTopStyle = look.style === 'bold' ? 'solid' : look.style;
      if (look.style === 'bold') sw.style.borderTopWidth = '5px';
    }
    add(li, 'span', 'mono', traceLabel(i));
    if (text) add(li, 'span', 'muted more', text);
  }
  function title(n) {
    if (n.kind === 'host') return n.address;
    if (n.kind === 'prober') return 'prober (this host)';
    if (n.kind === 'unk') return 'silent hop';
    return n.reason === 'unreachable' ? 'trace ended: unreachable' : 'trace ended: no reply';
  }
  // The ICMP extensions (MPLS labels, RFC 5837 interfaces) of the first
  // answer from addr that carried any, as the hop tables show them.
  function extensionsFrom(addr) {
    var found = null;
    (R.traces || []).some(function (t) {
      return (t.hops || []).some(function (hop) {
        return (hop.probes || []).some(function (p) {
          if (!p.reply || p.reply.from !== addr || !p.reply.extensions) return false;
          found = p.reply.extensions;
          return true;
        });
      });
    });
    return found;
  }
  function describeExtensions(dl, addr) {
    var e = extensionsFrom(addr);
    if (!e) return;
    if (e.mpls) field(dl, 'MPLS', e.mpls.map(function (l) {
      return l.label + ' (TC ' + l.tc + ', S ' + l.s + ', TTL ' + l.ttl + ')';
    }).join(', '));
    (e.interfaces || []).forEach(function (x) {
      var parts = [];
      if (x.name) parts.push(x.name);
      if (x.ifindex !== undefined) parts.push('ifIndex ' + x.ifindex);
      if (x.address) parts.push(x.address);
      if (x.mtu !== undefined) parts.push('MTU ' + x.mtu);
      field(dl, x.role + ' interface', parts.join(', '));
    });
  }
  function describeHost(dl, n) {
    var h = hosts.get(n.address);
    field(dl, 'Address', n.address);
    field(dl, 'Name', h && h.ptr);
    field(dl, 'AS', asText(h) || 'unknown');
    field(dl, 'Location', place(h));
    if (n.rtt_count) field(dl, 'Median RTT', ms(n.median_rtt_us) + ' over ' + n.rtt_count +
                           (n.rtt_count === 1 ? ' reply' : ' replies'));
    describeExtensions(dl, n.address);
  }
  function describePorts(n) {
    if (!n.ports || !n.ports.length) return;
    add(panel, 'h4', null, 'Ports probed');
    var ul = add(panel, 'ul');
    n.ports.forEach(function (p) {
      var li = add(ul, 'li');
      add(li, 'span', 'badge s-' + p.state, p.state);
      add(li, 'span', 'mono', p.port + ' ' + p.code);
    });
  }
  function describeTraces(n) {
    var through = new Map();
    (n.traces || []).forEach(function (tt) {
      if (!through.has(tt[0])) through.set(tt[0], []);
      if (tt[1] > 0) through.get(tt[0]).push(tt[1]);
    });
    var replies = n.address ? repliesFrom(n.address) : new Map();
    replies.forEach(function (r, i) { if (!through.has(i)) through.set(i, []); });
    var head = n.kind === 'end' ? 'Traces that ended here' : 'Traces through it';
    add(panel, 'h4', null, head + ' (' + through.size + ')');
    var ul = add(panel, 'ul');
    Array.from(through.keys()).sort(function (a, b) { return a - b; }).forEach(function (i) {
      var parts = [], ttls = through.get(i), rtts = replies.get(i);
      if (ttls.length) parts.push('TTL ' + ttls.join(', '));
      if (rtts) parts.push('RTT ' + rtts.map(ms).join(', '));
      traceItem(ul, i, parts.join(' \u00b7 '));
    });
  }
  function describe(n) {
    panel.replaceChildren();
    add(panel, 'h3', n.kind === 'host' ? 'mono' : null, title(n));
    var dl = add(panel, 'dl');
    if (n.kind === 'host') describeHost(dl, n);
    if (n.kind === 'prober') field(dl, 'Source', (n.sources || []).join(', '));
    if (n.kind === 'unk') field(dl, 'TTLs', 'no reply at these hops');
    if (n.kind === 'end') field(dl, 'Destination', n.dest);
    describePorts(n);
    describeTraces(n);
  }
  var selected = null, pinned = false;
  function mark(name, cls, on) {
    var g = elems.get(name);
    if (g) g.classList.toggle(cls, on);
  }
  function select(name, pin) {
    var n = nodes.get(name);
    if (!n) return;
    mark(selected, 'rg-sel', false);
    selected = name;
    pinned = pin;
    mark(name, 'rg-sel', true);
    panel.classList.toggle('pinned', pin);
    describe(n);
  }
  function clear() {
    mark(selected, 'rg-sel', false);
    selected = null;
    pinned = false;
    panel.classList.remove('pinned');
    panel.replaceChildren();
    add(panel, 'p', 'hint', HINT);
  }
  function hook(g, name) {
    elems.set(name, g);
    g.classList.add('rg-hot');
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
    g.addEventListener('mouseenter', function () { if (!pinned) select(name, false); });
    g.addEventListener('focus', function () { if (!pinned) select(name, false); });
    g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (pinned && selected === name) clear(); else select(name, true);
    });
    g.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(name, true); }
    });
  }
  if (box) {
    box.querySelectorAll('g.node').forEach(function (g) {
      var t = g.querySelector('title');
      if (t && nodes.has(t.textContent)) hook(g, t.textContent);
    });
    box.addEventListener('click', function () { if (pinned) clear(); });
  }
  document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') clear(); });
  document.querySelectorAll('[data-node]').forEach(function (row) {
    var name = row.getAttribute('data-node');
    row.addEventListener('mouseenter', function () { mark(name, 'rg-hl', true); });
    row.addEventListener('mouseleave', function () { mark(name, 'rg-hl', false); });
    row.addEventListener('click', function () { select(name, true); });
    row.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') select(name, true); });
  });
  // The timeline of changes: hovering or focusing one marks the nodes of
  // its old path (red) and new path (green) that the graph has.
  var changes = (R.watch && R.watch.changes) || [];
  function markPath(ev, on) {
    [['old', 'rg-old'], ['new', 'rg-new']].forEach(function (side) {
      var p = ev[side[0]];
      ((p && p.hops) || []).forEach(function (a) { if (a) mark(a, side[1], on); });
    });
  }
  document.querySelectorAll('li.change[data-change]').forEach(function (li) {
    var ev = changes[Number(li.getAttribute('data-change'))];
    if (!ev) return;
    li.addEventListener('mouseenter', function () { markPath(ev, true); });
    li.addEventListener('mouseleave', function () { markPath(ev, false); });
    li.addEventListener('focus', function () { markPath(ev, true); });
    li.addEventListener('blur', function () { markPath(ev, false); });
  });
  var svg = box ? box.querySelector('svg') : null, zoom = 0;
  function zoomTo(z) {
    if (!svg) return;
    var natural = svg.width.baseVal.value;
    if (z !== 0 && natural > 0) {
      var now = zoom || svg.getBoundingClientRect().width / natural;
      zoom = Math.min(4, Math.max(0.2, now * z));
    } else zoom = 0;
    box.classList.toggle('fit', zoom === 0);
    svg.style.width = zoom ? Math.round(natural * zoom) + 'px' : '';
    showZoom();
  }
  function showZoom() {
    var label = document.getElementById('rg-zoom'), natural = svg ? svg.width.baseVal.value : 0;
    if (!label || !(natural > 0)) return;
    label.textContent = Math.round(svg.getBoundingClientRect().width / natural * 100) + '%';
  }
  window.addEventListener('resize', showZoom);
  showZoom();
  [['rg-zoom-in', 1.25], ['rg-zoom-out', 0.8], ['rg-zoom-fit', 0], ['rg-zoom-1', -1]].forEach(function (b) {
    var e = document.getElementById(b[0]);
    if (!e) return;
    e.addEventListener('click', function () {
      if (b[1] < 0) { zoom = 1; zoomTo(1); } else zoomTo(b[1]);
    });
  });
  clear();
  document.documentElement.setAttribute('data-rg-ready', '1');
})();
