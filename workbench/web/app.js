// The workbench page: open a painting, show the detected losses over it, let the user correct
// them (brush, eraser, clicks on losses, undo), zoom and pan, restore on the server (again on
// top of a result: each result a step of Undo), compare, save.
// The mask shown is composed as the server composes the saved one: the detected losses and the
// selections clicked, then the brush and eraser strokes replayed in the order drawn (kept in the
// painting's pixels, sent as they are and drawn there at full resolution). The overlay is at the
// view's size; zoomed past it, the part on screen is drawn from the server's exact mask.
// The edits of each painting (its threshold, strokes, clicks and mask file) are kept in the
// browser's storage under the painting's sha256 as they are made, and brought back when it is
// opened again: after next / previous, a reload, or app.py started again on the same port.
"use strict";

const $ = (id) => document.getElementById(id);
const MASK_COLOUR = "rgb(255, 0, 255)";  // workbench/server.py MASK_RGB
const SURE = 0.9;     // the detector's losses above this probability are drawn solid, the rest paler
const UNDO_LIMIT = 30;
const MAX_ZOOM = 16;  // screen pixels for each pixel of the painting, at most
const WHEEL_STEP = 1.25;  // a wheel notch's zoom; the buttons and keys zoom by 2
const SIZE_STEP = 1.122;  // the brush's slider: its diameter is SIZE_STEP ** value (1 to 1000 px)
const TOOL_HINTS = {
  brush: "drag to add to the mask ([ and ]: its size)",
  eraser: "drag to take from the mask ([ and ]: its size)",
  select: "click a loss to select it; shift-click paint that no click may select",
  move: "drag to pan the zoomed painting (or Space, or the middle button)",
};
const STORE = "workbench-edits:";  // + a painting's sha256: its edits in localStorage
const KEPT_MASK_FILE = 1.5e6;  // bytes: a mask file loaded is kept with the edits up to this size

const state = {
  painting: null,     // the server's summary of the open painting
  detected: null,     // canvases at the view's size, white where marked
  probability: null,  // the detector's probability at the view's size (0-255), for the slider
  marked: 0,          // the share of the view the mask covers
  detectedShare: 0,   // the share of the painting the detected losses cover (the info box)
  selections: [],     // [{key, canvas, from, learned}] from clicks (from: their entry in the log)
  strokes: [],        // [{tool, width, points}], in the painting's pixels, in the order drawn
  log: [],            // the clicks, shift-clicks and learnings made, in order, to make them again
  maskFile: null,     // {name, invert, data} of a mask file loaded (data: its data: URL, if kept)
  undo: [],           // [{strokes, selections, result}]: a restoration is a step too
  redo: [],
  drawing: false,
  pointer: null,      // the pointer drawing or panning, one at a time
  result: null,       // the restoration shown: {id, mask (maskNow() when made), methods, fraction}
  wasStale: false,    // the result shown was out of date when last looked at (said once)
  focus: null,        // where the user last marked, in the painting's pixels (for 1:1)
  warnShare: 0.1,     // app.py --warn-share: a mask over it is shown and confirmed before a fill
  bringingBack: false,  // the kept edits are being made again: nothing is kept meanwhile
};
// Timings the benchmark reads (milliseconds): opening to overlay, each brush event to the
// frame that shows it, each zoom step or pan to the frame that shows the part on screen at its
// scale, and to its first frame (the view's pixels enlarged, before the server's answer); and
// for the tests, the id of the last restoration made.
window.workbench = { openMs: null, learnMs: null, strokeMs: [], restoreMs: null, saveMs: null, zoomMs: [],
                     zoomFrameMs: [], result: null };

// The zoomed view: the box (the view's image, the restoration's and the mask, all at the view's
// size) is scaled by s and moved by (tx, ty) inside the viewport. Zoomed past the view's own
// pixels, the part on screen is asked of the server at the screen's resolution (cut from its
// pyramid of the painting) and drawn over the view: real pixels, exact from 1:1 on.
const zoom = { s: 1, tx: 0, ty: 0, fit: 1, wish: null, busy: false, pan: null, space: false,
               panTimer: null, thresholdTimer: null, pointer: null };

// kind: "" (news), "error" (it failed) or "warning" (it worked: check it)
// (one line, so that the painting never moves under the pointer: all of it on hover)
function message(text, kind = "") {
  $("message").textContent = text;
  $("message").title = text;
  $("message").className = kind === true ? "error" : kind;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(body && body.error ? body.error : `${response.status} ${response.statusText}`);
    error.confirm = body && body.confirm;  // a mask to confirm before it is filled
    throw error;
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
  let count = 0;
  for (let i = 0; i < px.length; i += 4) {
    const v = prob[i];
    const marked = inside ? inside[i + 3] > 0 : v > low;
    px[i] = px[i + 1] = px[i + 2] = 255;
    px[i + 3] = marked ? (v >= sure ? 255 : 110) : 0;
    count += marked;
  }
  ctx.putImageData(data, 0, 0);
  state.detectedShare = count / (c.width * c.height);  // of the view: the painting's, closely
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
  showMask();
  state.detected = detectedAt(threshold);
  compose();
  showInfo();
  clearTimeout(zoom.thresholdTimer);  // the exact mask at this threshold, once the slider rests
  zoom.thresholdTimer = setTimeout(() => { showDetected(threshold); requestDetail(); keep(); },
                                   150);
}

// The detected losses at a threshold exactly as a restore marks them (the server's: cleaned of
// specks, with the detector's margin, none from the network on a painting it judges undamaged,
// auto's pale specks at the painting's resolution) in place of the
// map thresholded here while the slider moved: what is shown, and counted, is what is filled.
async function showDetected(threshold) {
  const p = state.painting;
  const exact = await exactDetected(p, threshold);
  if (!exact || p !== state.painting || !state.probability ||
      Number($("threshold").value) !== threshold) return;  // moved again meanwhile
  state.detected = detectedAt(threshold, exact);
  compose();
  showInfo();
}

// The server's detected losses of painting p at a threshold, as a canvas, or null (said).
async function exactDetected(p, threshold) {
  try {
    return await maskCanvas(`/api/${p.id}/detected.png?threshold=${threshold}`);
  } catch (error) {
    if (p === state.painting) message(error.message, true);
    return null;
  }
}

// Redraw the overlay from every layer.
function compose() {
  const overlay = $("overlay");
  const ctx = overlay.getContext("2d", { willReadFrequently: true });  // the area is read back
  ctx.globalCompositeOperation = "source-over";
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  ctx.drawImage(state.detected, 0, 0);
  for (const s of state.selections) ctx.drawImage(s.canvas, 0, 0);
  replay(ctx, viewScale(), 0, 0);
  ctx.globalCompositeOperation = "source-in";
  ctx.fillStyle = MASK_COLOUR;
  ctx.fillRect(0, 0, overlay.width, overlay.height);
  ctx.globalCompositeOperation = "source-over";
  const alpha = ctx.getImageData(0, 0, overlay.width, overlay.height).data;
  let count = 0;
  for (let i = 3; i < alpha.length; i += 4) if (alpha[i] > 0) count++;
  state.marked = count / (overlay.width * overlay.height);
  updateMaskInfo();
  composeDetail();
}

