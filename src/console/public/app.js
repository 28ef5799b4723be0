import { api, download, query, signedIn, signIn, signOut } from './api.js';
import { chart, color, destroyCharts } from './charts.js';
import { h, table } from './dom.js';
import { currentLanguage, formatCount, formatDong, formatInstant, formatLocalDate, formatShare, localToday, setLanguage, t } from './i18n.js';

/** Who is signed in and the network they work on, loaded once per sign-in. */
const session = { me: null, operators: [], lines: [] };
/** A message for the next page shown (after closing a day, disabling a device). */
let flash = null;
const main = document.getElementById('main');
/** Replaces the page's content; absent parts (null) are left out rather than shown as text. */
const show = (...parts) => main.replaceChildren(...parts.filter((part) => part !== null && part !== undefined));

function currentRoute() {
  const [path, search] = window.location.hash.slice(1).split('?');
  return { path: path || '/day', params: new URLSearchParams(search || '') };
}

function go(path, params) {
  window.location.hash = `${path}?${query(params)}`;
}

const isAdmin = () => session.me !== null && session.me.role === 'admin';

/** The operator a page shows: staff default to their own, admins to the whole scheme (no operatorId). */
function operatorOf(params) {
  const asked = params.get('operator');
  if (asked !== null) return asked;
  return isAdmin() ? '' : session.me.operatorId;
}

const operatorName = (id) => {
  const operator = session.operators.find((candidate) => candidate.id === id);
  return operator ? operator.shortName : id;
};
const lineName = (id) => {
  const line = session.lines.find((candidate) => candidate.id === id);
  return line ? line.name : id;
};
const operatorModes = (id) => [...new Set(session.lines.filter((line) => line.operatorId === id).map((line) => line.mode))].sort();
const modeLabel = (modes) => (modes.length === 0 ? '—' : modes.map((mode) => t(`modes.${mode}`)).join(' + '));

/** An amount in đồng that tests and screen readers can find by name, with the API's integer beside the text. */
const money = (name, amount) => h('span', { class: 'figure', 'data-figure': name, 'data-value': amount }, formatDong(amount));
const count = (name, value) => h('span', { class: 'figure', 'data-figure': name, 'data-value': value }, formatCount(value));
const sum = (rows, pick) => rows.reduce((total, row) => total + pick(row), 0);

function announce(message) {
  document.getElementById('status').textContent = message;
}

function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

function renderChrome() {
  document.title = t('appName');
  document.getElementById('app-name').textContent = t('appName');
  document.getElementById('skip-link').textContent = t('skipToContent');
  document.getElementById('confirm-ok').textContent = t('confirm');
  document.getElementById('confirm-cancel').textContent = t('cancel');
  const language = document.getElementById('language');
  language.textContent = t('switchLanguage');
  language.setAttribute('aria-label', t('switchLanguageLabel'));
  language.setAttribute('lang', currentLanguage() === 'vi' ? 'en' : 'vi');
  const out = document.getElementById('sign-out');
  out.textContent = t('signOut');
  out.hidden = session.me === null;
  const role = session.me === null ? '' : isAdmin() ? t('roleAdmin') : t('roleOperator', { operator: operatorName(session.me.operatorId) });
  document.getElementById('who').textContent = session.me === null ? '' : t('signedInAs', { name: session.me.fullName, role });
}

function renderNav(path, params) {
  const nav = document.getElementById('nav');
  nav.hidden = session.me === null;
  nav.setAttribute('aria-label', t('nav'));
  const keep = { date: params.get('date') || undefined, operator: params.get('operator') || undefined };
  const items = [
    ['/day', t('navDay')],
    ['/trend', t('navTrend')],
    ['/devices', t('navDevices')],
    ...(isAdmin() ? [['/denylist', t('navDenylist')]] : []),
  ];
  nav.replaceChildren(
    h('ul', {}, items.map(([target, label]) => h('li', {}, h('a', { href: `#${target}?${query(keep)}`, 'aria-current': target === path ? 'page' : undefined }, label)))),
  );
}

