// Drawing for the nnscratch playground: heatmaps, points, links, loss curve, histograms, space view.
// Plain canvas and SVG, no library. Colours as TensorFlow Playground: orange < 0 < blue.
"use strict";

const Draw = (() => {
  const NEG = [245, 147, 34], POS = [8, 119, 189], MID = [232, 234, 235];
  const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [170, 60, 180], [220, 50, 50],
                         [120, 120, 120], [0, 170, 170], [150, 110, 40], [240, 90, 170], [90, 90, 220]];

  function decodeInt8(b64) {
    const bytes = atob(b64), out = new Int8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = (bytes.charCodeAt(i) << 24) >> 24;
    return out;
  }
  function decodeUint8(b64) {
    const bytes = atob(b64), out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
    return out;
  }
  function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]; }
  function diverging(v) { return v < 0 ? mix(MID, NEG, -v) : mix(MID, POS, v); }
  function css(rgb, alpha = 1) { return `rgba(${rgb[0] | 0},${rgb[1] | 0},${rgb[2] | 0},${alpha})`; }
  function classColour(k) { return CLASS_COLOURS[k % CLASS_COLOURS.length]; }

  // A square map of n x n cells (values -127..127 as int8) onto a canvas.
  const scratch = document.createElement("canvas");
  function squareMap(canvas, rgbAt, n) {
    scratch.width = scratch.height = n;
    const sctx = scratch.getContext("2d"), img = sctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const c = rgbAt(i);
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  }

  function valueMap(canvas, b64, discretize) {
    const v = decodeInt8(b64), n = Math.round(Math.sqrt(v.length));
    squareMap(canvas, i => {
      const x = v[i] / 127;
      return discretize ? diverging(x < 0 ? -0.75 : 0.75) : diverging(x);
    }, n);
  }

  function output(canvas, out, discretize) {
    if (out.kind === "value") return valueMap(canvas, out.value, discretize);
    const winner = decodeUint8(out.winner), conf = decodeInt8(out.confidence);
    const n = Math.round(Math.sqrt(winner.length));
    squareMap(canvas, i => mix(MID, classColour(winner[i]), discretize ? 0.75 : Math.max(0, conf[i] / 127)), n);
  }

  function points(canvas, data, which) {
    const ctx = canvas.getContext("2d"), [lo, hi] = data.domain, s = canvas.width / (hi - lo);
    for (const part of which) {
      const set = data[part];
      for (let i = 0; i < set.x.length; i++) {
        const px = (set.x[i][0] - lo) * s, py = (hi - set.x[i][1]) * s;
        const c = data.regression ? diverging(Math.max(-1, Math.min(1, set.y[i]))) : classColour(set.y[i]);
        ctx.beginPath(); ctx.arc(px, py, 3, 0, 2 * Math.PI);
        ctx.fillStyle = css(c); ctx.fill();
        ctx.lineWidth = 1; ctx.strokeStyle = part === "train" ? "#fff" : "#000"; ctx.stroke();
      }
    }
  }

  // Links between neuron boxes: colour by sign, width by magnitude (scaled to the largest).
  function links(svg, nodes, matrices, isGradient) {
    const box = svg.getBoundingClientRect();
    const ends = nodes.map(column => column.map(node => {  // measured once per node, not once per link
      const r = node.getBoundingClientRect();
      return { left: r.left - box.left, right: r.right - box.left, y: r.top + r.height / 2 - box.top };
    }));
    let maxAbs = 1e-12;
    for (const m of matrices) for (const row of m) for (const w of row) maxAbs = Math.max(maxAbs, Math.abs(w));
    const scale = isGradient ? 6 / maxAbs : 1.5;
    const parts = [];
    matrices.forEach((m, layer) => {
      const from = ends[layer], to = ends[layer + 1];
      if (!from || !to) return;
      m.forEach((row, i) => row.forEach((w, j) => {
        if (!from[i] || !to[j]) return;
        const x1 = from[i].right, y1 = from[i].y, x2 = to[j].left, y2 = to[j].y, mx = (x1 + x2) / 2;
        const width = Math.min(8, Math.max(0.3, Math.abs(w) * scale));
        const colour = css(w < 0 ? NEG : POS, isGradient ? 0.9 : 0.75);
        parts.push(`<path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}" stroke="${colour}" ` +
                   `stroke-width="${width.toFixed(2)}" fill="none"${isGradient ? ' stroke-dasharray="4 2"' : ""}/>`);
      }));
    });
    svg.innerHTML = parts.join("");
  }

  function lossCurve(canvas, history) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const values = history.train.concat(history.test).filter(v => v !== null && isFinite(v));
    if (!values.length) return;
    const top = Math.max(...values) * 1.05 || 1, n = history.step.length;
    const series = [[history.train, "#999"], [history.test, "#222"]];
    for (const [ys, colour] of series) {
      ctx.beginPath(); ctx.strokeStyle = colour; ctx.lineWidth = 1.5;
      ys.forEach((y, i) => {
        if (y === null) return;
        const px = n > 1 ? (i / (n - 1)) * (w - 2) + 1 : 1, py = h - (y / top) * (h - 2) - 1;
        i ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
      });
      ctx.stroke();
    }
  }

  function histogram(canvas, hist, label) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const top = Math.max(1, ...hist.counts), bw = w / hist.counts.length;
    ctx.fillStyle = "#183d4e";
    hist.counts.forEach((c, i) => { const bh = (c / top) * (h - 12); ctx.fillRect(i * bw, h - bh, bw - 1, bh); });
    ctx.fillStyle = "#666"; ctx.font = "10px sans-serif";
    ctx.fillText(hist.lo.toFixed(1), 1, 9);
    const hiText = hist.hi.toFixed(1);
    ctx.fillText(hiText, w - ctx.measureText(hiText).width - 1, 9);
  }

  // The data and the input square's grid lines, mapped into a 2-unit hidden layer's space.
  function space(canvas, view, regression) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const visit = p => { x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]); };
    view.lines.forEach(line => line.forEach(visit)); view.points.forEach(visit);
    const span = Math.max(x1 - x0, y1 - y0, 1e-6) * 1.08, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const X = u => (u - cx) / span * w + w / 2, Y = v => h / 2 - (v - cy) / span * h;
    ctx.strokeStyle = "rgba(80,80,80,0.45)"; ctx.lineWidth = 1;
    for (const line of view.lines) {
      ctx.beginPath(); line.forEach((p, i) => i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))); ctx.stroke();
    }
    view.points.forEach((p, i) => {
      const c = regression ? diverging(Math.max(-1, Math.min(1, view.labels[i]))) : classColour(view.labels[i]);
      ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 2.5, 0, 2 * Math.PI); ctx.fillStyle = css(c); ctx.fill();
    });
  }

  return { valueMap, output, points, links, lossCurve, histogram, space, decodeInt8 };
})();