// Draw the strokes onto a canvas whose pixel (0, 0) is the painting's (x0, y0), at scale of its
// pixels for each of the painting's.
function replay(ctx, scale, x0, y0, colour = "white") {
  for (const stroke of state.strokes) drawStroke(ctx, stroke, 0, scale, x0, y0, colour);
}

// A stroke from its point `from` on: a brush marks (white), an eraser clears.
function drawStroke(ctx, stroke, from, scale, x0, y0, colour = "white") {
  const at = (i) => [(stroke.points[i][0] - x0) * scale, (stroke.points[i][1] - y0) * scale];
  ctx.globalCompositeOperation = stroke.tool === "brush" ? "source-over" : "destination-out";
  ctx.strokeStyle = colour;
  ctx.lineWidth = stroke.width * scale;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  const [sx, sy] = at(Math.max(0, from - 1));
  ctx.moveTo(sx, sy);
  if (stroke.points.length === 1) ctx.lineTo(sx + 0.01, sy);  // a dab
  for (let i = Math.max(1, from); i < stroke.points.length; i++) ctx.lineTo(...at(i));
  ctx.stroke();
  ctx.globalCompositeOperation = "source-over";
}

// The exact mask of the part on screen (zoomed past the view's pixels): the server's mask before
// the strokes, the strokes replayed over it at the screen's scale. The overlay leaves that part
// to it (a hole in its clip).
const detailMask = { base: null, box: null, key: null };

function maskKey() {
  return `${state.maskVersion || 0}|${state.probability ? $("threshold").value : ""}|` +
    state.selections.map((s) => s.key).join(",");
}

function composeDetail() {
  const detail = $("mask-detail");
  if (!detailMask.base || detailMask.key !== maskKey()) {  // none, or another mask's
    detail.hidden = true;
    $("overlay").style.clipPath = "";
    if (state.painting) cover();
    return;
  }
  const [x0, y0, x1, y1] = detailMask.box;
  const ctx = detail.getContext("2d");
  ctx.clearRect(0, 0, detail.width, detail.height);
  ctx.drawImage(detailMask.base, 0, 0);  // magenta already
  const scale = detail.width / (x1 - x0);
  replay(ctx, scale, x0, y0, MASK_COLOUR);
  if (scale >= 1 && state.strokes.length) {
    // at the painting's own pixels, as the server draws them: a pixel is marked when the
    // stroke covers its centre (half or more of it), not by its anti-aliased fringe
    const data = ctx.getImageData(0, 0, detail.width, detail.height);
    const px = data.data;
    for (let i = 3; i < px.length; i += 4) {
      const on = px[i] >= 128;
      px[i - 3] = 255;
      px[i - 2] = 0;
      px[i - 1] = 255;
      px[i] = on ? 255 : 0;
    }
    ctx.putImageData(data, 0, 0);
  }
  const vs = viewScale(), p = state.painting;
  const [a, b, c, d] = [x0 * vs, y0 * vs, x1 * vs, y1 * vs];
  $("overlay").style.clipPath = `polygon(evenodd, 0 0, ${p.view_width}px 0, ` +
    `${p.view_width}px ${p.view_height}px, 0 ${p.view_height}px, 0 0, ${a}px ${b}px, ` +
    `${c}px ${b}px, ${c}px ${d}px, ${a}px ${d}px, ${a}px ${b}px)`;
  detail.hidden = false;
  cover();
}

// The mask's share, the steps of Undo, and the state of the result shown (out of date once the
// mask changed since it was made), as they are now.
function updateMaskInfo() {
  const over = state.marked > state.warnShare;
  const parts = [`mask: ${(100 * state.marked).toFixed(2)}% of the painting` + (over ?
    ` (over the ${Math.round(100 * state.warnShare)}% of --warn-share: check it)` : "")];
  if (state.selections.length) parts.push(`${state.selections.length} loss(es) clicked`);
  parts.push(`undo: ${state.undo.length} step(s)`);
  $("mask-info").textContent = parts.join("; ");
  $("mask-info").className = over ? "warning" : "";
  $("undo").disabled = state.undo.length === 0;
  $("redo").disabled = state.redo.length === 0;
  $("clear").disabled = !state.strokes.length && !state.selections.length;
  $("advice").hidden = state.marked > 0 || !state.painting;
  $("advice").textContent = `Nothing is marked: ${nothingMarked()}.`;
  const r = state.result, old = isStale();
  if (old && !state.wasStale) {  // the page no longer says "restored ... then save"
    message("the mask changed since the result shown: it is out of date; restore again (on " +
            "top of it), or Save, which restores first", "warning");
  } else if (r && !old && state.wasStale) {  // Undo or Redo made it the mask's result again
    message(`the result shown is of the mask shown again (${describe(r)})`);
  }
  state.wasStale = old;
  $("result-state").textContent = !r ? "" : old ?
    "out of date: the mask changed since; Restore again, or Save (it restores first)" :
    `the result shown is of this mask (${describe(r)})`;
  $("result-state").className = old ? "warning" : "";
  $("save").textContent = old ? "Restore and save" : "Save";
  $("compare-tools").disabled = !r;
  $("save-tools").disabled = !r || $("restore").disabled;
  $("on-top-box").hidden = !r;
}

function shareSet() {
  return `${Math.round(100 * state.warnShare)}% set (app.py --warn-share)`;
}

// A result in words: its fills, in order, and the share filled.
function describe(r) {
  return `${r.methods.join(", then on top ")}, ${(100 * r.fraction).toFixed(2)}% filled`;
}

