// The workbench page: open a painting, show the detected losses over it, let the user correct
// them (brush, eraser, clicks on losses, undo), restore on the server, compare, save.
// The mask shown is composed as the server composes the saved one:
// (detected | selections | brush) & ~eraser, every layer at the view's size.
"use strict";

const $ = (id) => document.getElementById(id);
const MASK_COLOUR = "rgb(255, 0, 255)";
const SURE = 0.9;     // the detector's losses above this probability are drawn solid, the rest paler
const UNDO_LIMIT = 30;

const state = {
  painting: null,     // the server's summary of the open painting
  detected: null,     // canvases at the view's size, white where marked
  probability: null,  // the detector's probability at the view's size (0-255), for the slider
  marked: 0,          // the share of the view the mask covers
  selections: [],     // [{key, canvas}] from clicks on losses
  brush: null,
  eraser: null,
  undo: [],
  redo: [],
  drawing: false,
  last: null,
  restored: false,
};
// Timings the benchmark reads (milliseconds): opening to overlay, and each brush event to the
// frame that shows it.
window.workbench = { openMs: null, strokeMs: [], restoreMs: null, saveMs: null };

function message(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    throw new Error(body && body.error ? body.error : `${response.status} ${response.statusText}`);
  }
  return body;
}

function canvas(width, height) {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  c.getContext("2d", { willReadFrequently: true });  // undo reads the layers back
  return c;
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`could not load ${url}`));
    image.src = url;
  });
}

// A mask PNG from the server (white = marked) as a canvas: opaque white where marked,
// transparent elsewhere.
async function maskCanvas(url) {
  const image = await loadImage(url);
  const c = canvas(state.painting.view_width, state.painting.view_height);
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, c.width, c.height);
  const px = data.data;
  for (let i = 0; i < px.length; i += 4) {
    const marked = px[i] > 127;
    px[i] = px[i + 1] = px[i + 2] = 255;
    px[i + 3] = marked ? 255 : 0;
  }
  ctx.putImageData(data, 0, 0);
  return c;
}

// The detected losses at a threshold, from the probability map fetched once: those the
// detector is sure of opaque, the others above the threshold half transparent. With exact (the
// server's mask, cleaned of specks as the saved one is) the losses are exact's; moving the
// slider thresholds the map here, live, and the restore cleans it the same way on the server.
function detectedAt(threshold, exact = null) {
  const p = state.painting;
  const c = canvas(p.view_width, p.view_height);
  const ctx = c.getContext("2d");
  const data = ctx.createImageData(c.width, c.height);
  const px = data.data, prob = state.probability;
  const inside = exact && exact.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const low = Math.round(threshold * 255), sure = Math.round(SURE * 255);
  for (let i = 0; i < px.length; i += 4) {
    const v = prob[i];
    const marked = inside ? inside[i + 3] > 0 : v > low;
    px[i] = px[i + 1] = px[i + 2] = 255;
    px[i + 3] = marked ? (v >= sure ? 255 : 110) : 0;
  }
  ctx.putImageData(data, 0, 0);
  return c;
}

async function loadProbability(p) {
  const image = await loadImage(`/api/${p.id}/probability.png`);
  const c = canvas(p.view_width, p.view_height);
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(image, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height).data;
}

function onThreshold() {
  const threshold = Number($("threshold").value);
  $("threshold-value").textContent = threshold.toFixed(2);
  state.detected = detectedAt(threshold);
  compose();
}

// Redraw the overlay from every layer.
function compose() {
  const overlay = $("overlay");
  const ctx = overlay.getContext("2d", { willReadFrequently: true });  // the area is read back
  ctx.globalCompositeOperation = "source-over";
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  ctx.drawImage(state.detected, 0, 0);
  for (const s of state.selections) ctx.drawImage(s.canvas, 0, 0);
  ctx.drawImage(state.brush, 0, 0);
  ctx.globalCompositeOperation = "destination-out";
  ctx.drawImage(state.eraser, 0, 0);
  ctx.globalCompositeOperation = "source-in";
  ctx.fillStyle = MASK_COLOUR;
  ctx.fillRect(0, 0, overlay.width, overlay.height);
  ctx.globalCompositeOperation = "source-over";
  const alpha = ctx.getImageData(0, 0, overlay.width, overlay.height).data;
  let count = 0;
  for (let i = 3; i < alpha.length; i += 4) if (alpha[i] > 0) count++;
  state.marked = count / (overlay.width * overlay.height);
  updateMaskInfo();
}

