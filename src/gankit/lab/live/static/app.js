// gankit lab live: draws what the server streams; all training happens in the server (gankit's own GAN).
// Messages from the server: options (once), run (a run's fixed part: real points, view box), frame (the newest
// state), curve (new loss-curve points), ok / error (replies to commands). window.lab exposes the state for tests.
"use strict";

const lab = (window.lab = {
  options: null, run: null, frame: null, curve: [], losses: [], error: null, replies: [],
  drawn: { real: 0, fake: 0, arrows: 0, curve: 0 }, frames: 0, connected: false,
});
const $ = (id) => document.getElementById(id);
const form = $("params");
let socket = null;

// ------------------------------------------------------------------ connection

function connect() {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  socket.onopen = () => { lab.connected = true; setConn("connected", false); };
  socket.onclose = () => {
    lab.connected = false;
    setConn("disconnected: is `gankit lab serve` still running? retrying…", true);
    setTimeout(connect, 1000);
  };
  socket.onmessage = (event) => handle(JSON.parse(event.data));
}

function setConn(text, down) {
  $("conn").textContent = text;
  $("conn").classList.toggle("down", down);
}

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function handle(msg) {
  if (msg.type === "options") fillOptions(msg);
  else if (msg.type === "run") { lab.run = msg; lab.curve = []; lab.losses = []; }
  else if (msg.type === "frame") onFrame(msg);
  else if (msg.type === "curve") onCurve(msg);
  else if (msg.type === "ok") onOk(msg);
  else if (msg.type === "error") showError(msg.message, msg.field);
}

// ------------------------------------------------------------------ settings

function fillOptions(msg) {
  lab.options = msg;
  const names = { none: "none", minibatch: "minibatch discrimination", pacgan2: "PacGAN2", pacgan4: "PacGAN4",
    unrolled: "unrolled GAN (5 steps)" };
  const fill = (name, values, label) => {
    form.elements[name].replaceChildren(...values.map((v) => new Option(label ? label[v] || v : v, v)));
  };
  fill("toy", msg.toys, { "mog-1d": "mog-1d (1-D mixture)" });
  fill("loss", msg.losses);
  fill("remedy", msg.remedies, names);
}

function readField(el) {
  if (el.type !== "number") return el.value;
  const v = Number(el.value);
  return el.value.trim() === "" || !Number.isFinite(v) ? el.value : v;  // the server names what is wrong
}

form.addEventListener("change", (event) => {
  const el = event.target;
  if (!el.name) return;
  send({ cmd: "set", params: { [el.name]: readField(el) } });
});
$("speed").addEventListener("input", (e) => send({ cmd: "speed", steps_per_frame: Number(e.target.value) }));
$("play").addEventListener("click", () => send({ cmd: lab.frame && lab.frame.running ? "pause" : "start" }));
$("step").addEventListener("click", () => send({ cmd: "step" }));
$("reset").addEventListener("click", () => send({ cmd: "reset" }));
$("save").addEventListener("click", () => send({ cmd: "save", dir: $("run-dir").value }));
$("load").addEventListener("click", () => send({ cmd: "load", dir: $("run-dir").value }));

function syncForm(params) {
  for (const [name, value] of Object.entries(params)) {
    const el = form.elements[name];
    if (!el || el === document.activeElement || el.classList.contains("invalid")) continue;
    if (String(el.value) !== String(value)) el.value = value;
  }
}

function clearError() {
  lab.error = null;
  $("error").hidden = true;
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
}

function showError(message, field) {
  lab.error = { message, field };
  $("error").textContent = message;
  $("error").hidden = false;
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
  if (field && form.elements[field]) form.elements[field].classList.add("invalid");
}

function onOk(msg) {
  lab.replies.push(msg);
  clearError();
  if (msg.params) { syncForm(msg.params); if (msg.new_run) status("new run with these settings"); }
  if (msg.cmd === "save") status(`saved step ${msg.step} to ${msg.dir}`);
  if (msg.cmd === "load") status(`opened ${msg.dir} at step ${msg.step}`);
}

function status(text) { $("status").textContent = text; }

// ------------------------------------------------------------------ frames

function fmt(v, digits = 3) { return v === null || v === undefined ? "–" : Number(v).toFixed(digits); }