// The info box, as things are now: the detected share follows the threshold slider.
function showInfo() {
  const p = state.painting, d = p.detection;
  const threshold = state.probability ? Number($("threshold").value).toFixed(2) : d.threshold;
  const settings = d.source === "file" ? `your mask, ${d.name}` :
    [d.method, ...(threshold !== undefined ? [`threshold ${threshold}`] : []),
     `grow ${d.grow}`, `min. area ${d.min_area}`].join(", ");
  $("info").innerHTML = "";
  const dl = document.createElement("dl");
  const rows = [["painting", p.name], ["size", `${p.width} x ${p.height}, ${p.bits}-bit`],
                ["detected", `${(100 * state.detectedShare).toFixed(2)}% of the painting`],
                ["detection", `${settings} (${p.detect_seconds} s)`]];
  for (const [key, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
  $("info").append(dl);
}

// What to try when nothing is marked (as restore.py says it on the command line).
function nothingMarked() {
  if (state.painting && state.painting.undamaged) {  // the network's losses: at no threshold
    return "the detector judged this painting undamaged (restore.py --min-share 0 asks it " +
      "anyway): click a loss (\"click a loss\"), brush it, or load your own mask";
  }
  return `${state.probability ? "lower the detector's threshold (the slider), " : ""}click a ` +
    "loss (\"click a loss\"), brush it, or load your own mask";
}

async function openPainting(request) {
  const start = performance.now();
  let p = null;
  message("opening and finding the damage…");
  try {
    p = await api("/api/open", request);
    state.painting = p;
    window.workbench.undamaged = p.undamaged;
    state.bringingBack = true;  // nothing is kept until the edits kept are back
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
    state.detectedShare = p.fraction;  // the server's, at full resolution
    Object.assign(state, { selections: [], strokes: [], log: [], maskFile: null, undo: [],
                           redo: [], result: null, focus: null, maskVersion: 0,
                           wasStale: false });
    detailMask.base = null;
    $("divider").hidden = true;
    const overlay = $("overlay");
    overlay.width = p.view_width;
    overlay.height = p.view_height;
    $("after-layer").hidden = true;
    $("show-mask").checked = true;
    $("mask-layer").style.visibility = "visible";
    $("before-detail").hidden = true;
    $("after-detail").hidden = true;
    $("zoom").hidden = true;
    state.zoomPoint = null;
    $("saved").textContent = "";
    $("work").hidden = false;
    $("canvas-box").style.width = `${p.view_width}px`;
    $("canvas-box").style.height = `${p.view_height}px`;
    layoutViewport();
    zoom.s = zoom.fit;
    // the brush: about 16 pixels of the screen wide on the whole painting
    $("size").value = Math.round(Math.log(16 / (zoom.fit * viewScale())) / Math.log(SIZE_STEP));
    applyZoom();
    compose();
    showInfo();
    // the painting's chooser lets go of the keys: a digit there would open another painting
    if (document.activeElement && document.activeElement.tagName === "SELECT") {
      document.activeElement.blur();
    }
    const back = await bringBack(p);
    if (p !== state.painting) return;
    state.bringingBack = false;
    keep();  // what came back, as it is now (a click that could not be made again is let go)
    await new Promise(requestAnimationFrame);
    window.workbench.openMs = performance.now() - start;
    const warnings = p.warnings && p.warnings.length ? ` (warning: ${p.warnings.join("; ")})` : "";
    if (back) {
      message(`${p.name}: your earlier edits are back (${back}); Undo starts from here` +
              warnings, back.includes("could not") ? "warning" : "");
    } else if (p.fraction === 0) {
      message(`${p.name}: no loss was detected${p.probability ? ` at threshold ` +
              `${Number(p.detection.threshold).toFixed(2)}` : ""}; ${nothingMarked()}` + warnings,
              "warning");
    } else {
      message(`${p.name}: the detected losses are shown in magenta; correct them, then ` +
              `restore${warnings}`);
    }
  } catch (error) {
    message(error.message, true);
  } finally {
    if (p && p === state.painting) state.bringingBack = false;
  }
}

// --- the edits kept in the browser, per painting -------------------------------------------

// The edits of the open painting, kept as they are made (a painting with none keeps nothing).
// The log is kept without the clicks and learnings no selection shown needs (left null, so
// that each entry keeps its place).
function keep() {
  const p = state.painting;
  if (!p || state.bringingBack) return;
  const threshold = state.probability ? $("threshold").value : null;
  const moved = threshold !== null && Number(threshold) !== Number(p.detection.threshold);
  const needed = neededEntries(state.log, state.selections.map((s) => s.from));
  const log = state.log.map((entry, i) => entry && (entry.out || needed.has(i)) ? entry : null);
  const empty = !state.strokes.length && !state.selections.length && !log.some((e) => e) &&
    !state.maskFile && !moved;
  const record = { name: p.name, time: Date.now(), threshold, strokes: state.strokes, log,
                   selections: state.selections.map((s) => s.from), maskFile: state.maskFile };
  try {
    if (empty) {
      localStorage.removeItem(STORE + p.sha256);
      return;
    }
    if (store(STORE + p.sha256, JSON.stringify(record))) return;
  } catch (error) {  // no storage at all (the browser's settings)
  }
  message("the browser cannot keep your edits of this painting (too large, or its storage is " +
          "off): restore and save them before you leave the page", "warning");
}

// localStorage.setItem, making room by letting the other paintings' oldest edits go; whether
// it was kept.
function store(key, text) {
  for (;;) {
    try {
      localStorage.setItem(key, text);
      return true;
    } catch (error) {
      const others = Object.keys(localStorage).filter((k) => k.startsWith(STORE) && k !== key);
      if (!others.length) return false;
      const age = (k) => { try { return JSON.parse(localStorage.getItem(k)).time || 0; }
                           catch (e) { return 0; } };
      others.sort((a, b) => age(a) - age(b));
      localStorage.removeItem(others[0]);
    }
  }
}

// The log's entries that the selections (log indices) need: their own, and the clicks each
// learning was taught by.
function neededEntries(log, selections) {
  const needed = new Set(selections);
  for (const i of selections) {
    if (log[i] && log[i].learn) log[i].learn.clicks.forEach((j) => needed.add(j));
  }
  return needed;
}

// Bring back the edits kept of painting p: the threshold, the mask file, the clicks and
// shift-clicks made again in the order made (each click selected what it did then), the
// learnings, the strokes. Returns what came back in words, or "" (nothing was kept).
async function bringBack(p) {
  let record;
  try {
    record = JSON.parse(localStorage.getItem(STORE + p.sha256));
  } catch (error) {
    record = null;
  }
  if (!record) return "";
  const failed = [];
  if (record.threshold !== null && state.probability) {
    $("threshold").value = record.threshold;
    $("threshold-value").textContent = Number(record.threshold).toFixed(2);
    const exact = await exactDetected(p, Number(record.threshold));
    if (p !== state.painting) return "";
    state.detected = detectedAt(Number(record.threshold), exact);
  }
  if (record.maskFile) {  // one too large to keep is named, for the user to load again
    const { name, invert, data } = record.maskFile;
    const sent = data && await sendMask(p, await (await fetch(data)).blob(), name, invert);
    if (!sent) failed.push(`your mask ${name} could not be kept: load it again`);
    state.maskFile = sent || !data ? record.maskFile : null;
  }
  const log = record.log || [], made = new Map();
  const needed = neededEntries(log, record.selections || []);
  const post = (path, options) => api(`/api/${p.id}/${path}`, { method: "POST", ...options });
  const json = (body) => ({ headers: { "Content-Type": "application/json" },
                            body: JSON.stringify(body) });
  for (const [i, entry] of log.entries()) {
    if (p !== state.painting) return "";
    try {
      if (entry && entry.out) {
        await post("select", json({ ...entry.out, out: true }));
      } else if (entry && entry.click && needed.has(i)) {
        made.set(i, (await post("select", json({ ...entry.click, similar: entry.similar })))
          .selection);
      } else if (entry && entry.learn && needed.has(i)) {
        const form = new FormData();
        form.append("selections", entry.learn.clicks.filter((j) => made.has(j))
          .map((j) => made.get(j)).join(","));
        form.append("strokes", new Blob([JSON.stringify(entry.learn.strokes)],
                                        { type: "application/json" }), "strokes.json");
        made.set(i, (await post("learn", { body: form })).selection);
      }
    } catch (error) {
      failed.push(`a click could not be made again (${error.message})`);
    }
  }
  state.log = log;
  for (const i of record.selections || []) {
    if (!made.has(i)) continue;
    const selected = await maskCanvas(`/api/${p.id}/selection/${made.get(i)}.png`);
    state.selections.push({ key: made.get(i), canvas: selected, from: i,
                            learned: Boolean(log[i].learn) });
  }
  if (p !== state.painting) return "";
  state.strokes = record.strokes || [];
  const last = state.strokes[state.strokes.length - 1];
  if (last) state.focus = last.points[last.points.length - 1];
  compose();
  requestDetail();
  showInfo();
  const said = [`${state.strokes.length} stroke(s)`, `${state.selections.length} selection(s)`];
  if (record.threshold !== null && state.probability) said.push(`threshold ${record.threshold}`);
  if (state.maskFile && state.maskFile.data) said.push(`your mask ${state.maskFile.name}`);
  return said.join(", ") + (failed.length ? `; ${failed.join("; ")}` : "");
}

// A point of the painting's view in the view's pixels (the box's rectangle is the zoomed one).
function viewPoint(event) {
  const overlay = $("overlay");
  const rect = $("canvas-box").getBoundingClientRect();
  return { x: (event.clientX - rect.left) * overlay.width / rect.width,
           y: (event.clientY - rect.top) * overlay.height / rect.height };
}

// The view's pixels for each pixel of the painting (1 for a painting no larger than the view).
function viewScale() {
  return state.painting.view_width / state.painting.width;
}

// The viewport: the stage's width and the window's height below it (at least 360 px); fit shows
// the whole painting, never larger than the view's own pixels.
function layoutViewport() {
  const p = state.painting, viewport = $("viewport");
  const width = $("stage").clientWidth;
  const top = viewport.getBoundingClientRect().top + window.scrollY;
  const height = Math.max(360, window.innerHeight - top - 16);
  viewport.style.width = `${width}px`;
  viewport.style.height = `${Math.round(height)}px`;
  zoom.fit = Math.min(1, width / p.view_width, Math.round(height) / p.view_height);
}

// Apply the zoom: the painting kept over the viewport (centred where it is smaller), the
// percentage, the compare slider's line and the brush's outline follow; then the real pixels of
// the part shown. when: the event's time, for the zoom-step timings.
function applyZoom(when) {
  place();
  if (when !== undefined) {
    requestAnimationFrame(() => window.workbench.zoomFrameMs.push(performance.now() - when));
  }
  const percent = 100 * zoom.s * viewScale();
  $("zoom-value").textContent = `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
  showSize();
  requestDetail(when);
}

// The box where zoom says, kept over the viewport (centred where it is smaller).
function place() {
  const p = state.painting, viewport = $("viewport");
  const width = viewport.clientWidth, height = viewport.clientHeight;
  const w = p.view_width * zoom.s, h = p.view_height * zoom.s;
  zoom.tx = w <= width ? (width - w) / 2 : Math.min(0, Math.max(width - w, zoom.tx));
  zoom.ty = h <= height ? (height - h) / 2 : Math.min(0, Math.max(height - h, zoom.ty));
  $("canvas-box").style.transform = `translate(${zoom.tx}px, ${zoom.ty}px) scale(${zoom.s})`;
  setSplit();
  cover();
}

// The part of the painting on screen [x0, y0, x1, y1], in its pixels.
function visible() {
  const p = state.painting, viewport = $("viewport"), on = zoom.s * viewScale();
  return [Math.max(0, Math.floor(-zoom.tx / on)), Math.max(0, Math.floor(-zoom.ty / on)),
          Math.min(p.width, Math.ceil((viewport.clientWidth - zoom.tx) / on)),
          Math.min(p.height, Math.ceil((viewport.clientHeight - zoom.ty) / on))];
}

// A layer wholly under its detail is not drawn (each enlarged layer costs a frame time).
function cover() {
  const [x0, y0, x1, y1] = visible();
  const covers = (id) => {
    const detail = $(id);
    if (detail.hidden || !detail.dataset.region) return false;
    const [a, b, c, d] = detail.dataset.region.split(",").map(Number);
    return a <= x0 && b <= y0 && c >= x1 && d >= y1;
  };
  $("before").style.visibility = covers("before-detail") ? "hidden" : "";
  $("after").style.visibility = covers("after-detail") ? "hidden" : "";
  $("overlay").style.visibility = covers("mask-detail") ? "hidden" : "";
}

// Zoom to s (the view's scale on screen) about a point of the viewport (its centre by default).
function zoomTo(s, when, x = null, y = null) {
  if (!state.painting) return;
  const viewport = $("viewport");
  x = x === null ? viewport.clientWidth / 2 : x;
  y = y === null ? viewport.clientHeight / 2 : y;
  const next = Math.min(MAX_ZOOM / viewScale(), Math.max(zoom.fit, s));
  zoom.tx = x - (x - zoom.tx) * next / zoom.s;
  zoom.ty = y - (y - zoom.ty) * next / zoom.s;
  zoom.s = next;
  applyZoom(when);
}

// The part of the painting on screen, in its pixels, asked of the server at the screen's
// resolution once the view's own pixels are enlarged. One request at a time: a step made while
// one is under way is asked for when it ends (the server computes every request it receives, so
// none is sent to be abandoned), and only the latest wish is kept and drawn.
function requestDetail(when) {
  zoom.wish = { when, painting: state.painting };
  if (!zoom.busy) askDetail();
}

function askDetail() {
  const { when, painting: p } = zoom.wish;
  zoom.wish = null;
  if (p !== state.painting) return;
  const done = () => {
    if (when !== undefined) {
      requestAnimationFrame(() => window.workbench.zoomMs.push(performance.now() - when));
    }
  };
  if (zoom.s <= 1) {  // the view's own pixels are all the screen shows
    $("before-detail").hidden = true;
    $("after-detail").hidden = true;
    detailMask.base = null;
    composeDetail();
    cover();
    done();
    return;
  }
  const [x0, y0, x1, y1] = visible();
  const width = Math.ceil((x1 - x0) * zoom.s * viewScale() * (window.devicePixelRatio || 1));
  const result = state.result;
  const which = result ? ["before", "after"] : ["before"];
  const region = `x0=${x0}&y0=${y0}&x1=${x1}&y1=${y1}&width=${width}`;
  const get = async (kind, url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error((await response.json()).error);
    const box = response.headers.get("X-Region").split(",").map(Number);
    return [kind, box, await createImageBitmap(await response.blob())];
  };
  const asked = which.map((kind) => get(kind, `/api/${p.id}/region?which=${kind}&${region}` +
                                              (kind === "after" ? `&result=${result.id}` : "")));
  const key = maskKey();
  if (zoom.s >= 2) {  // the view's mask shows in blocks: the server's exact one of this part
    const threshold = state.probability ? `&threshold=${$("threshold").value}` : "";
    const selections = state.selections.map((s) => s.key).join(",");
    asked.push(get("mask", `/api/${p.id}/mask-region?${region}${threshold}` +
                           `&selections=${selections}`));
  }
  zoom.busy = true;
  Promise.all(asked).then((parts) => {
    // a later wish's answer will be drawn; another result's pixels are not this one's
    if (p !== state.painting || zoom.wish || result !== state.result) return;
    detailMask.base = null;
    for (const [kind, box, bitmap] of parts) {
      if (kind !== "mask") continue;
      const detail = $("mask-detail");
      detail.width = bitmap.width;
      detail.height = bitmap.height;
      Object.assign(detail.style, placed(box));
      detail.dataset.region = box.join(",");  // in the painting's pixels
      Object.assign(detailMask, { base: bitmap, box, key });
    }
    composeDetail();
    for (const [kind, box, bitmap] of parts) {
      if (kind === "mask") continue;
      const detail = $(`${kind}-detail`);
      detail.width = bitmap.width;
      detail.height = bitmap.height;
      detail.getContext("2d").drawImage(bitmap, 0, 0);
      Object.assign(detail.style, placed(box));
      detail.dataset.region = box.join(",");
      detail.hidden = false;
    }
    if (!state.result) $("after-detail").hidden = true;
    cover();
    done();
  }).catch((error) => {
    if (p === state.painting) message(error.message, true);
  }).finally(() => {
    zoom.busy = false;
    if (zoom.wish) askDetail();
  });
}

// A rectangle of the painting's pixels [x0, y0, x1, y1] placed in the box (the view's pixels).
function placed([x0, y0, x1, y1]) {
  const vs = viewScale();
  return { left: `${x0 * vs}px`, top: `${y0 * vs}px`, width: `${(x1 - x0) * vs}px`,
           height: `${(y1 - y0) * vs}px` };
}

// The brush's diameter, in the painting's pixels, and its outline at the zoom's scale under the
// pointer.
function showSize() {
  if (!state.painting) return;
  const size = brushSize();
  $("size-value").textContent = `${size} px`;
  const diameter = size * zoom.s * viewScale();
  Object.assign($("brush-cursor").style, { width: `${diameter}px`, height: `${diameter}px`,
                                           marginLeft: `${-diameter / 2}px`,
                                           marginTop: `${-diameter / 2}px` });
}

function moveCursor(event) {
  const tool = document.querySelector("input[name=tool]:checked").value;
  const cursor = $("brush-cursor");
  cursor.hidden = !state.painting || zoom.pan !== null || zoom.space ||
    !(tool === "brush" || tool === "eraser") || (state.result && $("real-pixels").checked);
  const rect = $("viewport").getBoundingClientRect();
  cursor.style.left = `${event.clientX - rect.left}px`;
  cursor.style.top = `${event.clientY - rect.top}px`;
  zoom.pointer = { x: event.clientX - rect.left, y: event.clientY - rect.top };  // for 1:1
}

function current() {
  return { strokes: state.strokes.slice(), selections: state.selections.slice(),
           result: state.result };
}

// Before every change: the state it changes, for Undo; a new change ends Redo. A change of the
// mask shows the mask, if hidden: no edit is made unseen.
function snapshot(maskChange = true) {
  state.undo.push(current());
  if (state.undo.length > UNDO_LIMIT) state.undo.shift();
  state.redo = [];
  if (maskChange) showMask();
}

function showMask() {
  $("show-mask").checked = true;
  $("mask-layer").style.visibility = "visible";
}

function restoreStep(step) {
  const same = step.selections.length === state.selections.length &&
    step.selections.every((s, i) => s === state.selections[i]);
  state.strokes = step.strokes;
  state.selections = step.selections;
  if (step.result !== state.result) showResult(step.result);
  compose();
  if (!same) requestDetail();  // another mask under the strokes
  keep();
}

// Take every stroke and click off the mask (a step of Undo, as any edit).
function clearMarks() {
  if (!state.painting || (!state.strokes.length && !state.selections.length)) return;
  snapshot();
  state.strokes = [];
  state.selections = [];
  compose();
  requestDetail();
  keep();
}

function undo() {
  state.drawing = false;  // a stroke under way ends here
  state.pointer = null;
  const step = state.undo.pop();
  if (!step) return;
  state.redo.push(current());
  restoreStep(step);
}

function redo() {
  state.drawing = false;
  state.pointer = null;
  const step = state.redo.pop();
  if (!step) return;
  state.undo.push(current());
  restoreStep(step);
}

// What the mask is made of now: a result made of it is up to date while it stays the same.
function maskNow() {
  return { threshold: state.probability ? $("threshold").value : null,
           version: state.maskVersion || 0, selections: state.selections.slice(),
           strokes: state.strokes.slice() };
}

function sameMask(a, b) {
  const same = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.threshold === b.threshold && a.version === b.version &&
    same(a.selections, b.selections) && same(a.strokes, b.strokes);
}

// Whether the result shown was made of another mask than the one shown.
function isStale() {
  return state.result !== null && !sameMask(maskNow(), state.result.mask);
}

// Show a restoration held by the server (Undo and Redo step through them), or none.
async function showResult(result) {
  const p = state.painting;
  state.result = result;
  $("saved").textContent = "";  // the links were another result's
  if (!result) {
    $("after-layer").hidden = true;
    $("after-detail").hidden = true;
    $("divider").hidden = true;
    updateMaskInfo();
    return;
  }
  try {
    const after = await loadImage(`/api/${p.id}/after.jpg?result=${result.id}`);
    if (p !== state.painting || state.result !== result) return;
    $("after").src = after.src;
    $("after-layer").hidden = false;
    setSplit();
    requestDetail();  // the restoration's real pixels, if zoomed in
    if (state.zoomPoint && !$("zoom").hidden) showRealPixels(state.zoomPoint);
  } catch (error) {
    if (p !== state.painting || state.result !== result) return;
    message("that restoration is no longer held by the server: restore again", true);
    state.result = null;
    $("after-layer").hidden = true;
    $("divider").hidden = true;
  }
  updateMaskInfo();
}

// The brush's diameter in the painting's pixels: the slider is logarithmic, 1 to 1000.
function brushSize() {
  return Math.max(1, Math.round(SIZE_STEP ** Number($("size").value)));
}

// A stroke grows by a point (in the view's pixels): drawn at once onto the overlay and, zoomed,
// onto the exact mask, without recomposing every layer.
function paint(point, eventTime) {
  const vs = viewScale(), stroke = state.strokes[state.strokes.length - 1];
  const at = [Math.round(100 * point.x / vs) / 100, Math.round(100 * point.y / vs) / 100];
  const last = stroke.points[stroke.points.length - 1];
  // a point closer than an eighth of the brush to the last one adds nothing to see, and the
  // server draws every segment: left out (the page draws the same points)
  if (last && Math.hypot(at[0] - last[0], at[1] - last[1]) < Math.max(0.5, stroke.width / 8)) {
    return;
  }
  stroke.points.push(at);
  const from = stroke.points.length - 1;
  drawStroke($("overlay").getContext("2d"), stroke, from, vs, 0, 0, MASK_COLOUR);
  if (!$("mask-detail").hidden) {
    const [x0, y0, x1] = detailMask.box;
    drawStroke($("mask-detail").getContext("2d"), stroke, from,
               $("mask-detail").width / (x1 - x0), x0, y0, MASK_COLOUR);
  }
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
    if (p !== state.painting) return;  // another painting was opened meanwhile
    const at = [point.x / viewScale(), point.y / viewScale()];
    if (out) {
      state.log.push({ out: point });
      keep();
      message("marked as paint: later clicks will not select the region under it");
      return;
    }
    const url = `/api/${p.id}/selection/${found.selection}.png`;
    const selected = await maskCanvas(url);
    if (p !== state.painting) return;
    snapshot();
    state.log.push({ click: point, similar });
    state.selections.push({ key: found.selection, canvas: selected, from: state.log.length - 1 });
    state.focus = at;
    compose();
    requestDetail();
    keep();
    const what = similar ? "(every loss like the clicked one)" : "(the loss under the click)";
    if (found.warning) {  // over the share the user set: shown now, confirmed before a fill
      message(`${found.warning} ${what}`, "warning");
    } else if (state.marked > state.warnShare) {
      message(`selected ${(100 * found.fraction).toFixed(2)}% of the painting ${what}; the ` +
              `mask now covers ${(100 * state.marked).toFixed(1)}%, over the ${shareSet()}: ` +
              "check it (Undo takes it back)", "warning");
    } else {
      message(`selected ${(100 * found.fraction).toFixed(2)}% of the painting ${what}`);
    }
  } catch (error) {
    if (p === state.painting) message(error.message, true);
  }
}

// Every loss like the marks made: a classifier of this painting's pixels is fitted on the losses
// clicked and brushed against the paint shift-clicked and erased (detection/learn.py), and its
// selection replaces the one learned before; correct it with more strokes and learn again.
async function learnFromMarks() {
  const p = state.painting;
  if (!p || state.bringingBack) return;
  // taught by the clicks' own losses (a selection learned before teaches nothing) and strokes
  const clicks = state.selections.filter((s) => !s.learned);
  const strokes = state.strokes.slice();
  const form = new FormData();
  form.append("selections", clicks.map((s) => s.key).join(","));
  form.append("strokes", new Blob([JSON.stringify(strokes)],
                                  { type: "application/json" }), "strokes.json");
  message("learning this painting's losses from your clicks and strokes…");
  $("learn").disabled = true;
  try {
    const start = performance.now();
    const found = await api(`/api/${p.id}/learn`, { method: "POST", body: form });
    if (p !== state.painting) return;
    const selected = await maskCanvas(`/api/${p.id}/selection/${found.selection}.png`);
    if (p !== state.painting) return;
    snapshot();
    state.log.push({ learn: { clicks: clicks.map((s) => s.from), strokes } });
    state.selections = state.selections.filter((s) => !s.learned);
    state.selections.push({ key: found.selection, canvas: selected, learned: true,
                            from: state.log.length - 1 });
    compose();
    requestDetail();
    keep();
    window.workbench.learnMs = performance.now() - start;
    message(`learned: ${(100 * found.fraction).toFixed(2)}% of the painting marked, every loss ` +
            "like your clicks and brush strokes, none like your eraser strokes and " +
            "shift-clicks; correct it and learn again" +
            (found.warning ? `; ${found.warning}` : ""), found.warning ? "warning" : "");
  } catch (error) {
    if (p === state.painting) message(error.message, true);
  } finally {
    $("learn").disabled = false;
  }
}

function onPointerDown(event) {
  // one pointer at a time; none while the kept edits are brought back
  if (!state.painting || state.pointer !== null || state.bringingBack) return;
  const tool = document.querySelector("input[name=tool]:checked").value;
  if (event.button === 1 || (event.button === 0 && (zoom.space || tool === "move"))) {  // pan
    event.preventDefault();
    state.pointer = event.pointerId;
    $("viewport").setPointerCapture(event.pointerId);
    zoom.pan = { x: event.clientX, y: event.clientY, tx: zoom.tx, ty: zoom.ty };
    $("viewport").classList.add("panning");
    return;
  }
  if (event.button !== 0) return;
  const point = viewPoint(event);
  if (state.result && $("real-pixels").checked) {
    showRealPixels(point);
    return;
  }
  if (tool === "select") {
    selectLoss(point, event.shiftKey);
    return;
  }
  state.pointer = event.pointerId;
  $("viewport").setPointerCapture(event.pointerId);
  snapshot();
  state.drawing = true;
  state.strokes.push({ tool, width: brushSize(), points: [] });
  paint(point, event.timeStamp);
  updateMaskInfo();
}

function onPointerMove(event) {
  moveCursor(event);
  if (event.pointerId !== state.pointer) return;  // another finger, or only hovering
  if (event.buttons === 0) {  // its release was lost (a menu, another window)
    onPointerUp(event);
    return;
  }
  if (zoom.pan) {  // the painting follows the pointer; its real pixels once it rests
    zoom.tx = zoom.pan.tx + event.clientX - zoom.pan.x;
    zoom.ty = zoom.pan.ty + event.clientY - zoom.pan.y;
    const p = state.painting;
    clearTimeout(zoom.panTimer);
    place();
    zoom.panTimer = setTimeout(() => { if (p === state.painting) applyZoom(); }, 120);
    return;
  }
  if (!state.drawing) return;
  paint(viewPoint(event), event.timeStamp);
}

function onPointerUp(event) {
  if (event.pointerId !== state.pointer) return;
  state.pointer = null;
  if (state.drawing) {
    const stroke = state.strokes[state.strokes.length - 1];
    if (stroke) state.focus = stroke.points[stroke.points.length - 1];
    compose();  // the mask's share, counted again
    keep();
  }
  state.drawing = false;
  if (zoom.pan) {
    zoom.pan = null;
    clearTimeout(zoom.panTimer);
    $("viewport").classList.remove("panning");
    applyZoom(event.timeStamp);
  }
}

// Restore the mask shown. With a result shown of another mask and "on top" ticked, only what
// the mask added since is filled, on that result, and what it no longer marks is the
// painting's own again; otherwise (the same mask: another method, say) the whole mask is
// filled from the painting. The result is a step of Undo. Returns whether it was restored.
async function restore() {
  const p = state.painting;
  if (!p || state.bringingBack) return false;  // the mask is not whole yet
  const mask = maskNow();
  const base = state.result && !sameMask(mask, state.result.mask) && $("on-top").checked ?
    state.result : null;
  const method = $("method").value;
  const form = new FormData();
  form.append("method", method);
  form.append("selections", state.selections.map((s) => s.key).join(","));
  if (state.probability) form.append("threshold", $("threshold").value);
  if (base) form.append("on_top", base.id);
  // a file, not a field: a long session's strokes are over a form field's size limit
  form.append("strokes", new Blob([JSON.stringify(state.strokes)],
                                  { type: "application/json" }), "strokes.json");
  const start = performance.now();
  $("restore").disabled = true;
  // the earlier result's links and crops are not this one's: gone until it is saved again
  $("saved").textContent = "";
  $("save-tools").disabled = true;
  $("progress").hidden = false;
  $("progress-text").textContent = "starting";
  message(base ? "restoring what the mask added, on top of the result…" : "restoring…");
  try {
    for (;;) {  // a mask over the share set (or over half the painting) is confirmed first
      try {
        await api(`/api/${p.id}/restore`, { method: "POST", body: form });
        break;
      } catch (error) {
        if (!error.confirm || form.has("confirmed") || !window.confirm(error.confirm)) throw error;
        form.append("confirmed", "1");
      }
    }
    let job;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (p !== state.painting) return false;  // another painting was opened meanwhile
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
    if (p !== state.painting) return false;
    snapshot(false);  // Undo goes back to the result before, or to none
    const result = { id: job.result, mask, methods: job.methods, fraction: job.fraction };
    $("restore").disabled = false;
    await showResult(result);
    if (state.result !== result) return false;
    window.workbench.restoreMs = performance.now() - start;
    window.workbench.result = result.id;
    message(`restored in ${job.seconds} s (${(100 * job.fraction).toFixed(2)}% of the painting ` +
            `restored${base ? `, ${(100 * job.filled).toFixed(2)}% filled now on top of the ` +
            "result before" : ""}); drag the slider to compare (hold C: the original), then save`);
    return true;
  } catch (error) {
    if (p === state.painting) message(error.message, true);
    return false;
  } finally {
    $("restore").disabled = false;
    $("progress").hidden = true;
    if (p === state.painting) updateMaskInfo();
  }
}

// The user's own mask file, in place of the detected losses (white = loss, or black with
// "losses black"); the clicks and strokes stay on top of it. Kept with the edits where small.
async function loadMask() {
  const p = state.painting, file = $("mask-file").files[0];
  if (!p || !file) return;
  const invert = $("mask-invert").checked;
  try {
    const answer = await sendMask(p, file, file.name, invert);
    if (!answer || p !== state.painting) return;
    const data = file.size <= KEPT_MASK_FILE ? await new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => resolve(null);
      reader.readAsDataURL(file);
    }) : null;
    state.maskFile = { name: answer.detection.name, invert, data };
    keep();
    const marked = (100 * answer.fraction).toFixed(2);
    // the file's name as the server shows it (without control characters)
    message(`${answer.detection.name}: ${marked}% of the painting marked, in ` +
            "place of the detected losses; correct it, then restore" + (data ? "" :
            " (too large to be kept with your edits: load it again when you come back)"));
  } finally {
    $("mask-file").value = "";
  }
}

// Send a mask file (a File or Blob) for painting p and show it in place of the detection: the
// server's answer, or null (the error said on the page).
async function sendMask(p, file, name, invert) {
  const form = new FormData();
  form.append("file", file, name);
  if (invert) form.append("invert", "1");
  try {
    const answer = await api(`/api/${p.id}/mask`, { method: "POST", body: form });
    if (p !== state.painting) return null;
    state.probability = null;
    $("threshold-box").hidden = true;
    state.detected = await maskCanvas(`/api/${p.id}/detected.png?t=${Date.now()}`);
    state.maskVersion = (state.maskVersion || 0) + 1;
    Object.assign(p, { fraction: answer.fraction, detection: answer.detection });
    state.detectedShare = answer.fraction;
    detailMask.base = null;
    showMask();
    compose();
    requestDetail();
    showInfo();
    return answer;
  } catch (error) {
    if (p === state.painting) message(error.message, true);
    return null;
  }
}

// The compare slider divides the part of the painting on screen: before on the left of its
// line, the restoration on the right.
function setSplit() {
  if (!state.painting) return;
  const width = $("viewport").clientWidth;
  const left = Math.max(0, zoom.tx);
  const right = Math.min(width, zoom.tx + state.painting.view_width * zoom.s);
  const x = left + (right - left) * Number($("split").value) / 100;
  $("after-layer").style.clipPath = `inset(0 0 0 ${(x - zoom.tx) / zoom.s}px)`;
  $("divider").style.left = `${x}px`;
  const top = Math.max(0, zoom.ty);  // the line spans the painting, not the grey around it
  const bottom = Math.min($("viewport").clientHeight,
                          zoom.ty + state.painting.view_height * zoom.s);
  $("divider").style.top = `${top}px`;
  $("divider").style.height = `${Math.max(0, bottom - top)}px`;
  $("divider").hidden = !state.result;
}

// The painting's own pixels about a point of the view, before and after, in a panel over the
// corner of the viewport away from the point (as large as fits, up to 384 pixels square).
async function showRealPixels(point) {
  const p = state.painting, viewport = $("viewport");
  if (!state.result) return;
  state.zoomPoint = point;
  state.focus = [point.x / viewScale(), point.y / viewScale()];
  const room = Math.min((viewport.clientWidth * 0.6 - 40) / 2, viewport.clientHeight * 0.6);
  const size = Math.max(64, Math.min(384, Math.floor(room / 8) * 8));
  const query = `x=${point.x}&y=${point.y}&size=${size}&t=${Date.now()}`;
  $("zoom-before").src = `/api/${p.id}/crop.png?which=before&${query}`;
  $("zoom-after").src = `/api/${p.id}/crop.png?which=after&result=${state.result.id}&${query}`;
  const onScreen = zoom.tx + point.x * zoom.s;
  $("zoom").classList.toggle("left", onScreen > viewport.clientWidth / 2);
  $("zoom").hidden = false;
}

// Save the result shown; one out of date is restored first (what is seen is what is saved).
async function save() {
  const p = state.painting;
  if (isStale()) {
    message("the mask changed since the result shown: restoring it first…");
    if (!(await restore()) || isStale()) return;
  }
  const start = performance.now();
  const shown = state.result;
  message("saving…");
  try {
    const result = await api(`/api/${p.id}/save`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: $("format").value, result: shown.id }) });
    if (p !== state.painting || shown !== state.result) return;
    $("saved").textContent = `saved the result of ${shown.methods.join(", then on top ")} ` +
      `into ${result.folder}:`;
    for (const [kind, name] of Object.entries(result.saved)) {
      const link = document.createElement("a");
      link.href = `/api/${p.id}/download/${kind}`;
      link.textContent = name;
      link.id = `download-${kind}`;
      link.setAttribute("download", name);
      $("saved").append(link);
    }
    $("tools").scrollTop = $("tools").scrollHeight;  // the links, in view at the panel's foot
    window.workbench.saveMs = performance.now() - start;
    message(`saved ${result.saved.restored} with its mask, figure and record`);
  } catch (error) {
    message(error.message, true);
  }
}

// Zoom to 1:1 about the pointer (a key pressed over the painting), else about where the user
// last marked (a click on a loss, a stroke's end), else about the middle of the screen.
function oneToOne(when, atPointer) {
  const s = 1 / viewScale(), viewport = $("viewport");
  if (atPointer && zoom.pointer) {
    zoomTo(s, when, zoom.pointer.x, zoom.pointer.y);
  } else if (state.focus) {
    const on = s * viewScale();
    zoom.s = Math.min(MAX_ZOOM / viewScale(), Math.max(zoom.fit, s));
    zoom.tx = viewport.clientWidth / 2 - state.focus[0] * on;
    zoom.ty = viewport.clientHeight / 2 - state.focus[1] * on;
    applyZoom(when);
  } else {
    zoomTo(s, when);
  }
}

// Held, C shows the painting as it was: no restoration, no mask.
function showOriginal(on) {
  document.body.classList.toggle("original", on);
}

async function start() {
  let opening = null;  // the folder's painting being opened
  try {
    const info = await api("/api/paintings");
    for (const name of info.paintings) $("folder-list").add(new Option(name, name));
    $("folder-label").hidden = info.folder === null;
    $("step-paintings").hidden = info.folder === null || info.paintings.length < 2;
    for (const m of info.methods) $("method").add(new Option(m, m));
    for (const f of info.formats) $("format").add(new Option(f, f));
    state.warnShare = info.warn_share;
    message(info.folder ? "choose a painting, or upload one" : "upload a painting");
  } catch (error) {
    message(error.message, true);
  }
  $("folder-list").addEventListener("change", (event) => {
    const name = event.target.value;
    if (name && name !== opening) {  // chosen again while it opens: one open is enough
      sessionStorage.setItem("workbench-open", name);
      opening = name;
      openPainting({ method: "POST", headers: { "Content-Type": "application/json" },
                     body: JSON.stringify({ name }) }).finally(() => { opening = null; });
    }
  });
  $("upload").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    openPainting({ method: "POST", body: form });
  });
  // the exact mask is read back after each stroke (composeDetail): a context made for it
  $("mask-detail").getContext("2d", { willReadFrequently: true });
  const viewport = $("viewport");
  viewport.addEventListener("pointerdown", onPointerDown);
  viewport.addEventListener("pointermove", onPointerMove);
  viewport.addEventListener("pointerup", onPointerUp);
  viewport.addEventListener("pointercancel", onPointerUp);
  viewport.addEventListener("lostpointercapture", onPointerUp);
  viewport.addEventListener("pointerleave", () => {
    $("brush-cursor").hidden = true;
    zoom.pointer = null;
  });
  viewport.addEventListener("auxclick", (event) => event.preventDefault());
  viewport.addEventListener("wheel", (event) => {
    if (!state.painting) return;
    event.preventDefault();
    const lines = event.deltaMode === 1 ? 33 : event.deltaMode === 2 ? 400 : 1;
    const notches = Math.max(-3, Math.min(3, -event.deltaY * lines / 100));
    const rect = viewport.getBoundingClientRect();
    zoomTo(zoom.s * WHEEL_STEP ** notches, event.timeStamp, event.clientX - rect.left,
           event.clientY - rect.top);
  }, { passive: false });
  $("zoom-in").addEventListener("click", (event) => zoomTo(zoom.s * 2, event.timeStamp));
  $("zoom-out").addEventListener("click", (event) => zoomTo(zoom.s / 2, event.timeStamp));
  $("zoom-fit").addEventListener("click", (event) => zoomTo(zoom.fit, event.timeStamp));
  $("zoom-one").addEventListener("click", (event) => oneToOne(event.timeStamp, false));
  window.addEventListener("resize", () => {
    if (!state.painting || $("work").hidden) return;
    const fitted = zoom.s === zoom.fit;
    layoutViewport();
    if (fitted) zoom.s = zoom.fit;
    zoomTo(zoom.s);
  });
  document.querySelectorAll("input[name=tool]").forEach((radio) => radio.addEventListener(
    "change", () => {
      viewport.classList.toggle("moving", radio.value === "move" && radio.checked);
      $("tool-hint").textContent = TOOL_HINTS[radio.value];
    }));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("clear").addEventListener("click", clearMarks);
  $("opacity").addEventListener("input", () => {
    $("opacity-value").value = $("opacity").value;
    $("mask-layer").style.opacity = Number($("opacity").value) / 100;
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
    const typing = ["SELECT", "TEXTAREA"].includes(event.target.tagName);
    const pressing = event.target.tagName === "BUTTON" || event.target.type === "checkbox" ||
      event.target.type === "radio";  // Space presses it
    if ((event.ctrlKey || event.metaKey) && (key === "y" || (key === "z" && event.shiftKey))) {
      redo();
    } else if ((event.ctrlKey || event.metaKey) && key === "z") {
      undo();
    } else if (typing || event.ctrlKey || event.metaKey || event.altKey || !state.painting) {
      return;
    } else if (key === " " && !pressing) {  // held: drag to pan
      event.preventDefault();
      zoom.space = true;
      $("viewport").classList.add("moving");
    } else if (key === "+" || key === "=") {
      zoomTo(zoom.s * 2, event.timeStamp);
    } else if (key === "-") {
      zoomTo(zoom.s / 2, event.timeStamp);
    } else if (key === "0") {
      zoomTo(zoom.fit, event.timeStamp);
    } else if (key === "1") {
      oneToOne(event.timeStamp, true);
    } else if (key === "c") {  // held: the original
      showOriginal(true);
    } else if (key === "m") {
      $("show-mask").checked = !$("show-mask").checked;
      $("show-mask").dispatchEvent(new Event("change"));
    } else if (key === "[" || key === "]") {  // the brush's size
      $("size").value = Number($("size").value) + (key === "]" ? 2 : -2);
      showSize();
    }
  });
  window.addEventListener("blur", () => {  // a key's release may happen in another window
    zoom.space = false;
    showOriginal(false);
    $("viewport").classList.toggle(
      "moving", document.querySelector("input[name=tool]:checked").value === "move");
  });
  document.addEventListener("keyup", (event) => {
    if (event.key.toLowerCase() === "c") showOriginal(false);
    if (event.key === " ") {
      zoom.space = false;
      $("viewport").classList.toggle(
        "moving", document.querySelector("input[name=tool]:checked").value === "move");
    }
  });
  $("size").addEventListener("input", showSize);
  $("show-mask").addEventListener("change", () => {
    $("mask-layer").style.visibility = $("show-mask").checked ? "visible" : "hidden";
  });
  $("restore").addEventListener("click", restore);
  $("mask-file").addEventListener("change", loadMask);
  $("learn").addEventListener("click", learnFromMarks);
  $("split").addEventListener("input", setSplit);
  $("real-pixels").addEventListener("change", () => {
    if (!$("real-pixels").checked) $("zoom").hidden = true;
  });
  $("zoom-close").addEventListener("click", () => { $("zoom").hidden = true; });
  $("save").addEventListener("click", save);
  // a folder of one painting (the first run's) opens it; a reload reopens the painting open
  // in this tab before it (its edits come back with it)
  const list = $("folder-list");
  const names = [...list.options].map((o) => o.value).filter((v) => v);
  const before = sessionStorage.getItem("workbench-open");
  const chosen = names.includes(before) ? before : names.length === 1 ? names[0] : null;
  if (chosen) {
    list.value = chosen;
    list.dispatchEvent(new Event("change"));
  }
}

start();