function renderLogin(problem) {
  document.getElementById('nav').hidden = true;
  const email = h('input', { type: 'email', name: 'email', id: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', id: 'password', autocomplete: 'current-password', required: true });
  const form = h(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        signIn(email.value, password.value).then(
          () => render(),
          (error) => renderLogin(error.message),
        );
      },
    },
    h('label', { for: 'email' }, t('email'), email),
    h('label', { for: 'password' }, t('password'), password),
    h('button', { type: 'submit' }, t('signIn')),
  );
  show(
    h('section', { class: 'login card', 'aria-labelledby': 'page-title' }, h('h2', { id: 'page-title', tabindex: '-1' }, t('signInTitle')), problem ? h('p', { class: 'alert', role: 'alert' }, problem) : null, form),
  );
  email.focus();
}

/** The date and operator a page is about, and the button that shows them. */
function scopeForm(path, date, operatorId, dateLabel = t('date')) {
  const dateInput = h('input', { type: 'date', id: 'scope-date', name: 'date', value: date, required: true });
  const choices = isAdmin() ? [['', t('wholeScheme')], ...session.operators.map((operator) => [operator.id, operator.shortName])] : [[session.me.operatorId, operatorName(session.me.operatorId)]];
  const select = h('select', { id: 'scope-operator', name: 'operator', disabled: !isAdmin() }, choices.map(([id, name]) => h('option', { value: id, selected: id === operatorId }, name)));
  return h(
    'form',
    {
      class: 'toolbar',
      onsubmit: (event) => {
        event.preventDefault();
        go(path, { date: dateInput.value, operator: isAdmin() ? select.value : undefined });
      },
    },
    h('label', { for: 'scope-date' }, dateLabel, dateInput),
    h('label', { for: 'scope-operator' }, t('operator'), select),
    h('button', { type: 'submit' }, t('show')),
  );
}

function card(title, id, ...children) {
  return h('section', { class: 'card', 'aria-labelledby': id, id: `${id}-card` }, h('h3', { id }, title), ...children);
}

function chartBox(label, config) {
  const box = h('div', { class: 'chart' });
  chart(box, label, config, currentLanguage() === 'en' ? 'en-GB' : 'vi-VN');
  return box;
}

const dataDetails = (content) => h('details', {}, h('summary', {}, t('showData')), content);