function updateMaskInfo() {
  const parts = [`mask: ${(100 * state.marked).toFixed(2)}% of the painting`];
  if (state.selections.length) parts.push(`${state.selections.length} loss(es) clicked`);
  parts.push(`undo: ${state.undo.length} step(s)`);
  $("mask-info").textContent = parts.join("; ");
  $("undo").disabled = state.undo.length === 0;
  $("redo").disabled = state.redo.length === 0;
}

function showInfo(p) {
  const d = p.detection;
  const settings = [`method ${d.method}`, `threshold ${d.threshold}`, `grow ${d.grow}`,
                    `min. area ${d.min_area}`].join(", ");
  $("info").innerHTML = "";
  const dl = document.createElement("dl");
  const rows = [["painting", p.name], ["size", `${p.width} x ${p.height}, ${p.bits}-bit`],
                ["detected", `${(100 * p.fraction).toFixed(2)}% of the painting`],
                ["detection", settings], ["found in", `${p.detect_seconds} s`]];
  for (const [key, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
  $("info").append(dl);
}

async function openPainting(request) {
  const start = performance.now();
  message("opening and finding the damage…");
  try {
    const p = await api("/api/open", request);
    state.painting = p;
    const [view] = await Promise.all([loadImage(`/api/${p.id}/view.jpg`)]);
    $("before").src = view.src;
    state.probability = p.probability ? await loadProbability(p) : null;
    $("threshold-box").hidden = !p.probability;
    state.detected = await maskCanvas(`/api/${p.id}/detected.png`);
    if (p.probability) {
      $("threshold").value = p.detection.threshold;
      $("threshold-value").textContent = Number(p.detection.threshold).toFixed(2);
      state.detected = detectedAt(p.detection.threshold, state.detected);
    }
    state.selections = [];
    state.brush = canvas(p.view_width, p.view_height);
    state.eraser = canvas(p.view_width, p.view_height);
    state.undo = [];
    state.redo = [];
    state.restored = false;
    $("divider").hidden = true;
    const overlay = $("overlay");
    overlay.width = p.view_width;
    overlay.height = p.view_height;
    $("after").hidden = true;
    $("zoom").hidden = true;
    state.zoomPoint = null;
    $("compare-tools").disabled = true;
    $("save-tools").disabled = true;
    $("saved").textContent = "";
    $("work").hidden = false;
    compose();
    showInfo(p);
    await new Promise(requestAnimationFrame);
    window.workbench.openMs = performance.now() - start;
    message(`${p.name}: the detected losses are shown in magenta; correct them, then restore` +
            (p.warnings && p.warnings.length ? ` (warning: ${p.warnings.join("; ")})` : ""));
  } catch (error) {
    message(error.message, true);
  }
}

// A point of the painting's view in the view's pixels.
function viewPoint(event) {
  const overlay = $("overlay");
  const rect = $("canvas-box").getBoundingClientRect();
  return { x: (event.clientX - rect.left) * overlay.width / rect.width,
           y: (event.clientY - rect.top) * overlay.height / rect.height };
}

function current() {
  const grab = (c) => c.getContext("2d").getImageData(0, 0, c.width, c.height);
  return { brush: grab(state.brush), eraser: grab(state.eraser),
           selections: state.selections.slice() };
}

// Before every change of the mask: the state it changes, for Undo; a new change ends Redo.
function snapshot() {
  state.undo.push(current());
  if (state.undo.length > UNDO_LIMIT) state.undo.shift();
  state.redo = [];
}

function restoreStep(step) {
  state.brush.getContext("2d").putImageData(step.brush, 0, 0);
  state.eraser.getContext("2d").putImageData(step.eraser, 0, 0);
  state.selections = step.selections;
  compose();
}

function undo() {
  const step = state.undo.pop();
  if (!step) return;
  state.redo.push(current());
  restoreStep(step);
}

function redo() {
  const step = state.redo.pop();
  if (!step) return;
  state.undo.push(current());
  restoreStep(step);
}

function strokeOn(ctx, from, to, operation, colour) {
  ctx.globalCompositeOperation = operation;
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = Number($("size").value);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x + 0.01, to.y);
  ctx.stroke();
  ctx.globalCompositeOperation = "source-over";
}

// One piece of a stroke: into the brush or eraser layer (and out of the other), and straight
// onto the overlay, so that it shows at once without recomposing every layer.
function paint(from, to, eventTime) {
  const adding = document.querySelector("input[name=tool]:checked").value === "brush";
  const [into, outOf] = adding ? [state.brush, state.eraser] : [state.eraser, state.brush];
  strokeOn(into.getContext("2d"), from, to, "source-over", "white");
  strokeOn(outOf.getContext("2d"), from, to, "destination-out", "white");
  strokeOn($("overlay").getContext("2d"), from, to,
           adding ? "source-over" : "destination-out", MASK_COLOUR);
  requestAnimationFrame(() => window.workbench.strokeMs.push(performance.now() - eventTime));
}

async function selectLoss(point, out) {
  const p = state.painting;
  const similar = $("similar").checked && !out;
  message(out ? "marking paint that no click may select…" :
          similar ? "selecting every loss like the one clicked…" : "selecting the loss clicked…");
  try {
    const found = await api(`/api/${p.id}/select`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...point, similar, out }) });
    if (out) {
      message("marked as paint: later clicks will not select the region under it");
      return;
    }
    snapshot();
    const url = `/api/${p.id}/selection/${found.selection}.png`;
    state.selections.push({ key: found.selection, canvas: await maskCanvas(url) });
    compose();
    message(`selected ${(100 * found.fraction).toFixed(2)}% of the painting ` +
            (similar ? "(every loss like the clicked one)" : "(the loss under the click)"));
  } catch (error) {
    message(error.message, true);
  }
}

