// Leakwatch console: a virtualised live feed (SSE), keyboard navigation and triage.
// No framework, no CDN, no inline code (the CSP forbids it).
(function () {
  'use strict';
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : null;

  function cell(text) {
    var td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  // Feed: a virtualised list over the server's filtered, newest-first order. Only the rows in
  // view (plus a margin) are in the DOM, between two spacer rows that stand for the rest; pages
  // of rows are fetched from /api/feed as they scroll into view and dropped when far away.
  var STATES = {
    CONFIRMED_FRAUD: 'Confirmed fraud',
    FALSE_POSITIVE: 'False positive',
    UNDER_REVIEW: 'Under review',
    CARD_REISSUED: 'Card reissued',
  };
  var KEYS = { c: 'CONFIRMED_FRAUD', f: 'FALSE_POSITIVE', u: 'UNDER_REVIEW', r: 'CARD_REISSUED' };
  var PAGE = 100;
  var OVERSCAN = 10;
  var KEEP = 30 * PAGE;
  // A page request that has not answered in this long is given up and asked again: without it, a
  // request lost on the way (a dropped connection, a proxy holding it) left its rows "Loading…"
  // for good, as the page stays marked loading until the request settles.
  var FETCH_TIMEOUT_MS = 10000;

  function timeoutSignal(ms) {
    if (typeof AbortSignal !== 'undefined' && typeof AbortSignal.timeout === 'function')
      return AbortSignal.timeout(ms);
    if (typeof AbortController === 'undefined') return undefined;
    var controller = new AbortController();
    window.setTimeout(function () {
      controller.abort();
    }, ms);
    return controller.signal;
  }

  function ignoredKey(event) {
    return (
      event.ctrlKey ||
      event.metaKey ||
      event.altKey ||
      (event.target && /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName))
    );
  }

  function stateText(state, by) {
    return by ? state + ' (' + by + ')' : state;
  }

  function buildRow(row) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-alert-id', row.alertId);
    tr.appendChild(cell(new Date(row.detectedAt).toISOString()));
    var sev = cell('');
    var span = document.createElement('span');
    span.className = 'sev sev-' + row.severity;
    span.textContent = row.severity;
    sev.appendChild(span);
    sev.appendChild(document.createTextNode(' ' + row.score));
    tr.appendChild(sev);
    var card = cell('');
    var link = document.createElement('a');
    link.href = '/alerts/' + encodeURIComponent(row.alertId);
    link.textContent = row.maskedCard;
    card.appendChild(link);
    tr.appendChild(card);
    tr.appendChild(cell(row.partnerId));
    tr.appendChild(cell(row.merchant + ' (' + row.country + ')'));
    tr.appendChild(cell(row.amount));
    tr.appendChild(cell(row.reasons.join(', ')));
    var state = cell(stateText(row.state, row.by));
    state.className = 'state';
    tr.appendChild(state);
    return tr;
  }

  function placeholderRow() {
    var tr = document.createElement('tr');
    tr.className = 'placeholder';
    var td = cell('Loading…');
    td.colSpan = 8;
    tr.appendChild(td);
    return tr;
  }

  function spacerRow() {
    var tr = document.createElement('tr');
    tr.className = 'spacer';
    tr.setAttribute('aria-hidden', 'true');
    var td = document.createElement('td');
    td.colSpan = 8;
    tr.appendChild(td);
    return tr;
  }

  function virtualFeed(table) {
    document.documentElement.classList.add('virtual');
    var scroller = document.getElementById('feed-scroll');
    var tbody = table.tBodies[0];
    var head = table.tHead;
    var query = table.getAttribute('data-query') || '';
    var total = Number(table.getAttribute('data-total')) || 0;
    var offset = Number(table.getAttribute('data-offset')) || 0;
    var status = document.getElementById('feed-status');
    // index -> { row: data from the server or SSE, el: its <tr> once built }
    var rows = new Map();
    var placeholders = new Map();
    var loading = new Set();
    var active = -1;
    var shifted = 0; // live alerts inserted at the top so far (to place pages fetched meanwhile)
    var rowHeight = 0;
    var top = spacerRow();
    var bottom = spacerRow();
    var fetchTimer = 0;
    var frame = 0;

    Array.prototype.forEach.call(tbody.rows, function (tr, i) {
      rows.set(offset + i, { row: null, el: tr });
    });
    rowHeight = (tbody.rows[0] && tbody.rows[0].getBoundingClientRect().height) || 32;

    function elementAt(i) {
      var entry = rows.get(i);
      var el;
      if (entry) {
        if (!entry.el) entry.el = buildRow(entry.row);
        el = entry.el;
        placeholders.delete(i);
      } else {
        el = placeholders.get(i);
        if (!el) {
          el = placeholderRow();
          placeholders.set(i, el);
        }
      }
      el.setAttribute('data-index', String(i));
      el.setAttribute('aria-rowindex', String(i + 2));
      el.tabIndex = i === Math.max(active, first()) ? 0 : -1;
      return el;
    }

    function first() {
      return Math.max(0, Math.floor(scroller.scrollTop / rowHeight));
    }

    function range() {
      var visible = Math.ceil(scroller.clientHeight / rowHeight);
      var from = Math.max(0, first() - OVERSCAN);
      var to = Math.min(total, first() + visible + OVERSCAN);
      return { from: from, to: to };
    }

    function render() {
      frame = 0;
      var r = range();
      var hadFocus = tbody.contains(document.activeElement);
      var els = [top];
      for (var i = r.from; i < r.to; i++) els.push(elementAt(i));
      els.push(bottom);
      top.firstChild.style.height = r.from * rowHeight + 'px';
      bottom.firstChild.style.height = Math.max(0, total - r.to) * rowHeight + 'px';
      // keep the rows that stay where they are: only add and remove at the edges
      var current = Array.prototype.slice.call(tbody.children);
      var keep = new Set(els);
      current.forEach(function (el) {
        if (!keep.has(el)) tbody.removeChild(el);
      });
      var next = tbody.firstChild;
      els.forEach(function (el) {
        if (el === next) next = el.nextSibling;
        else tbody.insertBefore(el, next);
      });
      placeholders.forEach(function (el, i) {
        if (i < r.from || i >= r.to) placeholders.delete(i);
      });
      table.setAttribute('aria-rowcount', String(total + 1));
      // the arithmetic uses the height rows really have (the first page may have had none)
      var sample = tbody.querySelector('tr[data-index]');
      var measured = sample ? sample.getBoundingClientRect().height : 0;
      if (measured > 0 && Math.abs(measured - rowHeight) > 0.5) {
        rowHeight = measured;
        schedule();
      }
      if (hadFocus && active >= r.from && active < r.to) {
        var target = elementAt(active);
        if (document.activeElement !== target && !target.contains(document.activeElement))
          target.focus({ preventScroll: true });
      }
      scheduleFetch(r);
    }

    function schedule() {
      if (!frame) frame = window.requestAnimationFrame(render);
    }

    function scheduleFetch(r) {
      window.clearTimeout(fetchTimer);
      fetchTimer = window.setTimeout(function () {
        for (var p = Math.floor(r.from / PAGE); p * PAGE < r.to; p++) {
          var missing = false;
          for (var i = p * PAGE; i < Math.min(total, (p + 1) * PAGE); i++) {
            if (!rows.has(i)) {
              missing = true;
              break;
            }
          }
          if (missing && !loading.has(p)) load(p);
        }
      }, 60);
    }

    function load(p) {
      loading.add(p);
      table.setAttribute('aria-busy', 'true');
      var shiftedAtStart = shifted;
      var totalAtStart = total;
      var url = '/api/feed?' + (query ? query + '&' : '') + 'page=' + p + '&pageSize=' + PAGE;
      fetch(url, { credentials: 'same-origin', signal: timeoutSignal(FETCH_TIMEOUT_MS) })
        .then(function (res) {
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.json();
        })
        .then(
          function (page) {
            // Alerts the client inserted since the request, less those the server already counted.
            var delta = shifted - shiftedAtStart - (page.total - totalAtStart);
            if (table.getAttribute('data-live') !== 'on' && total !== page.total) {
              total = page.total;
              var totalEl = document.getElementById('total');
              if (totalEl) totalEl.textContent = String(total);
            }
            page.items.forEach(function (row, j) {
              var i = p * PAGE + j + Math.max(0, delta);
              if (!rows.has(i)) rows.set(i, { row: row, el: null });
            });
            evict();
            if (status && status.getAttribute('data-error') === 'rows') {
              status.textContent = '';
              status.removeAttribute('data-error');
            }
            done();
          },
          function (error) {
            if (status) {
              status.textContent = 'Could not load rows (' + error.message + '); trying again.';
              status.setAttribute('data-error', 'rows');
            }
            done();
          },
        );
      function done() {
        loading.delete(p);
        if (loading.size === 0) table.removeAttribute('aria-busy');
        schedule();
      }
    }

    // Far-away rows are dropped so memory stays bounded however far one scrolls.
    function evict() {
      if (rows.size <= KEEP) return;
      var centre = first();
      rows.forEach(function (entry, i) {
        if (Math.abs(i - centre) > KEEP / 2 && i !== active) rows.delete(i);
      });
    }

    function insertLive(list) {
      var n = list.length;
      var moved = new Map();
      rows.forEach(function (entry, i) {
        moved.set(i + n, entry);
      });
      list.forEach(function (row, j) {
        var entry = { row: row, el: buildRow(row) };
        entry.el.className = 'new';
        moved.set(n - 1 - j, entry);
      });
      rows = moved;
      placeholders.clear();
      total += n;
      shifted += n;
      if (active >= 0) active += n;
      // Someone reading further down keeps their rows in place; at the top, new rows show.
      if (scroller.scrollTop > 0) scroller.scrollTop += n * rowHeight;
      render();
    }

    function scrollIntoView(i) {
      var headHeight = head ? head.getBoundingClientRect().height : 0;
      var rowTop = i * rowHeight;
      if (rowTop < scroller.scrollTop) scroller.scrollTop = rowTop;
      else if (rowTop + rowHeight > scroller.scrollTop + scroller.clientHeight - headHeight)
        scroller.scrollTop = rowTop + rowHeight - scroller.clientHeight + headHeight;
    }

    function moveTo(i) {
      if (total === 0) return;
      active = Math.min(Math.max(i, 0), total - 1);
      scrollIntoView(active);
      render();
      var el = elementAt(active);
      Array.prototype.forEach.call(tbody.querySelectorAll('tr[tabindex="0"]'), function (other) {
        if (other !== el) other.tabIndex = -1;
      });
      el.tabIndex = 0;
      el.focus({ preventScroll: true });
    }

    function triageActive(disposition) {
      var entry = rows.get(active);
      var id = entry && entry.el && entry.el.getAttribute('data-alert-id');
      if (!id) return;
      if (status) status.textContent = 'Saving…';
      post('/api/alerts/' + encodeURIComponent(id) + '/disposition', {
        disposition: disposition,
        note: '',
      }).then(
        function () {
          var state = entry.el.querySelector('.state');
          if (state) state.textContent = STATES[disposition];
          if (status) status.textContent = STATES[disposition] + ': ' + id;
        },
        function (error) {
          if (status) status.textContent = 'Not saved: ' + error.message;
        },
      );
    }

    tbody.addEventListener('focusin', function (event) {
      var tr = event.target.closest && event.target.closest('tr[data-index]');
      if (tr) active = Number(tr.getAttribute('data-index'));
    });
    scroller.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', schedule);
    document.addEventListener('keydown', function (event) {
      if (ignoredKey(event)) return;
      var key = event.key;
      if (key === 'j' || key === 'ArrowDown') {
        event.preventDefault();
        moveTo(active < 0 ? first() : active + 1);
      } else if (key === 'k' || key === 'ArrowUp') {
        event.preventDefault();
        moveTo(active < 0 ? first() : active - 1);
      } else if (key === 'Home' || key === 'End') {
        event.preventDefault();
        moveTo(key === 'Home' ? 0 : total - 1);
      } else if (
        key === 'Enter' &&
        active >= 0 &&
        rows.get(active) &&
        tbody.contains(document.activeElement)
      ) {
        var el = rows.get(active).el;
        if (el) window.location.href = '/alerts/' + encodeURIComponent(el.getAttribute('data-alert-id'));
      } else if (KEYS[key] && active >= 0 && role === 'analyst') {
        triageActive(KEYS[key]);
      }
    });

    if (table.getAttribute('data-live') === 'on' && window.EventSource) {
      var pending = [];
      var source = new EventSource('/api/stream');
      source.addEventListener('alert', function (event) {
        var row = JSON.parse(event.data);
        pending.push(row);
        var count = document.querySelector('[data-count="' + row.severity + '"]');
        if (count) count.textContent = String(Number(count.textContent) + 1);
        var live = document.getElementById('live');
        if (live) live.textContent = 'New ' + row.severity + ' alert on ' + row.maskedCard;
        window.requestAnimationFrame(function () {
          if (pending.length === 0) return;
          insertLive(pending.splice(0));
          var totalEl = document.getElementById('total');
          if (totalEl) totalEl.textContent = String(total);
        });
      });
      source.addEventListener('disposition', function (event) {
        var d = JSON.parse(event.data);
        var tr = tbody.querySelector('tr[data-alert-id="' + CSS.escape(d.alertId) + '"] .state');
        if (tr) tr.textContent = stateText(STATES[d.disposition] || d.disposition, d.by);
        rows.forEach(function (entry) {
          if (entry.row && entry.row.alertId === d.alertId) {
            entry.row.state = STATES[d.disposition] || d.disposition;
            entry.row.by = d.by;
          }
        });
      });
    }

    render();
    if (offset > 0) scroller.scrollTop = offset * rowHeight;
  }

  var roleMeta = document.querySelector('meta[name="role"]');
  var role = roleMeta ? roleMeta.getAttribute('content') : null;
  var feed = document.getElementById('feed');
  if (feed) virtualFeed(feed);

  // Detail: triage buttons and one key per disposition.
  var status = document.getElementById('triage-status');
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf || '' },
      body: JSON.stringify(body),
    }).then(function (res) {
      if (!res.ok) throw new Error('refused (' + res.status + ')');
      return res.json();
    });
  }
  function done(promise) {
    if (status) status.textContent = 'Saving…';
    promise.then(
      function () {
        window.location.reload();
      },
      function (error) {
        if (status) status.textContent = 'Not saved: ' + error.message;
      },
    );
  }
  var alertIdEl = document.getElementById('alert-id');
  // Detail: j older, k newer through the queue (viewers too).
  if (document.getElementById('alert-id')) {
    document.addEventListener('keydown', function (event) {
      if (event.target && /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var link =
        event.key === 'j'
          ? document.getElementById('older')
          : event.key === 'k'
            ? document.getElementById('newer')
            : null;
      if (link) window.location.href = link.getAttribute('href');
    });
  }
  function triage(disposition) {
    var note = document.getElementById('note');
    done(
      post('/api/alerts/' + encodeURIComponent(alertIdEl.textContent) + '/disposition', {
        disposition: disposition,
        note: note ? note.value : '',
      }),
    );
  }
  Array.prototype.forEach.call(document.querySelectorAll('button[data-disposition]'), function (button) {
    button.addEventListener('click', function () {
      triage(button.getAttribute('data-disposition'));
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('button[data-reissue]'), function (button) {
    button.addEventListener('click', function () {
      if (!window.confirm('Mark every open alert of this card CARD_REISSUED?')) return;
      done(post('/api/cards/' + encodeURIComponent(button.getAttribute('data-reissue')) + '/reissue', {}));
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('button[data-close-low]'), function (button) {
    button.addEventListener('click', function () {
      var incident = button.getAttribute('data-close-low');
      if (!window.confirm('Close every open LOW alert of ' + incident + ' as FALSE_POSITIVE?')) return;
      done(post('/api/incidents/' + encodeURIComponent(incident) + '/close-low', {}));
    });
  });
  if (alertIdEl && document.querySelector('button[data-disposition]')) {
    document.addEventListener('keydown', function (event) {
      if (event.target && /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var disposition = KEYS[event.key];
      if (disposition) triage(disposition);
    });
  }
})();