async function dayPage(params) {
  const date = params.get('date') || localToday();
  const operatorId = operatorOf(params);
  const scope = query({ date, operatorId });
  const [statement, taps] = await Promise.all([api(`/v1/settlements/daily?${scope}`), api(`/v1/reports/taps?${scope}`)]);
  const suffix = operatorId ? `-${operatorId}` : '';

  const status =
    statement.status === 'closed'
      ? h('span', { class: 'badge closed', id: 'day-status', 'data-status': 'closed' }, t('statusClosed', { at: formatInstant(statement.closedAt) }))
      : h('span', { class: 'badge', id: 'day-status', 'data-status': 'open' }, t('statusOpen'));
  const closeButton =
    isAdmin() && statement.status === 'open'
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            id: 'close-day',
            onclick: async () => {
              if (!(await confirmAction(t('closeDayConfirm', { date: formatLocalDate(date) })))) return;
              await api(`/v1/settlements/daily/${date}/close`, { method: 'POST' });
              flash = t('dayClosed', { date: formatLocalDate(date) });
              await render();
            },
          },
          t('closeDay'),
        )
      : null;
  const downloads = h(
    'div',
    { class: 'toolbar', role: 'group', 'aria-label': t('downloads') },
    h('button', { type: 'button', class: 'secondary', id: 'download-csv', onclick: () => download(`/v1/settlements/daily.csv?${scope}`, `statement-${date}${suffix}.csv`) }, t('downloadCsv')),
    h('button', { type: 'button', class: 'secondary', id: 'download-tides-csv', onclick: () => download(`/v1/fare-transactions?${query({ date, operatorId, format: 'csv' })}`, `fare_transactions-${date}${suffix}.csv`) }, t('downloadTidesCsv')),
    h('button', { type: 'button', class: 'secondary', id: 'download-tides-json', onclick: () => download(`/v1/fare-transactions?${query({ date, operatorId, format: 'json' })}`, `fare_transactions-${date}${suffix}.json`) }, t('downloadTidesJson')),
  );

  const { check } = statement;
  // Both sides of the check, each summed under its terms, so the reader sees the two totals agree.
  const term = (sign, label, name, amount) => h('div', { class: 'term' }, h('span', { class: 'sign', 'aria-hidden': 'true' }, sign), h('span', { class: 'label' }, label), money(name, amount));
  const side = (title, terms, total) => h('div', { class: 'side', role: 'group', 'aria-label': title }, ...terms, h('div', { class: 'term total' }, h('span', { class: 'sign', 'aria-hidden': 'true' }, '='), h('span', { class: 'label' }, t('total')), h('span', {}, formatDong(total))));
  const checkCard = card(
    t('check'),
    'check-title',
    h(
      'div',
      { class: 'check' },
      side(`${t('checkRevenue')} + ${t('checkAdjustments')}`, [term('', t('checkRevenue'), 'check.revenue', check.revenue), term('+', t('checkAdjustments'), 'check.adjustments', check.adjustments)], check.revenue + check.adjustments),
      h('div', { class: 'equals', 'aria-hidden': 'true' }, check.balanced ? '=' : '≠'),
      side(`${t('checkAllocated')} + ${t('checkUnallocated')}`, [term('', t('checkAllocated'), 'check.allocated', check.allocated), term('+', t('checkUnallocated'), 'check.unallocated', check.unallocated)], check.allocated + check.unallocated),
    ),
    h('p', { class: check.balanced ? 'verdict good' : 'verdict bad', 'data-figure': 'check.balanced', 'data-value': String(check.balanced) }, check.balanced ? `✓ ${t('balanced')}` : `✗ ${t('notBalanced')}`),
    statement.operatorId ? h('p', { class: 'muted' }, t('checkScope')) : null,
  );

  // The scheme's revenue; cut for an operator, what that operator is allocated of it (its adjustments aside).
  const own = statement.operatorId ? statement.operators.find((row) => row.operatorId === statement.operatorId) : undefined;
  const kinds = own
    ? [
        ['singleTickets', t('singleTickets'), own.singleTickets],
        ['passDayParts', t('passDayParts'), own.passes + own.passAllocation],
        ['payAsYouGo', t('payAsYouGo'), own.payAsYouGo],
      ]
    : [
        ['singleTickets', t('singleTickets'), statement.revenue.singleTickets],
        ['passDayParts', t('passDayParts'), statement.revenue.passDayParts],
        ['payAsYouGo', t('payAsYouGo'), statement.revenue.payAsYouGo],
      ];
  const kindsTotal = own ? own.total - own.adjustments : statement.revenue.total;
  const kindCard = card(
    t('revenueByKind'),
    'kind-title',
    chartBox(`${t('revenueByKind')}: ${kinds.map(([, label, amount]) => `${label} ${formatDong(amount)}`).join(', ')}`, {
      type: 'doughnut',
      data: { labels: kinds.map(([, label]) => label), datasets: [{ data: kinds.map(([, , amount]) => amount), backgroundColor: kinds.map((_, index) => color(index)) }] },
    }),
    table(t('revenueByKind'), [{ label: t('kind') }, { label: t('revenue'), numeric: true }], kinds.map(([name, label, amount]) => [label, money(`revenue.${name}`, amount)]), [t('total'), money('revenue.total', kindsTotal)]),
  );

  const operators = statement.operators;
  const byMode = new Map();
  for (const row of operators) {
    const label = modeLabel(operatorModes(row.operatorId));
    byMode.set(label, (byMode.get(label) || 0) + row.total);
  }
  const modeCard = card(
    t('revenueByMode'),
    'mode-title',
    chartBox(`${t('revenueByMode')}: ${[...byMode].map(([label, amount]) => `${label} ${formatDong(amount)}`).join(', ')}`, {
      type: 'bar',
      data: { labels: [...byMode.keys()], datasets: [{ label: t('allocated'), data: [...byMode.values()], backgroundColor: color(0) }] },
      options: { plugins: { legend: { display: false } } },
    }),
    table(
      t('allocatedByOperator'),
      [{ label: t('operator') }, { label: t('mode') }, { label: t('singleTickets'), numeric: true }, { label: t('passDayParts'), numeric: true }, { label: t('payAsYouGo'), numeric: true }, { label: t('checkAdjustments'), numeric: true }, { label: t('total'), numeric: true }],
      operators.map((row) => [operatorName(row.operatorId), modeLabel(operatorModes(row.operatorId)), formatDong(row.singleTickets), formatDong(row.passes + row.passAllocation), formatDong(row.payAsYouGo), formatDong(row.adjustments), money(`operator.${row.operatorId}.total`, row.total)]),
      [t('total'), '', '', '', '', '', money('operators.total', sum(operators, (row) => row.total))],
    ),
  );

  modeCard.classList.add('wide');
  checkCard.classList.add('wide');

  const byKey = new Map();
  for (const pool of statement.passAllocation) {
    const known = byKey.get(pool.appliedKey) || { amount: 0, passes: 0 };
    const amount = statement.operatorId ? sum(pool.operators, (row) => row.amount) : pool.amount;
    byKey.set(pool.appliedKey, { amount: known.amount + amount, passes: known.passes + pool.passesUsed });
  }
  const keyCard = card(
    t('byAllocationKey'),
    'key-title',
    chartBox(`${t('byAllocationKey')}: ${[...byKey].map(([key, row]) => `${t(`keys.${key}`)} ${formatDong(row.amount)}`).join(', ') || t('none')}`, {
      type: 'bar',
      data: { labels: [...byKey.keys()].map((key) => t(`keys.${key}`)), datasets: [{ label: t('revenue'), data: [...byKey.values()].map((row) => row.amount), backgroundColor: color(2) }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } } },
    }),
    table(t('byAllocationKey'), [{ label: t('allocationKey') }, { label: t('passesUsed'), numeric: true }, { label: t('revenue'), numeric: true }], [...byKey].map(([key, row]) => [t(`keys.${key}`), formatCount(row.passes), money(`key.${key}`, row.amount)])),
    h('p', { class: 'muted' }, t('unallocatedNote', { amount: formatDong(statement.unallocated.total) })),
  );

  const hourCard = h(
    'section',
    { class: 'card wide', 'aria-labelledby': 'hour-title', id: 'hour-title-card' },
    h('h3', { id: 'hour-title' }, t('tapsByHour')),
    chartBox(`${t('tapsByHour')}: ${t('accepted')} ${formatCount(sum(taps.byHour, (row) => row.accepted))}, ${t('rejected')} ${formatCount(sum(taps.byHour, (row) => row.rejected))}`, {
      type: 'bar',
      data: {
        labels: taps.byHour.map((row) => `${String(row.hour).padStart(2, '0')}h`),
        datasets: [
          { label: t('accepted'), data: taps.byHour.map((row) => row.accepted), backgroundColor: color(0) },
          { label: t('rejected'), data: taps.byHour.map((row) => row.rejected), backgroundColor: color(3) },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    dataDetails(
      table(
        t('tapsByHour'),
        [{ label: t('hour') }, { label: t('accepted'), numeric: true }, { label: t('rejected'), numeric: true }],
        taps.byHour.map((row) => [`${String(row.hour).padStart(2, '0')}:00`, count(`taps.hour.${row.hour}.accepted`, row.accepted), count(`taps.hour.${row.hour}.rejected`, row.rejected)]),
        [t('total'), count('taps.accepted', sum(taps.byHour, (row) => row.accepted)), count('taps.rejected', sum(taps.byHour, (row) => row.rejected))],
      ),
    ),
  );

  const lines = [...new Set(taps.byStation.map((row) => row.lineId))];
  const stationCards = lines.map((lineId, index) => {
    const stations = taps.byStation.filter((row) => row.lineId === lineId);
    return h(
      'section',
      { class: 'card wide', 'aria-labelledby': `station-title-${index}` },
      h('h3', { id: `station-title-${index}` }, `${t('tapsByStation')} · ${lineName(lineId)}`),
      chartBox(`${t('tapsByStation')} ${lineName(lineId)}: ${stations.map((row) => `${row.name} ${formatCount(row.entries)}/${formatCount(row.exits)}`).join(', ')}`, {
        type: 'bar',
        data: {
          labels: stations.map((row) => row.name),
          datasets: [
            { label: t('entries'), data: stations.map((row) => row.entries), backgroundColor: color(0) },
            { label: t('exits'), data: stations.map((row) => row.exits), backgroundColor: color(1) },
            { label: t('rejected'), data: stations.map((row) => row.rejected), backgroundColor: color(3) },
          ],
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      dataDetails(
        table(
          `${t('tapsByStation')} · ${lineName(lineId)}`,
          [{ label: t('station') }, { label: t('entries'), numeric: true }, { label: t('exits'), numeric: true }, { label: t('rejected'), numeric: true }],
          stations.map((row) => [row.name, count(`station.${row.stationId}.entries`, row.entries), count(`station.${row.stationId}.exits`, row.exits), count(`station.${row.stationId}.rejected`, row.rejected)]),
        ),
      ),
    );
  });

  const reasons = new Map();
  for (const row of statement.rejectedTaps) reasons.set(row.reason, (reasons.get(row.reason) || 0) + row.taps);
  const rejectedCard = card(
    t('rejectedByReason'),
    'rejected-title',
    chartBox(`${t('rejectedByReason')}: ${[...reasons].map(([reason, taps]) => `${reason} ${formatCount(taps)}`).join(', ') || t('none')}`, {
      type: 'bar',
      data: { labels: [...reasons.keys()], datasets: [{ label: t('taps'), data: [...reasons.values()], backgroundColor: color(3) }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    table(t('rejectedByReason'), [{ label: t('reason') }, { label: t('taps'), numeric: true }], [...reasons].map(([reason, taps]) => [reason, count(`rejected.${reason}`, taps)]), [t('total'), count('rejected.total', sum(statement.rejectedTaps, (row) => row.taps))]),
  );

  const riskCard = card(
    t('revenueAtRisk'),
    'risk-title',
    table(
      t('revenueAtRisk'),
      [{ label: t('line') }, { label: t('reason') }, { label: t('taps'), numeric: true }, { label: t('fareAtRisk'), numeric: true }],
      statement.revenueAtRisk.map((row) => [lineName(row.lineId), row.reason, formatCount(row.taps), formatDong(row.fareAtRisk)]),
      [t('total'), '', count('risk.taps', sum(statement.revenueAtRisk, (row) => row.taps)), money('risk.total', sum(statement.revenueAtRisk, (row) => row.fareAtRisk))],
    ),
  );

  const freeCard = card(
    t('freeRides'),
    'free-title',
    table(
      t('freeRides'),
      [{ label: t('line') }, { label: t('rides'), numeric: true }, { label: t('passengerKm'), numeric: true }],
      statement.freeRides.map((row) => [lineName(row.lineId), formatCount(row.rides), formatCount(row.passengerKm)]),
      [t('total'), count('freeRides.rides', sum(statement.freeRides, (row) => row.rides)), formatCount(sum(statement.freeRides, (row) => row.passengerKm))],
    ),
  );

  show(
    h('h2', { id: 'page-title', tabindex: '-1' }, t('dayTitle', { date: formatLocalDate(date) }), ' ', status),
    flashBox(),
    scopeForm('/day', date, operatorId),
    h('div', { class: 'toolbar' }, downloads, h('span', { class: 'spacer' }), closeButton),
    statement.sha256 ? h('p', { class: 'muted' }, 'SHA-256 ', h('code', { id: 'day-sha256' }, statement.sha256)) : null,
    h('div', { class: 'grid' }, checkCard, kindCard, keyCard, rejectedCard, modeCard, hourCard, ...stationCards, riskCard, freeCard),
  );
}

async function trendPage(params) {
  const to = params.get('date') || localToday();
  const operatorId = operatorOf(params);
  const trend = await api(`/v1/reports/trend?${query({ to, operatorId, days: 30 })}`);
  const labels = trend.days.map((day) => day.date.slice(5));
  show(
    h('h2', { id: 'page-title', tabindex: '-1' }, t('trendTitle', { date: formatLocalDate(to) })),
    scopeForm('/trend', to, operatorId),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'trend-money-title' },
        h('h3', { id: 'trend-money-title' }, `${t('revenue')} · ${t('allocated')}`),
        chartBox(`${t('revenue')}: ${formatDong(sum(trend.days, (day) => day.revenue))}; ${t('allocated')}: ${formatDong(sum(trend.days, (day) => day.allocated))}`, {
          type: 'line',
          data: {
            labels,
            datasets: [
              { label: t('revenue'), data: trend.days.map((day) => day.revenue), borderColor: color(0), backgroundColor: color(0) },
              { label: t('allocated'), data: trend.days.map((day) => day.allocated), borderColor: color(2), backgroundColor: color(2) },
              { label: t('fareAtRisk'), data: trend.days.map((day) => day.revenueAtRisk), borderColor: color(3), backgroundColor: color(3) },
            ],
          },
          options: { scales: { y: { beginAtZero: true } } },
        }),
      ),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'trend-taps-title' },
        h('h3', { id: 'trend-taps-title' }, t('taps')),
        chartBox(`${t('taps')}: ${t('accepted')} ${formatCount(sum(trend.days, (day) => day.taps))}, ${t('rejected')} ${formatCount(sum(trend.days, (day) => day.rejected))}`, {
          type: 'bar',
          data: {
            labels,
            datasets: [
              { label: t('accepted'), data: trend.days.map((day) => day.taps), backgroundColor: color(0) },
              { label: t('rejected'), data: trend.days.map((day) => day.rejected), backgroundColor: color(3) },
              { label: t('freeRides'), data: trend.days.map((day) => day.freeRides), backgroundColor: color(2) },
            ],
          },
          options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
        }),
      ),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'trend-table-title' },
        h('h3', { id: 'trend-table-title' }, t('showData')),
        table(
          t('trendTitle', { date: formatLocalDate(to) }),
          [{ label: t('date') }, { label: t('status') }, { label: t('revenue'), numeric: true }, { label: t('allocated'), numeric: true }, { label: t('accepted'), numeric: true }, { label: t('rejected'), numeric: true }, { label: t('freeRides'), numeric: true }, { label: t('fareAtRisk'), numeric: true }],
          trend.days.map((day) => [
            h('a', { href: `#/day?${query({ date: day.date, operator: params.get('operator') || undefined })}` }, day.date),
            day.status === 'closed' ? t('statusClosed', { at: '' }).replace(/\s*$/, '') : t('statusOpen'),
            money(`trend.${day.date}.revenue`, day.revenue),
            money(`trend.${day.date}.allocated`, day.allocated),
            count(`trend.${day.date}.taps`, day.taps),
            count(`trend.${day.date}.rejected`, day.rejected),
            count(`trend.${day.date}.freeRides`, day.freeRides),
            money(`trend.${day.date}.revenueAtRisk`, day.revenueAtRisk),
          ]),
        ),
      ),
    ),
  );
}

const ATTENTION_SHARE = 0.2;
const ATTENTION_MIN_TAPS = 5;

async function devicesPage(params) {
  const date = params.get('date') || localToday();
  const operatorId = operatorOf(params);
  const [devices, activity] = await Promise.all([api(`/v1/devices?${query({ operatorId })}`), api(`/v1/reports/devices?${query({ date, operatorId })}`)]);
  const rows = devices.map((device) => {
    const seen = activity.devices.find((row) => row.deviceId === device.deviceId) || { lastTapAt: null, taps: 0, rejected: 0, rejectionShare: 0, offline: 0, offlineShare: 0 };
    const attention = !device.disabledAt && (seen.taps === 0 || (seen.taps >= ATTENTION_MIN_TAPS && seen.rejectionShare >= ATTENTION_SHARE));
    return { device, seen, attention };
  });
  rows.sort((a, b) => Number(b.attention) - Number(a.attention) || b.seen.rejectionShare - a.seen.rejectionShare || a.device.deviceId.localeCompare(b.device.deviceId));
  const flagged = [];
  const state = ({ device, attention }) => {
    if (device.disabledAt) return h('span', { class: 'badge muted' }, t('disabled'));
    if (!attention) return h('span', { class: 'badge closed' }, t('working'));
    const badge = h('span', { class: 'badge attention', 'data-attention': device.deviceId }, t('needsAttention'));
    flagged.push(badge);
    return badge;
  };
  const disableButton = (device) =>
    isAdmin() && !device.disabledAt
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'data-disable': device.deviceId,
            'aria-label': `${t('disable')} ${device.deviceId}`,
            onclick: async () => {
              if (!(await confirmAction(t('disableConfirm', { device: device.deviceId })))) return;
              await api(`/v1/admin/devices/${encodeURIComponent(device.deviceId)}/disable`, { method: 'POST' });
              flash = t('deviceDisabled', { device: device.deviceId });
              await render();
            },
          },
          t('disable'),
        )
      : '';
  const withTaps = rows.filter((row) => row.seen.taps > 0);
  show(
    h('h2', { id: 'page-title', tabindex: '-1' }, t('devicesTitle', { date: formatLocalDate(date) })),
    flashBox(),
    scopeForm('/devices', date, operatorId),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'device-chart-title' },
        h('h3', { id: 'device-chart-title' }, `${t('rejectionShare')} · ${t('offlineShare')}`),
        chartBox(`${t('rejectionShare')}: ${withTaps.map((row) => `${row.device.deviceId} ${formatShare(row.seen.rejectionShare)}`).join(', ') || t('none')}`, {
          type: 'bar',
          data: {
            labels: withTaps.map((row) => row.device.deviceId),
            datasets: [
              { label: t('rejectionShare'), data: withTaps.map((row) => row.seen.rejectionShare * 100), backgroundColor: color(3) },
              { label: t('offlineShare'), data: withTaps.map((row) => row.seen.offlineShare * 100), backgroundColor: color(1) },
            ],
          },
          options: { scales: { y: { beginAtZero: true, max: 100, ticks: { callback: (value) => `${value}%` } } } },
        }),
      ),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'device-table-title' },
        h('h3', { id: 'device-table-title' }, t('navDevices')),
        h('p', { class: 'muted' }, t('attentionRule')),
        table(
          t('devicesTitle', { date: formatLocalDate(date) }),
          [{ label: t('device') }, { label: t('line') }, { label: t('station') }, { label: t('kind') }, { label: t('lastTap') }, { label: t('taps'), numeric: true }, { label: t('rejectionShare'), numeric: true }, { label: t('offlineShare'), numeric: true }, { label: t('status') }, { label: '' }],
          rows.map((row) => [
            row.device.deviceId,
            lineName(row.device.lineId),
            row.device.stationId || '—',
            t(`kinds.${row.device.kind}`),
            row.seen.lastTapAt ? formatInstant(row.seen.lastTapAt) : t('noTap'),
            count(`device.${row.device.deviceId}.taps`, row.seen.taps),
            h('span', { 'data-figure': `device.${row.device.deviceId}.rejectionShare`, 'data-value': row.seen.rejectionShare }, formatShare(row.seen.rejectionShare)),
            h('span', { 'data-figure': `device.${row.device.deviceId}.offlineShare`, 'data-value': row.seen.offlineShare }, formatShare(row.seen.offlineShare)),
            state(row),
            disableButton(row.device),
          ]),
        ),
      ),
    ),
  );
  for (const badge of flagged) badge.closest('tr').classList.add('attention');
}