function onPointerDown(event) {
  if (!state.painting) return;
  const point = viewPoint(event);
  if (state.restored && $("real-pixels").checked) {
    showRealPixels(point);
    return;
  }
  const tool = document.querySelector("input[name=tool]:checked").value;
  if (tool === "select") {
    selectLoss(point, event.shiftKey);
    return;
  }
  $("canvas-box").setPointerCapture(event.pointerId);
  snapshot();
  state.drawing = true;
  state.last = point;
  paint(point, point, event.timeStamp);
  updateMaskInfo();
}

function onPointerMove(event) {
  if (!state.drawing) return;
  const point = viewPoint(event);
  paint(state.last, point, event.timeStamp);
  state.last = point;
}

function onPointerUp() {
  state.drawing = false;
}

function blob(c) {
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

async function restore() {
  const p = state.painting;
  const form = new FormData();
  form.append("method", $("method").value);
  form.append("selections", state.selections.map((s) => s.key).join(","));
  if (state.probability) form.append("threshold", $("threshold").value);
  form.append("brush", await blob(state.brush), "brush.png");
  form.append("eraser", await blob(state.eraser), "eraser.png");
  const start = performance.now();
  $("restore").disabled = true;
  // the earlier result's links and crops are not this one's: gone until it is saved again
  $("saved").textContent = "";
  $("save-tools").disabled = true;
  $("progress").hidden = false;
  $("progress-text").textContent = "starting";
  message("restoring…");
  try {
    await api(`/api/${p.id}/restore`, { method: "POST", body: form });
    let job;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await api(`/api/${p.id}/status`);
      if (job.state !== "running") break;
      const bar = $("progress").querySelector("progress");
      if (job.progress !== undefined) {
        bar.value = job.progress;
        bar.max = 1;
      } else {
        bar.removeAttribute("value");  // indeterminate until the fill reports
      }
      const done = job.progress !== undefined ? ` ${Math.round(100 * job.progress)}%` : "";
      const left = job.left !== undefined ? `, about ${Math.ceil(job.left)} s left` : "";
      $("progress-text").textContent = `${job.phase}${done}, ${job.elapsed} s${left}`;
    }
    if (job.state === "error") throw new Error(job.error);
    const after = await loadImage(`/api/${p.id}/after.jpg?t=${Date.now()}`);
    $("after").src = after.src;
    $("after").hidden = false;
    state.restored = true;
    state.restoredWith = $("method").value;
    setSplit();
    if (state.zoomPoint) showRealPixels(state.zoomPoint);  // the 1:1 crops of this result
    $("show-mask").checked = false;
    $("overlay").style.visibility = "hidden";
    $("compare-tools").disabled = false;
    $("save-tools").disabled = false;
    window.workbench.restoreMs = performance.now() - start;
    message(`restored in ${job.seconds} s (${(100 * job.fraction).toFixed(2)}% filled); ` +
            "drag the slider to compare, then save");
  } catch (error) {
    message(error.message, true);
  } finally {
    $("restore").disabled = false;
    $("progress").hidden = true;
  }
}

