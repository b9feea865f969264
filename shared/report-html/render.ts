/**
 * Renders the report model as one self-contained HTML page (inline CSS, inline SVG charts, no
 * script, no external asset — it opens from an e-mail attachment or an audit archive), and as CSV
 * and JSON with the same data.
 */
import type { EvidenceSummary } from '../evidence-store';
import type { PassRatePoint, ReportModel, ResourceStats } from './model';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** HTML-escapes text and attribute values. */
export const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c] ?? c);

const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
const fmtMin = (m: number | undefined) =>
  m === undefined ? '–' : m >= 120 ? `${(m / 60).toFixed(1)} h` : `${Math.round(m)} min`;
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
export function passRateChart(points: readonly PassRatePoint[]): string {
  const W = 960;
  const H = 260;
  const L = 44;
  const R = 44;
  const T = 12;
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
        `<text x="${(x + bw / 2).toFixed(1)}" y="${H - 12}" text-anchor="middle">${esc(p.period.slice(5))}</text>`,
      );
  });
  if (line.length > 1) out.push(`<polyline class="rate" points="${line.join(' ')}"/>`);
  out.push(`<line class="axis" x1="${L}" x2="${L + iw}" y1="${T + ih}" y2="${T + ih}"/></svg>`);
  return out.join('');
}

