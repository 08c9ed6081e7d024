import { call, describeError } from "./api.js";
import { viewerTimezone } from "./captime.js";
import { barChart, calendarHeatmap, horizontalBars } from "./charts.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";

const TOP_LENSES = 12;

// The Statistics page: when photos were taken (a year as a calendar, the hours of
// the day, the last months) and with what (cameras and lenses, focal lengths).
// Days and hours are those of this browser's clock.
export class StatsPage {
  constructor(root) {
    this.root = root;
    this.year = null;
  }

  async show() {
    this.root.hidden = false;
    this.zone = encodeURIComponent(viewerTimezone());
    this.yearSelect = h("select", { id: "stats-year", "data-testid": "stats-year",
      onchange: () => this.showYear(Number(this.yearSelect.value)) });
    this.heatmap = section("Days with photos", "stats-heatmap",
      h("label", { class: "stats-year", for: "stats-year" }, "Year ", this.yearSelect));
    this.hours = section("Time of day", "stats-hours");
    this.months = section("Recent months", "stats-months");
    this.lenses = section("Cameras and lenses", "stats-lenses");
    this.focal = section("Focal lengths", "stats-focal");
    this.message = h("p", { class: "page-message", role: "status" });
    clear(this.root).append(h("div", { class: "page page-wide stats-page" },
      h("header", { class: "page-header" }, h("h1", { text: "Statistics" })),
      this.message, this.heatmap.element, this.hours.element, this.months.element,
      this.lenses.element, this.focal.element));

    try {
      const { years = [] } = await this.get("/stats/available-years");
      if (!years.length) {
        this.message.textContent = "No photos yet: statistics appear once the "
          + "library has some.";
      }
      this.yearSelect.replaceChildren(...years.map((year) => h("option",
        { value: String(year), text: String(year) })));
      const year = years.includes(this.year) ? this.year : years[0];
      await Promise.all([year ? this.showYear(year) : null, this.showHours(),
        this.showMonths(), this.showLenses(), this.showFocal()]);
    } catch (error) {
      this.message.classList.add("is-error");
      this.message.textContent = `The statistics could not be loaded. `
        + describeError(error);
    }
  }

  hide() {
    this.root.hidden = true;
  }

  get(path) {
    const join = path.includes("?") ? "&" : "?";
    return call("GET", `${path}${join}viewer_timezone=${this.zone}`);
  }

  async showYear(year) {
    this.year = year;
    this.yearSelect.value = String(year);
    const { data = [] } = await this.get(`/stats/daily-activity?year=${year}`);
    const total = data.reduce((sum, d) => sum + d.count, 0);
    this.heatmap.fill(calendarHeatmap(year, data, { summary: `${plural(total, "item")}`
      + ` on ${plural(data.length, "day")} in ${year}` }),
    `${plural(total, "item")} on ${plural(data.length, "day")}`);
  }

  async showHours() {
    const { data = [] } = await this.get("/stats/time-distribution?type=hourly");
    const byHour = new Map(data.map((d) => [d.value, d.count]));
    const hours = Array.from({ length: 24 }, (_, hour) => ({
      label: String(hour), count: byHour.get(hour) ?? 0,
      title: `${hour}:00–${hour}:59: ${byHour.get(hour) ?? 0}` }));
    const busiest = data.reduce((best, d) => (d.count > (best?.count ?? 0) ? d : best),
      null);
    this.hours.fill(barChart(hours, { labelEvery: 3, summary: busiest
      ? `Most items were taken around ${busiest.label}` : "No items" }));
  }

  async showMonths() {
    const { data = [] } = await this.get("/stats/time-distribution?type=monthly");
    const months = [...data].reverse().map((d) => ({ label: monthLabel(d.label),
      count: d.count, title: `${d.label}: ${d.count}` }));
    this.months.fill(barChart(months, { barWidth: 38,
      summary: `${months.length} months with items` }));
  }

  async showLenses() {
    const { data = [] } = await this.get(`/stats/camera-lens?limit=${TOP_LENSES}`);
    const rows = data.map((d) => ({ label: `${d.camera_model} · ${d.lens_model}`,
      count: d.count }));
    this.lenses.fill(rows.length ? horizontalBars(rows,
      { summary: `${rows.length} camera and lens combinations` }) : null,
    rows.length ? "" : "No photo names both its camera and its lens.");
  }

  async showFocal() {
    const { data = [] } = await this.get("/stats/focal-length");
    const rows = [...data].sort((a, b) => a.focal_length - b.focal_length)
      .map((d) => ({ label: `${trim(d.focal_length)}`, count: d.count,
        title: `${trim(d.focal_length)} mm: ${d.count}` }));
    this.focal.fill(rows.length ? barChart(rows, { summary:
      `${rows.length} focal lengths, in millimetres` }) : null,
    rows.length ? "In millimetres." : "No photo records its focal length.");
  }
}

// "2019-03" as "Mar ’19": short enough to stand under its bar.
function monthLabel(text) {
  const [year, month] = text.split("-").map(Number);
  const name = new Date(Date.UTC(year, month - 1, 1))
    .toLocaleString("en", { month: "short", timeZone: "UTC" });
  return `${name} ’${String(year).slice(2)}`;
}

function trim(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function section(title, testid, ...extra) {
  const note = h("p", { class: "hint" });
  const body = h("div", { class: "chart-box" });
  const element = h("section", { class: "card stats-card", "data-testid": testid },
    h("div", { class: "stats-card-head" }, h("h2", { text: title }), ...extra),
    note, body);
  return {
    element,
    fill(chart, text = "") {
      note.textContent = text;
      clear(body);
      if (chart) body.append(chart);
    },
  };
}
