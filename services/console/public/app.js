// Leakwatch console: live feed over SSE, keyboard navigation and triage. No framework, no CDN.
(function () {
  'use strict';
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : null;

  function cell(text) {
    var td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  // Feed: prepend live alerts and move with j/k, open with Enter.
  var feed = document.getElementById('feed');
  if (feed) {
    var tbody = feed.querySelector('tbody');
    var rows = function () {
      return Array.prototype.slice.call(tbody.querySelectorAll('tr'));
    };
    if (feed.getAttribute('data-live') === 'on' && window.EventSource) {
      var source = new EventSource('/api/stream');
      source.addEventListener('alert', function (event) {
        var a = JSON.parse(event.data);
        var tr = document.createElement('tr');
        tr.setAttribute('data-alert-id', a.alertId);
        tr.setAttribute('tabindex', '0');
        tr.className = 'new';
        tr.appendChild(cell(new Date(a.detectedAt).toISOString()));
        var sev = cell('');
        var span = document.createElement('span');
        span.className = 'sev sev-' + a.severity;
        span.textContent = a.severity;
        sev.appendChild(span);
        sev.appendChild(document.createTextNode(' ' + a.score));
        tr.appendChild(sev);
        var card = cell('');
        var link = document.createElement('a');
        link.href = '/alerts/' + encodeURIComponent(a.alertId);
        link.textContent = a.maskedCard;
        card.appendChild(link);
        tr.appendChild(card);
        tr.appendChild(cell(a.partnerId));
        tr.appendChild(cell(a.merchant + ' (' + a.country + ')'));
        tr.appendChild(cell(a.amount));
        tr.appendChild(cell(a.reasons.join(', ')));
        var state = cell('Open');
        state.className = 'state';
        tr.appendChild(state);
        tbody.insertBefore(tr, tbody.firstChild);
        var count = document.querySelector('[data-count="' + a.severity + '"]');
        if (count) count.textContent = String(Number(count.textContent) + 1);
        var total = document.getElementById('total');
        if (total) total.textContent = String(Number(total.textContent) + 1);
        var live = document.getElementById('live');
        if (live) live.textContent = 'New ' + a.severity + ' alert on ' + a.maskedCard;
      });
      source.addEventListener('disposition', function (event) {
        var d = JSON.parse(event.data);
        var tr = tbody.querySelector('tr[data-alert-id="' + CSS.escape(d.alertId) + '"] .state');
        if (tr) tr.textContent = d.disposition + ' (' + d.by + ')';
      });
    }
    document.addEventListener('keydown', function (event) {
      if (event.target && /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
      var list = rows();
      var i = list.indexOf(document.activeElement);
      if (event.key === 'j') {
        (list[Math.min(i + 1, list.length - 1)] || list[0]).focus();
      } else if (event.key === 'k') {
        (list[Math.max(i - 1, 0)] || list[0]).focus();
      } else if (event.key === 'Enter' && i >= 0) {
        window.location.href = '/alerts/' + encodeURIComponent(list[i].getAttribute('data-alert-id'));
      }
    });
  }

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
  var keys = { c: 'CONFIRMED_FRAUD', f: 'FALSE_POSITIVE', u: 'UNDER_REVIEW', r: 'CARD_REISSUED' };
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
      var disposition = keys[event.key];
      if (disposition) triage(disposition);
    });
  }
})();