async function denylistPage() {
  show(h('h2', { id: 'page-title', tabindex: '-1' }, t('denylistTitle')));
  if (!isAdmin()) {
    main.append(h('p', { class: 'alert', role: 'alert' }, t('adminOnly')));
    return;
  }
  const latest = new Map();
  let since;
  for (let page = 0; page < 50; page++) {
    const result = await api(`/v1/denylist?${query({ since })}`);
    for (const entry of result.entries) latest.set(`${entry.kind}:${entry.id}`, entry);
    if (result.entries.length === 0 || result.cursor === since) break;
    since = result.cursor;
  }
  const entries = [...latest.values()].sort((a, b) => b.at.localeCompare(a.at));
  const accountId = h('input', { id: 'block-account', name: 'accountId', required: true, size: 38 });
  const reason = h('input', { id: 'block-reason', name: 'reason', required: true, minlength: 3, size: 30 });
  const submit = (blocked) => async (event) => {
    event.preventDefault();
    const form = event.target.closest('form');
    if (!form.reportValidity()) return;
    await api(`/v1/admin/accounts/${encodeURIComponent(accountId.value.trim())}/gate-block`, { method: 'PUT', body: { blocked, reason: reason.value } });
    flash = t('savedDenylist');
    await render();
  };
  main.append(
    ...[flashBox()].filter((part) => part !== null),
    h('p', { class: 'muted' }, t('denylistIntro')),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'deny-table-title' },
        h('h3', { id: 'deny-table-title' }, t('navDenylist')),
        table(
          t('denylistTitle'),
          [{ label: t('entryKind') }, { label: t('id') }, { label: t('status') }, { label: t('at') }],
          entries.map((entry) => [t(`entryKinds.${entry.kind}`), h('code', { 'data-denied': entry.id }, entry.id), h('span', { 'data-denied-status': entry.id }, t(`statuses.${entry.status}`)), formatInstant(entry.at)]),
        ),
        entries.length === 0 ? h('p', { class: 'muted' }, t('none')) : null,
      ),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'block-title' },
        h('h3', { id: 'block-title' }, t('blockAccount')),
        h(
          'form',
          { class: 'row-form' },
          h('label', { for: 'block-account' }, t('accountId'), accountId),
          h('label', { for: 'block-reason' }, t('blockReason'), reason),
          h('button', { type: 'submit', class: 'danger', id: 'block-submit', onclick: submit(true) }, t('block')),
          h('button', { type: 'submit', class: 'secondary', id: 'unblock-submit', onclick: submit(false) }, t('unblock')),
        ),
      ),
    ),
  );
}