function setSplit() {
  $("after").style.clipPath = `inset(0 0 0 ${$("split").value}%)`;
  $("divider").style.left = `${$("split").value}%`;
  $("divider").hidden = !state.restored;
}

async function showRealPixels(point) {
  const p = state.painting;
  state.zoomPoint = point;
  const query = `x=${point.x}&y=${point.y}&size=384&t=${Date.now()}`;
  $("zoom-before").src = `/api/${p.id}/crop.png?which=before&${query}`;
  $("zoom-after").src = `/api/${p.id}/crop.png?which=after&${query}`;
  $("zoom").hidden = false;
}

async function save() {
  const p = state.painting;
  const start = performance.now();
  message("saving…");
  try {
    const result = await api(`/api/${p.id}/save`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: $("format").value }) });
    $("saved").textContent = `saved the result of ${state.restoredWith} into ${result.folder}:`;
    for (const [kind, name] of Object.entries(result.saved)) {
      const link = document.createElement("a");
      link.href = `/api/${p.id}/download/${kind}`;
      link.textContent = name;
      link.id = `download-${kind}`;
      link.setAttribute("download", name);
      $("saved").append(link);
    }
    window.workbench.saveMs = performance.now() - start;
    message(`saved ${result.saved.restored} with its mask, figure and record`);
  } catch (error) {
    message(error.message, true);
  }
}

async function start() {
  try {
    const info = await api("/api/paintings");
    for (const name of info.paintings) $("folder-list").add(new Option(name, name));
    $("folder-label").hidden = info.folder === null;
    $("step-paintings").hidden = info.folder === null || info.paintings.length < 2;
    for (const m of info.methods) $("method").add(new Option(m, m));
    for (const f of info.formats) $("format").add(new Option(f, f));
    message(info.folder ? "choose a painting, or upload one" : "upload a painting");
  } catch (error) {
    message(error.message, true);
  }
  $("folder-list").addEventListener("change", (event) => {
    if (event.target.value) {
      openPainting({ method: "POST", headers: { "Content-Type": "application/json" },
                     body: JSON.stringify({ name: event.target.value }) });
    }
  });
  $("upload").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    openPainting({ method: "POST", body: form });
  });
  const box = $("canvas-box");
  box.addEventListener("pointerdown", onPointerDown);
  box.addEventListener("pointermove", onPointerMove);
  box.addEventListener("pointerup", onPointerUp);
  box.addEventListener("pointercancel", onPointerUp);
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("opacity").addEventListener("input", () => {
    $("opacity-value").value = $("opacity").value;
    $("overlay").style.opacity = Number($("opacity").value) / 100;
  });
  const step = (by) => {
    const list = $("folder-list");
    const names = [...list.options].map((o) => o.value).filter((v) => v);
    if (!names.length) return;
    const at = names.indexOf(list.value);
    list.value = names[(at + by + names.length) % names.length];
    list.dispatchEvent(new Event("change"));
  };
  $("previous").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("threshold").addEventListener("input", onThreshold);
  document.addEventListener("keydown", (event) => {
    const key = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey) && (key === "y" || (key === "z" && event.shiftKey))) {
      redo();
    } else if ((event.ctrlKey || event.metaKey) && key === "z") {
      undo();
    }
  });
  $("size").addEventListener("input", () => { $("size-value").value = $("size").value; });
  $("show-mask").addEventListener("change", () => {
    $("overlay").style.visibility = $("show-mask").checked ? "visible" : "hidden";
  });
  $("restore").addEventListener("click", restore);
  $("split").addEventListener("input", setSplit);
  $("save").addEventListener("click", save);
}

start();