function onFrame(f) {
  lab.frame = f;
  lab.frames += 1;
  syncForm(f.params);
  $("play").textContent = f.running ? "Pause" : "Start";
  $("m-step").textContent = f.step;
  $("m-speed").textContent = f.running ? fmt(f.steps_per_s, 0) : "paused";
  $("m-loss").textContent = f.params.loss;
  const m = f.metrics;
  $("m-modes").textContent = `${m.modes ?? "–"} / ${lab.run ? lab.run.num_modes : "?"}`;
  $("m-hq").textContent = m.high_quality === null ? "–" : `${(100 * m.high_quality).toFixed(1)} %`;
  $("m-rkl").textContent = fmt(m.reverse_kl);
  $("m-kl").textContent = fmt(m.kl);
  $("m-js").textContent = fmt(m.js);
  $("m-d").textContent = `${fmt(f.d_real, 2)} / ${fmt(f.d_fake, 2)}`;
  $("heat-kind").textContent = f.heat_kind;
  if (f.error) showError(f.error, null);
  drawView();
}

function onCurve(msg) {
  lab.curve.push(...msg.points);
  lab.losses = msg.losses;
  drawCurves();
}

// ------------------------------------------------------------------ drawing

function fitCanvas(canvas) {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  return { w, h, dpr };
}

// D's value v in [0, 1]: purple (judged fake) through white to green (judged real), light enough for the points.
function heatColour(v) {
  const t = v / 255;
  const lo = [215, 189, 230], mid = [255, 255, 255], hi = [191, 227, 195];
  const [a, b, s] = t < 0.5 ? [lo, mid, t / 0.5] : [mid, hi, (t - 0.5) / 0.5];
  return a.map((c, i) => Math.round(c + (b[i] - c) * s));
}

