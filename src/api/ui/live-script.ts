// The UI's only JavaScript, served same-origin as /MAAS/r/static/live.js (the CSP allows scripts
// from 'self' only, never inline). It polls the pages' JSON twins and writes what changed with
// textContent (never HTML), so a hostname or event text cannot become markup. Without JS the pages
// are complete as served; this only keeps them current. Polling (not SSE): one short GET every few
// seconds per open page holds no connection or listing-pool slot open between polls.
import { UI_PREFIX } from './layout';
import { NO_ACTIONS } from './machine-actions-ui';

export const LIVE_SCRIPT_PATH = `${UI_PREFIX}/static/live.js`;
/** Between polls; after a failed poll, the wait grows to LIVE_BACKOFF_MS. */
export const LIVE_POLL_MS = 2_000;
const LIVE_BACKOFF_MS = 15_000;
/** Rows the detail page's event log keeps (the page is served with the newest 50). */
const EVENT_ROWS = 50;

export const LIVE_SCRIPT = `'use strict';
(function () {
  var POLL = ${LIVE_POLL_MS}, BACKOFF = ${LIVE_BACKOFF_MS}, EVENT_ROWS = ${EVENT_ROWS};
  function set(root, name, value) {
    var el = root.querySelector('[data-live="' + name + '"]');
    if (el && value !== undefined && el.textContent !== value) el.textContent = value;
    return el;
  }
  function loop(read) {
    var wait = POLL;
    function tick() {
      read().then(function () { wait = POLL; }, function () { wait = Math.min(wait * 2, BACKOFF); })
        .then(function () { setTimeout(tick, wait); });
    }
    setTimeout(tick, POLL);
  }
  function json(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok || (r.headers.get('content-type') || '').indexOf('application/json') !== 0) throw new Error('poll ' + r.status);
      return r.json();
    });
  }
  var list = document.querySelector('table[data-live-list]');
  if (list) {
    loop(function () {
      var rows = list.querySelectorAll('tr[data-system-id]');
      if (!rows.length) return Promise.resolve();
      var q = new URLSearchParams();
      rows.forEach(function (r) { q.append('id', r.getAttribute('data-system-id')); });
      return json(list.getAttribute('data-live-list') + '?' + q.toString()).then(function (body) {
        body.machines.forEach(function (m) {
          var row = list.querySelector('tr[data-system-id="' + CSS.escape(m.system_id) + '"]');
          if (!row) return;
          var status = set(row, 'status', m.status_name);
          if (status) status.title = m.status_message || '';
          set(row, 'power', m.power_state);
        });
      });
    });
  }
  // The action bar follows the status: rebuilt (links by createElement, text by textContent) only
  // when the offered actions change, so a link being focused or clicked is not swapped under it.
  function actionKey(bar) {
    return Array.prototype.map.call(bar.querySelectorAll('a[id^="action-"]'), function (a) { return a.id; }).join(' ');
  }
  function actionBar(actions) {
    var bar;
    if (!actions.length) {
      bar = document.createElement('p');
      bar.textContent = ${JSON.stringify(NO_ACTIONS)};
    } else {
      bar = document.createElement('nav');
      bar.className = 'actions';
      bar.setAttribute('aria-label', 'Machine actions');
      actions.forEach(function (a) {
        var link = document.createElement('a');
        link.id = 'action-' + a.name;
        link.href = a.href;
        link.textContent = a.label;
        bar.appendChild(link);
      });
    }
    bar.id = 'machine-actions';
    return bar;
  }
  // Add machine: choosing another power type swaps in that type's parameters from the page the
  // no-JS button would load, leaving everything typed elsewhere on the form as it is.
  var chooser = document.getElementById('choose-power-type');
  var addForm = document.getElementById('add-machine');
  if (chooser && addForm) {
    var showButton = document.getElementById('choose-power-type-submit');
    if (showButton) showButton.hidden = true;
    chooser.addEventListener('change', function () {
      var type = chooser.value;
      var url = chooser.form.getAttribute('action') + '?power_type=' + encodeURIComponent(type);
      fetch(url, { credentials: 'same-origin' }).then(function (r) {
        if (!r.ok) throw new Error('power type ' + r.status);
        return r.text();
      }).then(function (text) {
        if (chooser.value !== type) return; // chosen again meanwhile: that answer applies
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('power-parameters');
        var current = document.getElementById('power-parameters');
        if (!fresh || !current) throw new Error('no power parameters');
        current.replaceWith(document.importNode(fresh, true));
        addForm.querySelector('input[type="hidden"][name="power_type"]').value = type;
      }).catch(function () { chooser.form.submit(); }); // the no-JS way: the page for that type
    });
  }
  var machine = document.querySelector('[data-live-machine]');
  if (machine) {
    var events = document.getElementById('events');
    var lastEvent = Number(machine.getAttribute('data-last-event') || '0');
    loop(function () {
      var url = machine.getAttribute('data-live-machine') + '?after=' + lastEvent;
      return json(url).then(function (m) {
        set(machine, 'status', m.status_name);
        set(machine, 'status_message', m.status_message || '-');
        set(machine, 'power', m.power);
        set(machine, 'step', m.operation_step ? m.operation_step.step : '-');
        var bar = document.getElementById('machine-actions');
        if (bar && m.actions) {
          var next = actionBar(m.actions);
          if (actionKey(next) !== actionKey(bar) || next.tagName !== bar.tagName) bar.replaceWith(next);
        }
        if (!events) return;
        m.events.slice().reverse().forEach(function (e) {
          lastEvent = Math.max(lastEvent, e.id);
          var tr = document.createElement('tr');
          [e.created, e.level, e.type, e.description].forEach(function (text) {
            var td = document.createElement('td');
            td.textContent = text;
            tr.appendChild(td);
          });
          events.insertBefore(tr, events.firstChild);
        });
        while (events.rows.length > EVENT_ROWS) events.deleteRow(-1);
      });
    });
  }
})();
`;
