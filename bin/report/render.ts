/**
 * Renders the report model as one self-contained HTML page (inline CSS, inline SVG charts, no
 * script, no external asset — it opens from an e-mail attachment or an audit archive), and as CSV
 * and JSON with the same data.
 */
import type { EvidenceSummary } from '../../shared/evidence-store';
import type { PassRatePoint, ReportModel, ResourceStats } from './model';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** HTML-escapes text and attribute values. */
export const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c] ?? c);

const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
/** A duration in minutes, in the unit that reads best: min below 2 h, h below 2 days, else days. */
export const fmtMin = (m: number | undefined) =>
  m === undefined
    ? '–'
    : m >= 2880
      ? `${(m / 1440).toFixed(1)} d`
      : m >= 120
        ? `${(m / 60).toFixed(1)} h`
        : `${Math.round(m)} min`;
/** The axis unit for values up to `max` minutes, and the factor from minutes to it. */
export function minuteUnit(max: number): { unit: 'min' | 'h' | 'd'; per: number } {
  return max >= 2880
    ? { unit: 'd', per: 1440 }
    : max >= 120
      ? { unit: 'h', per: 60 }
      : { unit: 'min', per: 1 };
}
const fmtHours = (h: number) => fmtMin(h * 60);
/** A measured value against its objective: red when missed, with the objective beside it. */
function judged(
  value: number | undefined,
  objective: number | undefined,
  met: boolean | null | undefined,
): string {
  const cls = met === false ? ' miss' : met === true ? ' met' : '';
  const goal =
    objective === undefined
      ? ''
      : ` <span class="note">/ ${fmtMin(objective)}${met === null ? ', not measured' : met === false ? ', missed' : ''}</span>`;
  return `<td class="num${cls}"${met === false ? ' title="objective missed"' : ''}>${fmtMin(value)}${goal}</td>`;
}
const shortArn = (arn: string) => arn.replace(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d*:/, '');
const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').slice(0, 16) : '–');

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#bf8700;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{padding:20px 32px;background:#24292f;color:#fff}header h1{margin:0 0 4px;font-size:22px}header p{margin:0;color:#c9d1d9}
main{padding:16px 32px 48px;max-width:1400px}section{margin:28px 0}h2{font-size:17px;margin:0 0 10px;border-bottom:1px solid var(--line);padding-bottom:6px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px;background:var(--bg)}
.tile b{display:block;font-size:22px}.tile span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile.bad b{color:var(--bad)}.tile.ok b{color:var(--ok)}
svg{display:block;max-width:100%;height:auto;font:11px system-ui,sans-serif}svg .axis{stroke:#8c959f;stroke-width:1}svg .grid{stroke:#eaeef2}
svg .ok{fill:var(--ok)}svg .bad{fill:var(--bad)}svg .warn{fill:var(--warn)}svg .bar{fill:#0969da}svg .maxbar{fill:#b6d4fe}
svg .rate{fill:none;stroke:#24292f;stroke-width:2}svg text{fill:#57606a}
.legend{display:flex;gap:16px;color:var(--muted);font-size:12px;margin:4px 0}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.note{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:var(--bg);position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.verdict-failed td,tr.verdict-timed_out td{background:#ffebe9}tr.verdict-timed_out td{background:#fff8c5}
.v{font-weight:600}.v-SUCCESSFUL{color:var(--ok)}.v-FAILED{color:var(--bad)}.v-TIMED_OUT{color:var(--warn)}.v-DEFERRED{color:var(--muted)}
.filter{margin:6px 0 10px}body:has(#only-failed:checked) #validations tbody tr.verdict-successful,body:has(#only-failed:checked) #validations tbody tr.verdict-deferred{display:none}
code{font-size:12px}td.t,td.id{white-space:nowrap}td.id a{font-family:ui-monospace,monospace;font-size:12px}
td.miss{background:#ffebe9 !important;color:var(--bad);font-weight:600}td.met{color:var(--ok)}tr.never td{background:#ffebe9}
.sha{display:block;font:10px ui-monospace,monospace;color:var(--muted);word-break:break-all;white-space:normal;max-width:17em}
td.checks{min-width:24em}td.num{white-space:nowrap}ul.checks{margin:0;padding:0;list-style:none}ul.checks li{margin:0 0 2px}ul.checks b{font-weight:600}
.c-fail b,.c-error b{color:var(--bad)}.c-pass b{color:var(--ok)}.c-skip b{color:var(--muted)}
svg .axis-title{fill:#24292f;font-weight:600}
@media print{th{position:static}.filter{display:none}}
`;

/**
 * Rounds an axis maximum up to a value whose four grid steps are whole round numbers
 * (4, 8, 20, 40, 60, 80, 100, 200, …), so tick labels never repeat after rounding.
 */
export function niceCeil(v: number): number {
  const target = Math.max(4, v);
  for (let k = 10 ** Math.floor(Math.log10(target)); ; k *= 10) {
    for (const m of [1, 2, 4, 6, 8, 10]) if (m * k >= target && (m * k) % 4 === 0) return m * k;
  }
}

/** Stacked bars (successful / failed / timed out per period) with the pass rate as a line. */
export function passRateChart(points: readonly PassRatePoint[], xTitle = 'day (UTC, MM-DD)'): string {
  const W = 960;
  const H = 276;
  const L = 44;
  const R = 44;
  const T = 28;
  const B = 34;
  const iw = W - L - R;
  const ih = H - T - B;
  const max = niceCeil(Math.max(1, ...points.map((p) => p.total)));
  const n = Math.max(1, points.length);
  const step = iw / n;
  const bw = Math.max(1, Math.min(28, step * 0.8));
  const out: string[] = [
    `<svg class="chart chart-pass-rate" viewBox="0 0 ${W} ${H}" role="img" aria-label="Pass rate over time"><title>Validations and pass rate per period</title>`,
  ];
  for (let g = 0; g <= 4; g++) {
    const y = T + ih - (ih * g) / 4;
    out.push(`<line class="grid" x1="${L}" x2="${L + iw}" y1="${y}" y2="${y}"/>`);
    out.push(`<text x="${L - 6}" y="${y + 4}" text-anchor="end">${Math.round((max * g) / 4)}</text>`);
    out.push(`<text x="${L + iw + 6}" y="${y + 4}">${g * 25}%</text>`);
  }
  out.push(
    `<text class="axis-title" x="4" y="${T - 12}">validations</text>`,
    `<text class="axis-title" x="${W - 4}" y="${T - 12}" text-anchor="end">pass rate %</text>`,
    `<text class="axis-title" x="${L + iw / 2}" y="${H - 1}" text-anchor="middle">${esc(xTitle)}</text>`,
  );
  const labelEvery = Math.ceil(n / 12);
  const line: string[] = [];
  points.forEach((p, i) => {
    const x = L + i * step + (step - bw) / 2;
    let y = T + ih;
    const seg = (count: number, cls: string) => {
      if (!count) return;
      const h = (count / max) * ih;
      y -= h;
      out.push(
        `<rect class="bar-${cls} ${cls}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}"/>`,
      );
    };
    out.push(
      `<g class="period"><title>${esc(p.period)}: ${p.total} validations, ${p.failed} failed, ${p.timedOut} timed out, pass rate ${pct(p.passRate)}</title>`,
    );
    seg(p.successful, 'ok');
    seg(p.failed, 'bad');
    seg(p.timedOut, 'warn');
    out.push('</g>');
    if (p.passRate !== null) line.push(`${(x + bw / 2).toFixed(1)},${(T + ih - p.passRate * ih).toFixed(1)}`);
    if (i % labelEvery === 0)
      out.push(
        `<text x="${(x + bw / 2).toFixed(1)}" y="${H - 16}" text-anchor="middle">${esc(p.period.slice(5))}</text>`,
      );
  });
  if (line.length > 1) out.push(`<polyline class="rate" points="${line.join(' ')}"/>`);
  out.push(`<line class="axis" x1="${L}" x2="${L + iw}" y1="${T + ih}" y2="${T + ih}"/></svg>`);
  return out.join('');
}

/**
 * Horizontal bars per resource: median (dark) with the maximum behind it (light). Values are minutes;
 * the axis shows minutes, hours or days, whichever fits the largest value, and every label has its unit.
 */
export function perResourceChart(
  cls: string,
  label: string,
  rows: readonly { name: string; median: number; max: number; last: number }[],
  axisTitle: string,
): string {
  const W = 960;
  const rowH = 18;
  const L = 300;
  const R = 80;
  const T = 8;
  const H = T + rows.length * rowH + 44;
  const iw = W - L - R;
  const { unit, per } = minuteUnit(Math.max(0, ...rows.map((r) => r.max)));
  const max = niceCeil(Math.max(1, ...rows.map((r) => r.max / per)));
  const num = (v: number) => `${Math.round((v / per) * 10) / 10} ${unit}`;
  const out: string[] = [
    `<svg class="chart ${cls}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>`,
  ];
  for (let g = 0; g <= 4; g++) {
    const x = L + (iw * g) / 4;
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${T}" y2="${H - 40}"/>`);
    out.push(`<text x="${x}" y="${H - 24}" text-anchor="middle">${Math.round((max * g) / 4)} ${unit}</text>`);
  }
  out.push(
    `<text class="axis-title" x="${L + iw / 2}" y="${H - 6}" text-anchor="middle">${esc(`${axisTitle} (${unit === 'min' ? 'minutes' : unit === 'h' ? 'hours' : 'days'})`)}</text>`,
  );
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    const name = r.name.length > 44 ? `…${r.name.slice(-43)}` : r.name;
    const w = (v: number) => ((v / per / max) * iw).toFixed(1);
    out.push(
      `<g class="resource"><title>${esc(r.name)}: median ${num(r.median)}, max ${num(r.max)}, last ${num(r.last)}</title>`,
    );
    out.push(`<text x="${L - 6}" y="${y + 13}" text-anchor="end">${esc(name)}</text>`);
    out.push(`<rect class="maxbar" x="${L}" y="${y + 3}" width="${w(r.max)}" height="${rowH - 6}"/>`);
    out.push(`<rect class="bar" x="${L}" y="${y + 3}" width="${w(r.median)}" height="${rowH - 6}"/>`);
    out.push(
      `<text class="value" x="${(L + (r.max / per / max) * iw + 4).toFixed(1)}" y="${y + 13}">${num(r.median)}</text></g>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}

const CHART_ROWS = 40;

/** Each check with its status and detail, failed first; the verdict message when there are none. */
function checkList(v: EvidenceSummary): string {
  const checks = v.checks;
  if (!checks?.length) return `<span class="note">${esc(v.message)}</span>`;
  let bad = '';
  let rest = '';
  for (const c of checks) {
    const li = `<li class="c-${c.status}"><b>${esc(c.id)}</b> ${c.status}: ${esc(c.detail)}</li>`;
    if (c.status === 'fail' || c.status === 'error') bad += li;
    else rest += li;
  }
  return `<ul class="checks">${bad}${rest}</ul>`;
}

/** Per resource, the newest successful validation, its age and the objectives: the auditor's first question. */
function* lastSuccessfulTable(model: ReportModel, options: RenderOptions): Generator<string> {
  yield `<section id="last-successful"><h2>Last successful validation per resource</h2>`;
  if (model.resources.length === 0) {
    yield `<p class="note">No validations in the evidence.</p></section>`;
    return;
  }
  yield `<table id="last-successful-table"><thead><tr><th>Resource</th><th>Type</th><th>Last successful (UTC)</th><th>Age</th><th>Restore / RTO objective</th><th>Data age / RPO objective</th><th>Evidence (SHA-256)</th></tr></thead><tbody>`;
  let chunk: string[] = [];
  for (const r of model.resources) {
    const ok = r.lastSuccessful;
    chunk.push(
      ok
        ? `<tr><td><code>${esc(r.resourceArn)}</code></td><td>${esc(r.resourceType)}</td><td class="t">${when(ok.finishedAt)}</td><td class="num age">${fmtHours(ok.ageHours)}</td>${judged(ok.restoreMinutes, ok.rtoObjectiveMinutes, ok.rtoMet)}${judged(ok.dataAgeMinutes, ok.rpoObjectiveMinutes, ok.rpoMet)}<td class="id"><a href="${esc(options.linkOf(ok))}">${esc(ok.restoreJobId)}</a>${ok.sha256 ? `<code class="sha">${ok.sha256}</code>` : ''}</td></tr>`
        : `<tr class="never"><td><code>${esc(r.resourceArn)}</code></td><td>${esc(r.resourceType)}</td><td colspan="5">none: ${r.validations} validation${r.validations === 1 ? '' : 's'}, last ${esc(r.lastVerdict)} at ${when(r.lastValidatedAt)}</td></tr>`,
    );
    if (chunk.length >= 1000) {
      yield chunk.join('');
      chunk = [];
    }
  }
  yield `${chunk.join('')}</tbody></table></section>`;
}

function resourceRows(
  resources: readonly ResourceStats[],
  pick: (r: ResourceStats) => ResourceStats['restoreMinutes'],
) {
  const rows = resources
    .map((r) => ({ r, s: pick(r) }))
    .filter(
      (x): x is { r: ResourceStats; s: NonNullable<ResourceStats['restoreMinutes']> } => x.s !== undefined,
    )
    .sort((a, b) => b.s.median - a.s.median);
  return {
    total: rows.length,
    rows: rows.slice(0, CHART_ROWS).map(({ r, s }) => ({ name: shortArn(r.resourceArn), ...s })),
  };
}

export interface RenderOptions {
  /** The href of a validation's full evidence record. */
  readonly linkOf: (v: Pick<EvidenceSummary, 'location'>) => string;
  readonly title?: string;
}

/** Renders the page, yielding it in chunks so 100,000 rows never form one giant string. */
export function* renderHtml(model: ReportModel, options: RenderOptions): Generator<string> {
  const s = model.summary;
  const title = options.title ?? 'Restore validation report';
  yield `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`;
  yield `<title>${esc(title)}</title><style>${CSS}</style></head><body>`;
  yield `<header><h1>${esc(title)}</h1><p>${esc(model.source)} · ${when(model.period.from)} – ${when(model.period.to)} UTC · generated ${when(model.generatedAt)} UTC</p></header><main>`;

  yield `<section id="summary"><h2>Summary</h2><div class="tiles">`;
  yield `<div class="tile"><span>Validations</span><b>${s.validations}</b></div>`;
  yield `<div class="tile ${s.passRate !== null && s.passRate < 1 ? 'bad' : 'ok'}"><span>Pass rate</span><b>${pct(s.passRate)}</b></div>`;
  yield `<div class="tile ${s.failed ? 'bad' : ''}"><span>Failed</span><b>${s.failed}</b></div>`;
  yield `<div class="tile ${s.timedOut ? 'bad' : ''}"><span>Timed out</span><b>${s.timedOut}</b></div>`;
  if (s.accounts > 1) yield `<div class="tile"><span>Accounts</span><b>${s.accounts}</b></div>`;
  yield `<div class="tile"><span>Resources tested</span><b>${s.resources}</b></div>`;
  yield s.untested === null
    ? `<div class="tile" id="tile-untested" title="no coverage report in the evidence"><span>Never tested</span><b>unknown</b></div>`
    : `<div class="tile ${s.untested ? 'bad' : ''}" id="tile-untested"><span>Never tested</span><b>${s.untested}</b></div>`;
  if (s.notEvaluated)
    yield `<div class="tile bad"><span>Selections not evaluated</span><b>${s.notEvaluated}</b></div>`;
  yield `<div class="tile ${s.objectivesMissed ? 'bad' : ''}" id="tile-objectives"><span>Objectives missed</span><b>${s.objectivesMissed}</b></div>`;
  yield `<div class="tile" id="tile-median-restore" title="over successful validations only"><span>Median restore (successful)</span><b>${fmtMin(s.medianRestoreMinutes)}</b></div>`;
  yield `<div class="tile" id="tile-median-age" title="over successful validations only"><span>Median data age (successful)</span><b>${fmtMin(s.medianDataAgeMinutes)}</b></div>`;
  yield `</div></section>`;

  yield `<section id="pass-rate"><h2>Pass rate over time (per ${model.bucket})</h2>`;
  yield `<div class="legend"><span><i class="ok" style="background:var(--ok)"></i>successful</span><span><i style="background:var(--bad)"></i>failed</span><span><i style="background:var(--warn)"></i>timed out</span><span><i style="background:#24292f;height:2px"></i>pass rate (right axis)</span></div>`;
  yield model.passRate.length
    ? passRateChart(
        model.passRate,
        model.bucket === 'week' ? 'week starting (UTC, MM-DD)' : 'day (UTC, MM-DD)',
      )
    : `<p class="note">No validations in the evidence.</p>`;
  yield `</section>`;

  yield* lastSuccessfulTable(model, options);

  const restore = resourceRows(model.resources, (r) => r.restoreMinutes);
  yield `<section id="restore-time"><h2>Restore time per resource (RTO evidence)</h2>`;
  yield `<div class="legend"><span><i style="background:#0969da"></i>median</span><span><i style="background:#b6d4fe"></i>maximum</span></div>`;
  yield restore.total
    ? perResourceChart('chart-restore-time', 'Restore time per resource', restore.rows, 'restore time')
    : `<p class="note">No restore durations recorded.</p>`;
  if (restore.total > CHART_ROWS)
    yield `<p class="note">The ${CHART_ROWS} slowest of ${restore.total} resources; all are in the table below and in the CSV/JSON.</p>`;
  yield `</section>`;

  const age = resourceRows(model.resources, (r) => r.dataAgeMinutes);
  yield `<section id="data-age"><h2>Data age at the recovery point per resource (RPO evidence)</h2>`;
  yield age.total
    ? perResourceChart('chart-data-age', 'Data age per resource', age.rows, 'data age at the recovery point')
    : `<p class="note">No freshness check measured data age.</p>`;
  if (age.total > CHART_ROWS)
    yield `<p class="note">The ${CHART_ROWS} stalest of ${age.total} resources.</p>`;
  yield `</section>`;

  yield `<section id="untested"><h2>Resources never tested</h2>`;
  if (model.coverageGeneratedAt === undefined) {
    yield `<p class="note" id="coverage-unknown">Unknown: no coverage report found in the evidence, so resources that were never tested cannot be counted. The reconciler writes one on every run (<code>coverage/…json</code>).</p>`;
  } else if (model.untested.length === 0) {
    yield `<p class="note">Every protected resource in the restore testing selections got a restore job (coverage report of ${when(model.coverageGeneratedAt)} UTC).</p>`;
  } else {
    yield `<p class="note">Coverage report of ${when(model.coverageGeneratedAt)} UTC.</p><table id="untested-table"><thead><tr><th>Resource</th><th>Type</th><th>Plan / selection</th><th>Reason</th></tr></thead><tbody>`;
    for (const u of model.untested) {
      yield `<tr><td><code>${esc(u.resourceArn)}</code></td><td>${esc(u.resourceType)}</td><td>${esc(u.restoreTestingPlanName)} / ${esc(u.restoreTestingSelectionName)}</td><td>${esc(u.reason)}</td></tr>`;
    }
    yield `</tbody></table>`;
  }
  if (model.notEvaluated.length) {
    yield `<h2 style="margin-top:18px">Selections that could not be evaluated</h2><p class="note">Their resources could not be listed (tag conditions, or an error): whether they were tested is unknown.</p><table id="not-evaluated-table"><thead><tr><th>Plan / selection</th></tr></thead><tbody>`;
    for (const n of model.notEvaluated) yield `<tr class="verdict-failed"><td>${esc(n)}</td></tr>`;
    yield `</tbody></table>`;
  }
  if (model.unwatched.length) {
    yield `<h2 style="margin-top:18px">Restore tests in regions without a validator</h2><table id="unwatched-table"><thead><tr><th>Region</th><th>Restore job</th><th>Type</th><th>Source resource</th><th>Status</th><th>Completed (UTC)</th></tr></thead><tbody>`;
    for (const u of model.unwatched) {
      yield `<tr class="verdict-failed"><td>${esc(u.region)}</td><td><code>${esc(u.restoreJobId)}</code></td><td>${esc(u.resourceType)}</td><td><code>${esc(u.sourceResourceArn ?? '–')}</code></td><td>${esc(u.status)}${u.validationStatus ? ` / ${esc(u.validationStatus)}` : ' / no verdict'}</td><td>${when(u.completedAt)}</td></tr>`;
    }
    yield `</tbody></table>`;
  }
  yield `</section>`;

  yield `<section><h2>Every validation (${model.validations.length}, newest first)</h2>`;
  yield `<label class="filter"><input type="checkbox" id="only-failed"> show only failed and timed-out validations</label>`;
  // An organization report names the account: S3 ARNs, for one, carry none.
  const byAccount = s.accounts > 1;
  yield `<table id="validations"><thead><tr><th>Finished (UTC)</th>${byAccount ? '<th>Account</th>' : ''}<th>Type</th><th>Source resource</th><th>Plan</th><th>Verdict</th><th>Restore / RTO</th><th>Data age / RPO</th><th>Checks</th><th>Evidence (SHA-256)</th></tr></thead><tbody>`;
  let chunk: string[] = [];
  for (const v of model.validations) {
    chunk.push(
      `<tr class="verdict-${v.verdict.toLowerCase()}"><td class="t">${when(v.finishedAt)}</td>${byAccount ? `<td class="id">${esc(v.accountId ?? '–')}</td>` : ''}<td>${esc(v.resourceType)}</td><td><code>${esc(shortArn(v.sourceResourceArn ?? '–'))}</code></td><td>${esc(v.restoreTestingPlanName ?? '–')}</td><td class="v v-${v.verdict}">${v.verdict}</td>${judged(v.restoreDurationSeconds === undefined ? undefined : v.restoreDurationSeconds / 60, v.rtoObjectiveMinutes, v.rtoMet)}${judged(v.dataAgeMinutes, v.rpoObjectiveMinutes, v.rpoMet)}<td class="checks">${checkList(v)}</td><td class="id"><a href="${esc(options.linkOf(v))}">${esc(v.restoreJobId)}</a>${v.sha256 ? `<code class="sha">${v.sha256}</code>` : ''}</td></tr>`,
    );
    if (chunk.length >= 500) {
      yield chunk.join('');
      chunk = [];
    }
  }
  if (chunk.length) yield chunk.join('');
  yield `</tbody></table></section></main></body></html>\n`;
}

const CSV_COLUMNS = [
  'finishedAt',
  'restoreJobId',
  'resourceType',
  'sourceResourceArn',
  'createdResourceArn',
  'restoreTestingPlanName',
  'accountId',
  'region',
  'verdict',
  'recoveryPointCreationDate',
  'restoreStartedAt',
  'restoreCompletedAt',
  'restoreDurationSeconds',
  'dataAgeMinutes',
  'validationDurationMs',
  'rtoObjectiveMinutes',
  'rtoMet',
  'rpoObjectiveMinutes',
  'rpoMet',
  'checkCount',
  'failedChecks',
  'checks',
  'reported',
  'mode',
  'codeVersion',
  'message',
  'evidence',
  'sha256',
] as const;

/**
 * One CSV cell. Text that a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or
 * carriage return) gets a leading `'`, and any cell with a quote, comma or line break is quoted.
 * @see https://owasp.org/www-community/attacks/CSV_Injection
 */
export const csvCell = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  const text = Array.isArray(v) ? v.join(' ') : String(v);
  const s =
    typeof v === 'number' || typeof v === 'boolean' ? text : /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const checksCell = (v: EvidenceSummary) =>
  (v.checks ?? []).map((c) => `${c.id} ${c.status}: ${c.detail}`).join(' | ');

/**
 * CSV: one line per validation, then one line per never-tested resource (verdict `NOT_TESTED`,
 * the reason as message) and per selection that could not be evaluated (`NOT_EVALUATED`), so a
 * spreadsheet holds the whole audit answer.
 */
export function* renderCsv(model: ReportModel, options: RenderOptions): Generator<string> {
  yield `${CSV_COLUMNS.join(',')}\n`;
  let chunk: string[] = [];
  for (const v of model.validations) {
    const row = v as unknown as Record<string, unknown>;
    chunk.push(
      CSV_COLUMNS.map((c) =>
        csvCell(c === 'evidence' ? options.linkOf(v) : c === 'checks' ? checksCell(v) : row[c]),
      ).join(','),
    );
    if (chunk.length >= 1000) {
      yield `${chunk.join('\n')}\n`;
      chunk = [];
    }
  }
  for (const u of model.untested) {
    const row: Record<string, unknown> = {
      finishedAt: model.coverageGeneratedAt,
      resourceType: u.resourceType,
      sourceResourceArn: u.resourceArn,
      restoreTestingPlanName: u.restoreTestingPlanName,
      verdict: 'NOT_TESTED',
      message: u.reason,
    };
    chunk.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  }
  for (const n of model.notEvaluated) {
    const row: Record<string, unknown> = {
      finishedAt: model.coverageGeneratedAt,
      restoreTestingPlanName: n.split('/')[0],
      verdict: 'NOT_EVALUATED',
      message: `selection ${n}: its resources could not be listed, whether they were tested is unknown`,
    };
    chunk.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  }
  if (chunk.length) yield `${chunk.join('\n')}\n`;
}

/** JSON: the whole model (summary, series, per-resource stats, untested, every validation with its link). */
export function* renderJson(model: ReportModel, options: RenderOptions): Generator<string> {
  const { validations, ...rest } = model;
  const head = JSON.stringify(rest, null, 2);
  yield `${head.slice(0, -2)},\n  "validations": [\n`;
  let first = true;
  let chunk: string[] = [];
  for (const v of validations) {
    chunk.push(`${first ? '' : ',\n'}    ${JSON.stringify({ ...v, evidence: options.linkOf(v) })}`);
    first = false;
    if (chunk.length >= 5000) {
      yield chunk.join('');
      chunk = [];
    }
  }
  yield `${chunk.join('')}\n  ]\n}\n`;
}
