// Small charts drawn as SVG, with no library: bars, horizontal bars and a calendar
// heatmap. Every mark carries a <title> (its exact figure on hover) and each chart
// a text summary for screen readers.

const SVG_NS = "http://www.w3.org/2000/svg";
const LEVELS = 4;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  node.append(...children);
  return node;
}

function titled(node, text) {
  node.append(svg("title", {}, text));
  return node;
}

// Vertical bars, one per datum, labels under every `labelEvery`-th bar.
// data: [{ label, count, title? }]
export function barChart(data, { summary, height = 160, labelEvery = 1,
  barWidth = 22 } = {}) {
  const gap = 6;
  const top = 16;
  const bottom = 22;
  const width = Math.max(data.length * (barWidth + gap), 120);
  const max = Math.max(1, ...data.map((d) => d.count));
  const chart = svg("svg", { class: "chart chart-bars", role: "img",
    "aria-label": summary, viewBox: `0 0 ${width} ${height}`, width,
    height, preserveAspectRatio: "xMinYMin meet" });

  const usable = height - top - bottom;
  for (const [index, datum] of data.entries()) {
    const x = index * (barWidth + gap) + gap / 2;
    const barHeight = datum.count ? Math.max(2, (datum.count / max) * usable) : 0;
    const y = top + usable - barHeight;
    chart.append(titled(svg("rect", { class: "chart-bar", x, y, width: barWidth,
      height: barHeight, rx: 2 }), datum.title ?? `${datum.label}: ${datum.count}`));
    if (datum.count) {
      chart.append(svg("text", { class: "chart-value", x: x + barWidth / 2,
        y: y - 3, "text-anchor": "middle" }, String(datum.count)));
    }
    if (index % labelEvery === 0) {
      chart.append(svg("text", { class: "chart-label", x: x + barWidth / 2,
        y: height - 6, "text-anchor": "middle" }, datum.label));
    }
  }
  return chart;
}

// One bar per row, its label on the left, for names too long to stand under bars.
// rows: [{ label, count }]
export function horizontalBars(rows, { summary } = {}) {
  const rowHeight = 24;
  const labelWidth = 260;
  const barSpace = 260;
  const width = labelWidth + barSpace + 50;
  const height = Math.max(rows.length, 1) * rowHeight;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const chart = svg("svg", { class: "chart chart-hbars", role: "img",
    "aria-label": summary, viewBox: `0 0 ${width} ${height}`, width, height });

  for (const [index, row] of rows.entries()) {
    const y = index * rowHeight;
    const barWidth = Math.max(2, (row.count / max) * barSpace);
    chart.append(
      svg("text", { class: "chart-label", x: labelWidth - 8, y: y + 16,
        "text-anchor": "end" }, clip(row.label, 40)),
      titled(svg("rect", { class: "chart-bar", x: labelWidth, y: y + 4,
        width: barWidth, height: rowHeight - 8, rx: 2 }), `${row.label}: ${row.count}`),
      svg("text", { class: "chart-value", x: labelWidth + barWidth + 6, y: y + 16 },
        String(row.count)));
  }
  return chart;
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

// A year as weeks (columns, Monday first) of days (rows); darker is busier. The
// shades split the busy days into four steps by count, so a few very full days do
// not wash out all the others.
// days: [{ date: "YYYY-MM-DD", count }]
export function calendarHeatmap(year, days, { summary } = {}) {
  const cell = 13;
  const gap = 3;
  const left = 28;
  const top = 18;
  const counts = new Map(days.map((d) => [d.date, d.count]));
  const steps = thresholds(days.map((d) => d.count));
  const first = Date.UTC(year, 0, 1);
  const firstWeekday = (new Date(first).getUTCDay() + 6) % 7;
  const dayCount = (Date.UTC(year + 1, 0, 1) - first) / 86_400_000;
  const weeks = Math.ceil((dayCount + firstWeekday) / 7);
  const width = left + weeks * (cell + gap);
  const height = top + 7 * (cell + gap);
  const chart = svg("svg", { class: "chart chart-heatmap", role: "img",
    "aria-label": summary, viewBox: `0 0 ${width} ${height}`, width, height });

  for (const [row, name] of [[0, "Mon"], [2, "Wed"], [4, "Fri"]]) {
    chart.append(svg("text", { class: "chart-label", x: 0,
      y: top + row * (cell + gap) + cell - 2 }, name));
  }
  for (let day = 0; day < dayCount; day += 1) {
    const date = new Date(first + day * 86_400_000);
    const key = date.toISOString().slice(0, 10);
    const slot = day + firstWeekday;
    const x = left + Math.floor(slot / 7) * (cell + gap);
    const y = top + (slot % 7) * (cell + gap);
    if (date.getUTCDate() === 1) {
      chart.append(svg("text", { class: "chart-label", x, y: top - 6 },
        date.toLocaleString("en", { month: "short", timeZone: "UTC" })));
    }
    const count = counts.get(key) ?? 0;
    const level = count ? 1 + steps.filter((limit) => count > limit).length : 0;
    chart.append(titled(svg("rect", { class: `heat heat-${level}`, x, y,
      width: cell, height: cell, rx: 2, "data-date": key, "data-count": count }),
    `${key}: ${count} item${count === 1 ? "" : "s"}`));
  }
  return chart;
}

function thresholds(values) {
  const sorted = values.filter((v) => v > 0).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const out = [];
  for (let step = 1; step < LEVELS; step += 1) {
    out.push(sorted[Math.floor((sorted.length * step) / LEVELS)] ?? sorted.at(-1));
  }
  return out;
}