function drawView() {
  const run = lab.run, f = lab.frame;
  const canvas = $("view");
  if (!run || !f || f.run_id !== run.run_id) return;
  const { w, h, dpr } = fitCanvas(canvas);
  const ctx = canvas.getContext("2d");
  const one = run.dim === 1;
  const sx = (x) => ((x - run.lo[0]) / (run.hi[0] - run.lo[0])) * w;
  const sy = (y) => h - ((y - run.lo[1]) / (run.hi[1] - run.lo[1])) * h;
  // 1-D: points are spread over bands (real above, fake below) so that they do not hide each other.
  const jitter = (i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1 + 1) % 1;
  const realY = (i) => h * (0.58 + 0.16 * jitter(i));
  const fakeY = (i) => h * (0.8 + 0.16 * jitter(i + 7));

  // D's output as a heat map (one row of cells for a 1-D toy).
  const [nx, ny] = run.heat_cells;
  const cells = new OffscreenCanvas(nx, ny);
  const image = cells.getContext("2d").createImageData(nx, ny);
  f.heat.forEach((v, k) => {
    const i = k % nx, j = Math.floor(k / nx);
    const o = 4 * ((ny - 1 - j) * nx + i);  // row 0 of the grid is the bottom of the view
    const [r, g, b] = heatColour(v);
    image.data.set([r, g, b, 255], o);
  });
  cells.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(cells, 0, 0, w, h);

  if (one) {  // D(x) as a curve over the top half, with D = 0.5 (undecided) dashed
    ctx.strokeStyle = "rgba(40,40,40,0.35)";
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    ctx.beginPath(); ctx.moveTo(0, h * 0.29); ctx.lineTo(w, h * 0.29); ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = "rgba(40,40,40,0.8)";
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath();
    f.heat.forEach((v, i) => {
      const x = (i / (nx - 1)) * w, y = h * (0.5 - 0.42 * (v / 255));
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = "#444";
    ctx.font = `${12 * dpr}px sans-serif`;
    ctx.fillText("D(x)", 6 * dpr, 16 * dpr);
    ctx.fillText("0.5", 6 * dpr, h * 0.29 - 4 * dpr);
    ctx.fillText("real", 6 * dpr, h * 0.57);
    ctx.fillText("G(z)", 6 * dpr, h * 0.79);
  }

  const dot = (x, y, colour) => {
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(x, y, 2.4 * dpr, 0, 2 * Math.PI);
    ctx.fill();
  };
  let real = 0, fake = 0, arrows = 0;
  const d = run.dim;
  for (let i = 0; i * d < run.real.length; i++) {
    dot(sx(run.real[i * d]), one ? realY(i) : sy(run.real[i * d + 1]), "rgba(26,152,80,0.75)");
    real++;
  }
  for (let i = 0; i * d < f.fake.length; i++) {
    dot(sx(f.fake[i * d]), one ? fakeY(i) : sy(f.fake[i * d + 1]), "rgba(118,42,131,0.8)");
    fake++;
  }
  // G's gradient: arrows scaled so that the 95th-percentile length is 6% of the view.
  const norms = [];
  for (let i = 0; i * d < f.grad.length; i++) norms.push(Math.hypot(f.grad[i * d], one ? 0 : f.grad[i * d + 1]));
  const ref = [...norms].sort((a, b) => a - b)[Math.floor(0.95 * (norms.length - 1))] || 1;
  const scale = (0.06 * Math.min(w, h)) / ref;
  ctx.strokeStyle = "rgba(50,50,50,0.7)";
  ctx.fillStyle = "rgba(50,50,50,0.7)";
  ctx.lineWidth = 1 * dpr;
  for (let i = 0; i < norms.length; i++) {
    const len = Math.min(norms[i], 1.5 * ref) * scale;
    if (!(len > 0.5)) continue;
    const x0 = sx(f.fake[i * d]), y0 = one ? fakeY(i) : sy(f.fake[i * d + 1]);
    const ux = f.grad[i * d] / norms[i], uy = one ? 0 : -f.grad[i * d + 1] / norms[i];  // canvas y points down
    const x1 = x0 + ux * len, y1 = y0 + uy * len, head = Math.min(5 * dpr, len / 2);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - head * (ux - 0.5 * uy), y1 - head * (uy + 0.5 * ux));
    ctx.lineTo(x1 - head * (ux + 0.5 * uy), y1 - head * (uy - 0.5 * ux));
    ctx.fill();
    arrows++;
  }
  lab.drawn = { ...lab.drawn, real, fake, arrows };
  canvas.dataset.real = real;
  canvas.dataset.fake = fake;
  canvas.dataset.arrows = arrows;
}

function drawCurves() {
  const canvas = $("curves");
  const { w, h, dpr } = fitCanvas(canvas);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  const pts = lab.curve;
  lab.drawn.curve = pts.length;
  canvas.dataset.points = pts.length;
  if (!pts.length) return;
  const pad = { l: 38 * dpr, r: 6 * dpr, t: 14 * dpr, b: 16 * dpr };
  const s0 = pts[0][0], s1 = Math.max(pts[pts.length - 1][0], s0 + 1);
  // The y range covers the central 98% of the values, so one spike does not flatten the curves.
  const values = pts.flatMap((p) => [p[1], p[2]]).filter(Number.isFinite).sort((a, b) => a - b);
  let lo = values[Math.floor(0.01 * (values.length - 1))], hi = values[Math.ceil(0.99 * (values.length - 1))];
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const X = (s) => pad.l + ((s - s0) / (s1 - s0)) * (w - pad.l - pad.r);
  const Y = (v) => pad.t + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - pad.t - pad.b);
  ctx.font = `${10 * dpr}px sans-serif`;
  ctx.fillStyle = "#57606a";
  ctx.strokeStyle = "#e5e7eb";
  ctx.lineWidth = 1;
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath(); ctx.moveTo(pad.l, Y(v)); ctx.lineTo(w - pad.r, Y(v)); ctx.stroke();
    ctx.fillText(v.toFixed(2), 2 * dpr, Y(v) + 3 * dpr);
  }
  ctx.fillText(`step ${s0}`, pad.l, h - 3 * dpr);
  const end = `${s1}`;
  ctx.fillText(end, w - pad.r - ctx.measureText(end).width, h - 3 * dpr);
  // Where the loss changed: a dashed line and the new loss's name.
  ctx.setLineDash([4 * dpr, 3 * dpr]);
  ctx.strokeStyle = "#8c959f";
  for (const [step, name] of lab.losses) {
    if (step > s0) {
      ctx.beginPath(); ctx.moveTo(X(step), pad.t); ctx.lineTo(X(step), h - pad.b); ctx.stroke();
    }
    const label = Math.min(X(Math.max(step, s0)) + 3 * dpr, w - ctx.measureText(name).width - pad.r);
    ctx.fillText(name, label, pad.t - 3 * dpr);
  }
  ctx.setLineDash([]);
  for (const [k, colour] of [[1, "#2166ac"], [2, "#d6604d"]]) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[k])) : ctx.moveTo(X(p[0]), Y(p[k]))));
    ctx.stroke();
  }
}

window.addEventListener("resize", () => { drawView(); drawCurves(); });
connect();