/** Horizontal bars per resource: median (dark) with the maximum behind it (light). */
export function perResourceChart(
  cls: string,
  label: string,
  rows: readonly { name: string; median: number; max: number; last: number }[],
  unit: string,
): string {
  const W = 960;
  const rowH = 18;
  const L = 300;
  const R = 80;
  const T = 8;
  const H = T + rows.length * rowH + 28;
  const iw = W - L - R;
  const max = niceCeil(Math.max(1, ...rows.map((r) => r.max)));
  const out: string[] = [
    `<svg class="chart ${cls}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>`,
  ];
  for (let g = 0; g <= 4; g++) {
    const x = L + (iw * g) / 4;
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${T}" y2="${H - 24}"/>`);
    out.push(
      `<text x="${x}" y="${H - 8}" text-anchor="middle">${Math.round((max * g) / 4)} ${esc(unit)}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    const name = r.name.length > 44 ? `…${r.name.slice(-43)}` : r.name;
    out.push(
      `<g class="resource"><title>${esc(r.name)}: median ${r.median}, max ${r.max}, last ${r.last} ${esc(unit)}</title>`,
    );
    out.push(`<text x="${L - 6}" y="${y + 13}" text-anchor="end">${esc(name)}</text>`);
    out.push(
      `<rect class="maxbar" x="${L}" y="${y + 3}" width="${((r.max / max) * iw).toFixed(1)}" height="${rowH - 6}"/>`,
    );
    out.push(
      `<rect class="bar" x="${L}" y="${y + 3}" width="${((r.median / max) * iw).toFixed(1)}" height="${rowH - 6}"/>`,
    );
    out.push(`<text x="${(L + (r.max / max) * iw + 4).toFixed(1)}" y="${y + 13}">${r.median}</text></g>`);
  });
  out.push('</svg>');
  return out.join('');
}

const CHART_ROWS = 40;

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
  readonly linkOf: (v: EvidenceSummary) => string;
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
  yield `<div class="tile ${s.untested ? 'bad' : ''}"><span>Never tested</span><b>${s.untested}</b></div>`;
  yield `<div class="tile"><span>Median restore</span><b>${fmtMin(s.medianRestoreMinutes)}</b></div>`;
  yield `<div class="tile"><span>Median data age</span><b>${fmtMin(s.medianDataAgeMinutes)}</b></div>`;
  yield `</div></section>`;

  yield `<section id="pass-rate"><h2>Pass rate over time (per ${model.bucket})</h2>`;
  yield `<div class="legend"><span><i class="ok" style="background:var(--ok)"></i>successful</span><span><i style="background:var(--bad)"></i>failed</span><span><i style="background:var(--warn)"></i>timed out</span><span><i style="background:#24292f;height:2px"></i>pass rate (right axis)</span></div>`;
  yield model.passRate.length
    ? passRateChart(model.passRate)
    : `<p class="note">No validations in the evidence.</p>`;
  yield `</section>`;

  const restore = resourceRows(model.resources, (r) => r.restoreMinutes);
  yield `<section id="restore-time"><h2>Restore time per resource (RTO evidence, minutes)</h2>`;
  yield `<div class="legend"><span><i style="background:#0969da"></i>median</span><span><i style="background:#b6d4fe"></i>maximum</span></div>`;
  yield restore.total
    ? perResourceChart('chart-restore-time', 'Restore time per resource', restore.rows, 'min')
    : `<p class="note">No restore durations recorded.</p>`;
  if (restore.total > CHART_ROWS)
    yield `<p class="note">The ${CHART_ROWS} slowest of ${restore.total} resources; all are in the table below and in the CSV/JSON.</p>`;
  yield `</section>`;

  const age = resourceRows(model.resources, (r) => r.dataAgeMinutes);
  yield `<section id="data-age"><h2>Data age at the recovery point per resource (RPO evidence, minutes)</h2>`;
  yield age.total
    ? perResourceChart('chart-data-age', 'Data age per resource', age.rows, 'min')
    : `<p class="note">No freshness check measured data age.</p>`;
  if (age.total > CHART_ROWS)
    yield `<p class="note">The ${CHART_ROWS} stalest of ${age.total} resources.</p>`;
  yield `</section>`;

  yield `<section id="untested"><h2>Resources never tested</h2>`;
  if (model.coverageGeneratedAt === undefined) {
    yield `<p class="note">No coverage report found in the evidence. The reconciler writes one on every run (<code>coverage/…json</code>).</p>`;
  } else if (model.untested.length === 0) {
    yield `<p class="note">Every protected resource in the restore testing selections got a restore job (coverage report of ${when(model.coverageGeneratedAt)} UTC).</p>`;
  } else {
    yield `<p class="note">Coverage report of ${when(model.coverageGeneratedAt)} UTC.</p><table id="untested-table"><thead><tr><th>Resource</th><th>Type</th><th>Plan / selection</th><th>Reason</th></tr></thead><tbody>`;
    for (const u of model.untested) {
      yield `<tr><td><code>${esc(u.resourceArn)}</code></td><td>${esc(u.resourceType)}</td><td>${esc(u.restoreTestingPlanName)} / ${esc(u.restoreTestingSelectionName)}</td><td>${esc(u.reason)}</td></tr>`;
    }
    yield `</tbody></table>`;
  }
  if (model.unwatched.length) {
    yield `<h2 style="margin-top:18px">Restore tests in regions without a validator</h2><table id="unwatched-table"><thead><tr><th>Region</th><th>Restore job</th><th>Type</th><th>Source resource</th><th>Status</th><th>Completed (UTC)</th></tr></thead><tbody>`;
    for (const u of model.unwatched) {
      yield `<tr class="verdict-failed"><td>${esc(u.region)}</td><td><code>${esc(u.restoreJobId)}</code></td><td>${esc(u.resourceType)}</td><td><code>${esc(u.sourceResourceArn ?? '–')}</code></td><td>${esc(u.status)}${u.validationStatus ? ` / ${esc(u.validationStatus)}` : ' / no verdict'}</td><td>${when(u.completedAt)}</td></tr>`;
    }
    yield `</tbody></table>`;
  }
  const neverPassed = model.resources.filter((r) => r.successful === 0);
  if (neverPassed.length) {
    yield `<h2 style="margin-top:18px">Resources with no successful validation</h2><table id="never-passed"><thead><tr><th>Resource</th><th>Type</th><th>Validations</th><th>Last verdict</th></tr></thead><tbody>`;
    for (const r of neverPassed) {
      yield `<tr><td><code>${esc(r.resourceArn)}</code></td><td>${esc(r.resourceType)}</td><td class="num">${r.validations}</td><td class="v v-${esc(r.lastVerdict)}">${esc(r.lastVerdict)}</td></tr>`;
    }
    yield `</tbody></table>`;
  }
  yield `</section>`;

  yield `<section><h2>Every validation (${model.validations.length}, newest first)</h2>`;
  yield `<label class="filter"><input type="checkbox" id="only-failed"> show only failed and timed-out validations</label>`;
  // An organization report names the account: S3 ARNs, for one, carry none.
  const byAccount = s.accounts > 1;
  yield `<table id="validations"><thead><tr><th>Finished (UTC)</th>${byAccount ? '<th>Account</th>' : ''}<th>Type</th><th>Source resource</th><th>Plan</th><th>Verdict</th><th>Restore</th><th>Data age</th><th>Checks</th><th>Message</th><th>Evidence</th></tr></thead><tbody>`;
  let chunk: string[] = [];
  for (const v of model.validations) {
    const failedChecks = v.failedChecks.length
      ? ` <span class="note">(${esc(v.failedChecks.join(', '))})</span>`
      : '';
    chunk.push(
      `<tr class="verdict-${v.verdict.toLowerCase()}"><td class="t">${when(v.finishedAt)}</td>${byAccount ? `<td class="id">${esc(v.accountId ?? '–')}</td>` : ''}<td>${esc(v.resourceType)}</td><td><code>${esc(shortArn(v.sourceResourceArn ?? '–'))}</code></td><td>${esc(v.restoreTestingPlanName ?? '–')}</td><td class="v v-${v.verdict}">${v.verdict}</td><td class="num">${fmtMin(v.restoreDurationSeconds === undefined ? undefined : v.restoreDurationSeconds / 60)}</td><td class="num">${fmtMin(v.dataAgeMinutes)}</td><td class="num">${v.checkCount}${failedChecks}</td><td>${esc(v.message.length > 240 ? `${v.message.slice(0, 239)}…` : v.message)}</td><td class="id"><a href="${esc(options.linkOf(v))}">${esc(v.restoreJobId)}</a></td></tr>`,
    );
    if (chunk.length >= 2000) {
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
  'checkCount',
  'failedChecks',
  'reported',
  'mode',
  'codeVersion',
  'message',
  'evidence',
] as const;

const csvCell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * CSV: one line per validation, then one line per never-tested resource (verdict `NOT_TESTED`,
 * the reason as message) so a spreadsheet holds the whole audit answer.
 */
export function* renderCsv(model: ReportModel, options: RenderOptions): Generator<string> {
  yield `${CSV_COLUMNS.join(',')}\n`;
  let chunk: string[] = [];
  for (const v of model.validations) {
    const row = v as unknown as Record<string, unknown>;
    chunk.push(CSV_COLUMNS.map((c) => csvCell(c === 'evidence' ? options.linkOf(v) : row[c])).join(','));
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
