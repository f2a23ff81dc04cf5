// OpenComprehend console: live progress of running jobs, and tabs. Pages work without it.
"use strict";

function watchProgress() {
  const watched = document.querySelectorAll("[data-progress-url]");
  if (!watched.length) return;
  const reload = document.querySelector("[data-reload-when-done]") !== null;
  const poll = () => {
    watched.forEach((box) => {
      fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((job) => {
          if (!job) return;
          if (!job.active) {
            if (reload) window.location.reload();
            const status = box.closest("tr") && box.closest("tr").querySelector(".status");
            if (status) { status.textContent = job.status; status.className = "status s-" + job.status.toLowerCase(); }
            delete box.dataset.progressUrl;
          }
          let bar = box.querySelector("progress");
          const count = box.querySelector(".count");
          if (job.status !== "SUBMITTED") {
            if (!bar) { bar = document.createElement("progress"); box.insertBefore(bar, count); }
            if (job.total) { bar.max = job.total; bar.value = job.done; } else { bar.removeAttribute("value"); }
          }
          if (count) count.textContent = job.total ? job.done + " of " + job.total : job.done + " done";
        })
        .catch(() => {});
    });
    if (document.querySelector("[data-progress-url]")) window.setTimeout(poll, 1500);
  };
  window.setTimeout(poll, 1000);
}

function tabs() {
  document.querySelectorAll("[data-tabs]").forEach((bar) => {
    const section = bar.parentElement;
    const show = (name) => {
      bar.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.tab === name));
      section.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.dataset.panel === name));
    };
    bar.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => show(t.dataset.tab)));
    section.classList.add("tabs-ready");
    show("text");
  });
}

document.addEventListener("DOMContentLoaded", () => { watchProgress(); tabs(); });
