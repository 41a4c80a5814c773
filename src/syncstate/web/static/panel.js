// Progressive enhancement: follow a job's progress live with server-sent events.
// Without JavaScript the job page refreshes itself (meta refresh) until it is done.
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job || job.dataset.finished === "yes" || !window.EventSource) { return; }
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) { refresh.remove(); }
  var source = new EventSource(job.dataset.events);
  function text(id, value) { document.getElementById(id).textContent = value; }
  source.addEventListener("progress", function (event) {
    var s = JSON.parse(event.data);
    var bar = document.getElementById("bar");
    bar.max = s.total || 1;
    bar.value = s.done;
    text("done", s.done);
    text("total", s.total);
    text("outcomes", Object.keys(s.outcomes).map(function (k) { return k + " " + s.outcomes[k]; }).join("  "));
    var notes = document.getElementById("notes");
    notes.replaceChildren.apply(notes, s.notes.map(function (n) {
      var li = document.createElement("li"); li.textContent = n; return li;
    }));
    if (s.finished) {
      // the server renders the final report (the same page a browser without JavaScript gets)
      source.close();
      window.location.reload();
    }
  });
  source.onerror = function () { source.close(); window.location.reload(); };
})();
