/* How a page's script writes a time, exactly as the server does (outage/i18n/dates.py):
   the page carries its style in <script id="date-style"> (the language, the utility's
   time zone, the patterns and the months' short names). A moment of today in that zone
   is written as its time ("18:30"), of this year with its day ("18:30 ngày 06/12",
   "18:30 on 6 Dec"), of another year with the year as well. An estimated restoration is
   written with the range it likely falls in, as outage/i18n/times.py writes it. */
(function () {
  "use strict";

  var FIELD = /%(-?[a-zA-Z%])/g;
  var formats = {};
  var pageStyle = null;

  function style(given) {
    if (given) return given;
    if (!pageStyle) pageStyle = JSON.parse(document.getElementById("date-style").textContent);
    return pageStyle;
  }

  /* The wall-clock fields of `date` in `zone`. */
  function local(date, zone) {
    var format = formats[zone] || (formats[zone] = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    }));
    var found = {};
    format.formatToParts(date).forEach(function (part) { found[part.type] = Number(part.value); });
    return { year: found.year, month: found.month, day: found.day, hour: found.hour % 24, minute: found.minute };
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function write(at, pattern, words) {
    var fields = {
      H: pad(at.hour),
      M: pad(at.minute),
      d: pad(at.day),
      "-d": String(at.day),
      m: pad(at.month),
      Y: String(at.year),
      b: words.months[at.month - 1],
      "%": "%",
    };
    return pattern.replace(FIELD, function (_, field) { return fields[field]; });
  }

  function formFor(at, today) {
    if (at.year !== today.year) return "date_time";
    return at.month === today.month && at.day === today.day ? "time" : "day_time";
  }

  /* `iso` written as `form` ("time", "date", "day_time", "date_time"), or by the rule
     when `form` is null; "" for no time. */
  function text(iso, form, given, now) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    var words = style(given);
    var at = local(date, words.zone);
    var chosen = form || formFor(at, local(now ? new Date(now) : new Date(), words.zone));
    return write(at, words.patterns[chosen], words);
  }

  function sameDay(a, b) {
    return a.year === b.year && a.month === b.month && a.day === b.day;
  }

  /* The ETR `iso` by the rule, then the range from `earliest` to `latest` when it has one
     ("18:30 (likely between 17:45 and 19:30)"); an end on the ETR's day by its time, on
     another day with its day. */
  function etr(iso, earliest, latest, given, now) {
    var told = text(iso, null, given, now);
    if (!told || !earliest || !latest || new Date(earliest).getTime() === new Date(latest).getTime()) {
      return told;
    }
    var words = style(given);
    var day = local(new Date(iso), words.zone);
    function end(at) {
      var when = local(new Date(at), words.zone);
      if (sameDay(when, day)) return text(at, "time", given);
      /* another day than the ETR's: never by its time alone */
      var form = formFor(when, local(now ? new Date(now) : new Date(), words.zone));
      return text(at, form === "time" ? "day_time" : form, given);
    }
    var ends = { etr: told, earliest: end(earliest), latest: end(latest) };
    return words.etr_range.replace(/\{(\w+)\}/g, function (_, name) { return ends[name]; });
  }

  window.OutageDates = {
    /* Each takes an ISO 8601 instant and, optionally, a style (else the page's). */
    time: function (iso, given) { return text(iso, "time", given); },
    date: function (iso, given) { return text(iso, "date", given); },
    dayTime: function (iso, given) { return text(iso, "day_time", given); },
    /* By the rule; `now` (an ISO instant) only for tests. */
    dateTime: function (iso, given, now) { return text(iso, null, given, now); },
    /* An ETR with its range's ends (ISO instants, or null for none); `now` for tests. */
    etr: function (iso, earliest, latest, given, now) { return etr(iso, earliest, latest, given, now); },
  };
})();
