// Stakeout dashboard page. Every string from the server may come from the data (or a hostile sender): it is put in the
// page with textContent or as chart data only, never as HTML. No inline script, no eval (the CSP forbids both anyway).
'use strict';

(function () {
  const MAX_ROWS = 200;
  const HEX = /^#[0-9a-fA-F]{6}$/;
  const $ = (id) => document.getElementById(id);
  const state = { colors: {}, source: null, filter: { cls: '', src: '', severity: '' }, rows: 0, sampled: 0, charts: {} };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function colorOf(name) {
    const c = state.colors[name];
    return typeof c === 'string' && HEX.test(c) ? c : '#393b79';
  }

  function num(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : '–'; }

  function endpoint(a, port) {
    if (!a) { return '(no address)'; }
    return port >= 0 ? (a.indexOf(':') >= 0 ? '[' + a + ']:' + port : a + ':' + port) : a;
  }

  function query() {
    const p = new URLSearchParams();
    if (state.filter.cls) { p.set('class', state.filter.cls); }
    if (state.filter.src) { p.set('src', state.filter.src); }
    if (state.filter.severity) { p.set('severity', state.filter.severity); }
    const s = p.toString();
    return s ? '?' + s : '';
  }

  async function getJson(url) {
    const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) { throw new Error(url + ': ' + r.status + ' ' + (await r.text())); }
    return r.json();
  }

  // ---- charts -------------------------------------------------------------------------------------------------
  function chart(id) {
    if (!state.charts[id]) { state.charts[id] = echarts.init($(id), null, { renderer: 'canvas' }); }
    return state.charts[id];
  }

  const axisName = { nameLocation: 'middle', nameTextStyle: { fontSize: 12, color: '#333' } };

  function drawAlerts(stats) {
    const s = stats.alerts_over_time;
    const series = s.classes.map((name, i) => ({
      name: name,
      type: 'bar',
      stack: 'alerts',
      barCategoryGap: '10%',
      itemStyle: { color: colorOf(name) },
      data: s.counts[i].map((v, b) => [s.start_ms + b * s.bucket_ms, v]),
    }));
    chart('chart-alerts').setOption({
      animation: false,
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      legend: { type: 'scroll', top: 0, textStyle: { fontSize: 12 } },
      grid: { left: 70, right: 20, top: 36, bottom: 56 },
      xAxis: Object.assign({ type: 'time', name: stats.time_axis, nameGap: 30 }, axisName),
      yAxis: Object.assign({ type: 'value', name: 'alerting flows per ' + (s.bucket_ms >= 1000 ? (s.bucket_ms / 1000) + ' s' : s.bucket_ms + ' ms'), nameGap: 50, minInterval: 1 }, axisName),
      series: series,
    }, { replaceMerge: ['series'] });
  }

  function drawRates(stats) {
    const r = stats.rates;
    chart('chart-rates').setOption({
      animation: false,
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      legend: { top: 0, textStyle: { fontSize: 12 } },
      grid: { left: 70, right: 70, top: 36, bottom: 56 },
      xAxis: Object.assign({ type: 'time', name: 'time (UTC, sampled each second)', nameGap: 30 }, axisName),
      yAxis: [
        Object.assign({ type: 'value', name: 'flows in / s', nameGap: 55 }, axisName),
        Object.assign({ type: 'value', name: 'dropped, rejected / s', nameGap: 45, minInterval: 1 }, axisName),
      ],
      series: [
        { name: 'flows in / s', type: 'line', showSymbol: false, itemStyle: { color: '#1d1f24' }, data: r.map((p) => [p.at_ms, p.flows_per_second]) },
        { name: 'dropped / s', type: 'line', yAxisIndex: 1, showSymbol: false, itemStyle: { color: '#d62728' }, data: r.map((p) => [p.at_ms, p.dropped_per_second]) },
        { name: 'rejected / s', type: 'line', yAxisIndex: 1, showSymbol: false, itemStyle: { color: '#7f7f7f' }, data: r.map((p) => [p.at_ms, p.rejected_per_second]) },
      ],
    });
  }

  // 1200 -> '1.2k', 3000000 -> '3M': axis labels that fit.
  function compact(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
    if (a >= 1e3) return +(v / 1e3).toFixed(1) + 'k';
    return String(v);
  }

  function drawTop(id, title, list) {
    const items = list.slice().reverse();
    chart(id).setOption({
      animation: false,
      title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      grid: { left: 130, right: 50, top: 30, bottom: 44 },
      // A half-width panel holds few tick labels: three splits, compact numbers, overlaps hidden.
      xAxis: Object.assign({ type: 'value', name: 'alerting flows', nameGap: 28, minInterval: 1, splitNumber: 3,
        axisLabel: { hideOverlap: true, formatter: compact } }, axisName),
      yAxis: { type: 'category', data: items.map((t) => t.name), axisLabel: { fontSize: 11, width: 120, overflow: 'truncate' } },
      series: [{ type: 'bar', itemStyle: { color: '#4a5568' }, data: items.map((t) => t.count), label: { show: true, position: 'right', fontSize: 11 } }],
    });
  }

  // ---- totals and stats ---------------------------------------------------------------------------------------
  function onStats(stats) {
    let newClass = false;
    for (const [k, v] of Object.entries(stats.colors || {})) {
      if (!(k in state.colors)) { newClass = true; }
      state.colors[k] = v;
    }
    if (newClass) { fillClassFilter(); }
    const t = stats.totals;
    $('t-in').textContent = t ? num(t.flows_in) : '–';
    $('t-scored').textContent = t ? num(t.flows_scored) : '–';
    $('t-rejected').textContent = t ? num(t.flows_rejected) : '–';
    $('t-dropped').textContent = t ? num(t.flows_dropped) : '–';
    $('t-alertflows').textContent = num(stats.alert_flows_seen);
    $('t-alerts').textContent = num(stats.alerts_seen);
    $('t-sampled').textContent = num(stats.sampled_out);
    drawAlerts(stats);
    drawRates(stats);
    drawTop('chart-sources', 'Top sources', stats.top_sources);
    drawTop('chart-targets', 'Top targets', stats.top_targets);
  }

  function fillClassFilter() {
    const select = $('f-class');
    const current = select.value;
    while (select.options.length > 1) { select.remove(1); }
    for (const name of Object.keys(state.colors).sort()) {
      if (name === 'other') { continue; }
      const o = el('option', name);
      o.value = name;
      select.appendChild(o);
    }
    select.value = current;
  }

  // ---- alert table ----------------------------------------------------------------------------------------------
  function row(a, fresh) {
    const tr = el('tr');
    tr.dataset.id = String(a.id);
    tr.dataset.signature = a.signature;
    if (fresh) { tr.className = 'new'; }
    tr.appendChild(el('td', (a.timestamp || '').replace('T', ' ').replace(/\.\d+.*$/, '')));
    const cls = el('td');
    const sw = el('span', null, 'swatch');
    sw.style.backgroundColor = HEX.test(a.color) ? a.color : colorOf(a.signature);
    cls.appendChild(sw);
    cls.appendChild(el('span', a.signature, 'sig'));
    tr.appendChild(cls);
    tr.appendChild(el('td', endpoint(a.src_ip, a.src_port)));
    tr.appendChild(el('td', endpoint(a.dest_ip, a.dest_port)));
    tr.appendChild(el('td', a.proto));
    tr.appendChild(el('td', a.severity));
    tr.appendChild(el('td', typeof a.score === 'number' ? a.score.toFixed(3) : a.score));
    tr.appendChild(el('td', num(a.count)));
    tr.addEventListener('click', () => openDetail(a.id));
    return tr;
  }

  function addAlerts(list, fresh) {
    const body = $('alerts').tBodies[0];
    // list is oldest first: each goes on top.
    for (const a of list) {
      body.insertBefore(row(a, fresh), body.firstChild);
    }
    while (body.rows.length > MAX_ROWS) { body.deleteRow(body.rows.length - 1); }
    $('shown').textContent = body.rows.length + ' shown (newest first; at most ' + MAX_ROWS + ')';
  }

  async function reload() {
    if (state.source) { state.source.close(); state.source = null; }
    $('alerts').tBodies[0].replaceChildren();
    try {
      const r = await getJson('/api/alerts' + query() + (query() ? '&' : '?') + 'limit=' + MAX_ROWS);
      addAlerts(r.alerts.slice().reverse(), false);
    } catch (e) {
      setConnection(false, String(e.message || e));
    }
    connect();
  }

  function setConnection(on, text) {
    const c = $('connection');
    c.textContent = text;
    c.className = 'badge ' + (on ? 'conn-on' : 'conn-off');
  }

  function connect() {
    const es = new EventSource('/api/events' + query());
    state.source = es;
    es.addEventListener('open', () => setConnection(true, 'live'));
    es.addEventListener('error', () => setConnection(false, 'reconnecting'));
    es.addEventListener('stats', (e) => onStats(JSON.parse(e.data)));
    es.addEventListener('alerts', (e) => {
      const m = JSON.parse(e.data);
      addAlerts(m.alerts, true);
    });
  }

  // ---- detail ---------------------------------------------------------------------------------------------------
  function field(dl, k, v) {
    dl.appendChild(el('dt', k));
    dl.appendChild(el('dd', v === undefined || v === null || v === '' ? '–' : v));
  }

  async function openDetail(id) {
    let r;
    try {
      r = await getJson('/api/alerts/' + encodeURIComponent(id));
    } catch (e) {
      $('detail').hidden = false;
      $('d-id').textContent = String(id);
      $('d-fields').replaceChildren(el('dd', String(e.message || e)));
      return;
    }
    const a = r.alert;
    $('detail').hidden = false;
    $('d-id').textContent = '#' + a.id;
    const dl = $('d-fields');
    dl.replaceChildren();
    field(dl, 'class', a.signature);
    field(dl, 'family', a.category);
    field(dl, 'severity', a.severity);
    field(dl, 'score', typeof a.score === 'number' ? a.score.toFixed(6) : a.score);
    field(dl, 'flows', num(a.count));
    field(dl, 'source', endpoint(a.src_ip, a.src_port));
    field(dl, 'target', endpoint(a.dest_ip, a.dest_port));
    field(dl, 'protocol', a.proto);
    field(dl, 'emitted', a.timestamp);
    field(dl, 'first seen', a.first_seen);
    field(dl, 'last seen', a.last_seen);
    field(dl, 'flow id', a.flow_id);
    field(dl, 'source flow id', a.source_flow_id);
    field(dl, 'stream', a.stream + (a.line ? ' line ' + a.line : ''));
    field(dl, 'model sha256', a.model_sha256);

    const tb = $('d-explain').tBodies[0];
    tb.replaceChildren();
    for (const c of a.explanation) {
      const tr = el('tr');
      tr.appendChild(el('td', c.feature));
      tr.appendChild(el('td', c.value));
      tr.appendChild(el('td', typeof c.contribution === 'number' ? c.contribution.toFixed(4) : c.contribution));
      tb.appendChild(tr);
    }
    const items = a.explanation.slice().reverse();
    chart('chart-explain').setOption({
      animation: false,
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      grid: { left: 170, right: 30, top: 10, bottom: 44 },
      xAxis: Object.assign({ type: 'value', name: 'contribution to the class score (log-odds)', nameGap: 28 }, axisName),
      yAxis: { type: 'category', data: items.map((c) => c.feature), axisLabel: { fontSize: 11, width: 160, overflow: 'truncate' } },
      series: [{ type: 'bar', data: items.map((c) => ({ value: c.contribution, itemStyle: { color: c.contribution >= 0 ? (HEX.test(a.color) ? a.color : '#393b79') : '#9ca3af' } })) }],
    }, { replaceMerge: ['series'] });

    const p = $('d-ledger');
    const facts = $('d-ledger-facts');
    const box = $('d-record-box');
    p.replaceChildren();
    facts.replaceChildren();
    box.hidden = true;
    $('d-record').textContent = '';
    if (r.ledger && r.ledger.recorded && r.ledger.record) {
      const rec = r.ledger.record;
      const cls = rec.verification === 'verified' ? 'ledger-verified' : rec.verification === 'pending' ? 'ledger-pending' : 'ledger-failed';
      p.appendChild(el('span', rec.verification + (rec.check ? ' (' + rec.check + ')' : ''), cls));
      if (rec.detail) p.appendChild(el('span', ': ' + rec.detail));
      field(facts, 'ledger', r.ledger.description);
      field(facts, 'record id', rec.record_id);
      if (rec.index !== null && rec.index !== undefined) field(facts, 'record index', String(rec.index));
      field(facts, 'checkpoint', rec.checkpoint);
      if (rec.checkpoint_size !== null && rec.checkpoint_size !== undefined) field(facts, 'checkpoint size', String(rec.checkpoint_size));
      field(facts, 'signed at', rec.recorded_at);
      field(facts, 'signing key', rec.key_id);
      field(facts, 'sealed', rec.sealed ? 'yes: readable only by its recipients; verified without their keys' : 'no');
      if (rec.record) {
        let text = rec.record;
        try { text = JSON.stringify(JSON.parse(rec.record), null, 2); } catch (e) { /* shown as stored */ }
        $('d-record').textContent = text;
        box.hidden = false;
      }
    } else {
      p.appendChild(el('span', 'not recorded', 'ledger-none'));
      p.appendChild(el('span', ' (' + (r.ledger ? r.ledger.description : 'no ledger') + ')', 'muted'));
    }
    history.replaceState(null, '', '#alert=' + a.id);
    $('detail').scrollIntoView({ block: 'nearest' });
  }

  // ---- model card -----------------------------------------------------------------------------------------------
  async function loadModel() {
    let card;
    try {
      card = await getJson('/api/model');
    } catch (e) {
      $('model-body').textContent = 'no model card: ' + String(e.message || e);
      return;
    }
    if (!card.available) {
      $('model-body').textContent = 'no model card: ' + card.reason;
      return;
    }
    const m = card.manifest;
    const body = $('model-body');
    body.className = '';
    body.replaceChildren();
    const dl = el('dl');
    field(dl, 'artifact', card.source);
    field(dl, 'sha256', card.sha256);
    field(dl, 'signed', card.signed === null ? 'unknown' : card.signed ? 'yes' : 'no');
    field(dl, 'kind', m.model_kind);
    field(dl, 'created', m.created_utc);
    field(dl, 'stakeout version', m.stakeout_version);
    field(dl, 'label level', m.label_level);
    field(dl, 'classes', (m.classes || []).join(', '));
    field(dl, 'threshold', m.threshold + ' (' + m.threshold_source + ')');
    field(dl, 'features', (m.features || []).length);
    const tr = m.training || {};
    field(dl, 'training files', (tr.files || []).map((f) => f.path || f.name || JSON.stringify(f)).join(', '));
    field(dl, 'training rows', 'read ' + num(tr.rows_read) + ', duplicates removed ' + num(tr.duplicates_removed) + ', train ' + num(tr.train_rows) + ', test ' + num(tr.test_rows) + ' (' + tr.split + ', seed ' + tr.seed + ')');
    field(dl, 'class counts', Object.entries(tr.class_counts || {}).map(([k, v]) => k + ' ' + num(v)).join(', '));
    field(dl, 'test metrics', Object.entries(m.metrics || {}).map(([k, v]) => k + ' ' + (typeof v === 'number' ? v.toFixed(4) : v)).join(', '));
    field(dl, 'hyperparameters', Object.entries(m.hyperparameters || {}).map(([k, v]) => k + '=' + v).join(', '));
    field(dl, 'top features', Object.keys(m.feature_importance || {}).slice(0, 8).join(', '));
    field(dl, 'lineage', (m.lineage || []).map((l) => l.sha256.slice(0, 12) + ' ' + l.note).join('; ') || 'trained from scratch');
    body.appendChild(dl);
  }

  // ---- start ----------------------------------------------------------------------------------------------------
  async function start() {
    const info = await getJson('/api/info');
    $('mode').textContent = info.mode;
    $('title').textContent = info.title;
    for (const [k, v] of Object.entries(info.colors || {})) { state.colors[k] = v; }
    fillClassFilter();
    $('filters').addEventListener('submit', (e) => e.preventDefault());
    $('f-class').addEventListener('change', () => { state.filter.cls = $('f-class').value; reload(); });
    $('f-severity').addEventListener('change', () => { state.filter.severity = $('f-severity').value; reload(); });
    let timer = null;
    $('f-src').addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => { state.filter.src = $('f-src').value.trim(); reload(); }, 300);
    });
    $('d-close').addEventListener('click', () => { $('detail').hidden = true; history.replaceState(null, '', '#'); });
    window.addEventListener('resize', () => Object.values(state.charts).forEach((c) => c.resize()));
    onStats(await getJson('/api/stats'));
    loadModel();
    await reload();
    const m = /^#alert=(\d+)$/.exec(location.hash);
    if (m) { openDetail(Number(m[1])); }
  }

  start().catch((e) => setConnection(false, 'error: ' + String(e.message || e)));
})();
