// Small line charts drawn as inline SVG: one polyline per series over the same time window, scaled
// to the largest value shown. Hand-written: a few dozen points need no charting library.

import { h, svg } from "./dom.js";

const WIDTH = 300;
const HEIGHT = 70;

/**
 * A chart of `series` (`[{name, points: [[timeMs, value], ...]}]`) over the last `windowMs`,
 * with a legend naming each series and its latest value.
 */
export function lineChart(title, series, windowMs, unit = "") {
  const now = Date.now();
  const max = Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => v)));
  // Until the window is full, the x axis spans what has been seen (at least 20 s), so a fresh
  // console shows its lines across the chart rather than squeezed at the right edge.
  const earliest = Math.min(now, ...series.flatMap((s) => s.points.map(([t]) => t)));
  const span = Math.min(windowMs, Math.max(20_000, now - earliest));
  const x = (t) => ((t - (now - span)) / span) * WIDTH;
  const y = (v) => HEIGHT - 4 - (v / max) * (HEIGHT - 8);
  const lines = series.map((s, i) => {
    const shown = s.points.filter(([t]) => t >= now - span);
    const last = shown[shown.length - 1];
    return svg("g", { class: `s${i % 6}` },
      svg("polyline", { points: shown.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ") }),
      // The latest value as a dot: visible from the first sample on.
      last ? svg("circle", { cx: x(last[0]).toFixed(1), cy: y(last[1]).toFixed(1), r: 2.5 }) : null);
  });
  const latest = (s) => (s.points.length ? s.points[s.points.length - 1][1] : 0);
  return h("figure", { class: "chart-figure" },
    h("figcaption", {}, h("strong", {}, title), h("span", { class: "muted" }, ` (max ${format(max)}${unit}, last ${span >= 60_000 ? `${Math.round(span / 60_000)} min` : `${Math.round(span / 1000)} s`})`)),
    svg("svg", { class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `${title}: ${series.map((s) => `${s.name} ${format(latest(s))}${unit}`).join(", ")}` }, lines),
    h("div", { class: "legend" }, series.map((s, i) => h("span", { class: `key s${i % 6}` }, `${s.name}: ${format(latest(s))}${unit}`))));
}

function format(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
