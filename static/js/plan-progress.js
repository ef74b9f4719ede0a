// Live progress of a solver run: polls the run's JSON once a second and reloads the page when the
// run ends (the preview is rendered by the server).
(function () {
  var box = document.getElementById("run");
  if (!box) return;
  var id = box.getAttribute("data-run");
  function number(value) { return value === null || value === undefined ? "–" : Math.round(value).toLocaleString(); }
  function percent(value) { return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%"; }
  function set(name, text) { var el = document.getElementById(name); if (el) el.textContent = text; }
  function poll() {
    fetch("/api/plan/runs/" + id, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) { setTimeout(poll, 2000); return; }
        set("run-status", run.status_label);
        set("run-elapsed", run.elapsed_s === null ? "–" : Math.round(run.elapsed_s) + " s");
        set("run-objective", number(run.objective !== null ? run.objective : run.progress_objective));
        set("run-bound", number(run.bound !== null ? run.bound : run.progress_bound));
        set("run-gap", percent(run.gap !== null ? run.gap : run.progress_gap));
        set("run-coverage", percent(run.coverage_min !== null ? run.coverage_min : run.progress_coverage_min));
        if (run.status === "queued" || run.status === "running") { setTimeout(poll, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