function flashBox() {
  if (flash === null) return null;
  const box = h('p', { class: 'notice', role: 'status', id: 'flash' }, flash);
  flash = null;
  return box;
}

const PAGES = { '/day': dayPage, '/trend': trendPage, '/devices': devicesPage, '/denylist': denylistPage };

async function loadSession() {
  const me = await api('/v1/me');
  if (me.role !== 'operator' && me.role !== 'admin') {
    signOut();
    throw new Error(t('notForThisRole'));
  }
  const [operators, lines] = await Promise.all([api('/v1/operators'), api('/v1/lines')]);
  Object.assign(session, { me, operators, lines });
}

let rendering = Promise.resolve();

/** Shows the page the address names; one at a time, so a quick double navigation cannot interleave. */
function render() {
  rendering = rendering.then(renderNow, renderNow);
  return rendering;
}

async function renderNow() {
  destroyCharts();
  if (!signedIn()) session.me = null;
  if (signedIn() && session.me === null) {
    try {
      await loadSession();
    } catch (error) {
      signOut();
      renderChrome();
      renderLogin(error.message);
      return;
    }
  }
  renderChrome();
  if (session.me === null) {
    renderLogin();
    return;
  }
  const { path, params } = currentRoute();
  renderNav(path, params);
  main.setAttribute('aria-busy', 'true');
  show(h('p', { class: 'muted' }, t('loading')));
  try {
    await (PAGES[path] || dayPage)(params);
    announce(document.getElementById('page-title').textContent);
  } catch (error) {
    if (error.status === 401) {
      session.me = null;
      renderLogin(error.message);
      return;
    }
    show(h('h2', { id: 'page-title', tabindex: '-1' }, t('error')), h('p', { class: 'alert', role: 'alert', id: 'error' }, error.code ? `${error.code}: ${error.message}` : error.message));
  } finally {
    main.setAttribute('aria-busy', 'false');
  }
}

document.getElementById('language').addEventListener('click', () => {
  setLanguage(currentLanguage() === 'vi' ? 'en' : 'vi');
  void render();
});
document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  session.me = null;
  window.location.hash = '';
  void render();
});
window.addEventListener('hashchange', () => {
  void render().then(() => {
    const title = document.getElementById('page-title');
    if (title) title.focus();
  });
});
setLanguage(currentLanguage());
void render();
