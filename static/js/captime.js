// Capture times come in two kinds. With capture_offset_minutes the instant is exact
// and we show the wall clock of the place it was taken. Without it the camera wrote
// no zone and the server stored the wall clock as if it were UTC, so reading it back
// in UTC gives exactly what the camera showed. Either way the wall clock ends up in
// the UTC fields of a Date, and every formatter here reads it with timeZone "UTC".

// Date.parse copes with milliseconds, not with the nanoseconds Go-style servers send.
const EXTRA_FRACTION = /(\.\d{3})\d+/;

export function parseInstant(text) {
  if (!text) return null;
  const ms = Date.parse(String(text).replace(EXTRA_FRACTION, "$1"));
  return Number.isNaN(ms) ? null : ms;
}

export function captureClock(asset) {
  const taken = parseInstant(asset.taken_time);
  if (taken !== null) {
    const offset = asset.capture_offset_minutes ?? null;
    const wall = offset === null ? taken : taken + offset * 60_000;
    return { wall: new Date(wall), offsetMinutes: offset, source: "taken" };
  }

  // An upload time is a real instant, best shown in the viewer's own zone.
  const uploaded = parseInstant(asset.upload_time);
  if (uploaded === null) return null;
  const local = uploaded - new Date(uploaded).getTimezoneOffset() * 60_000;
  return { wall: new Date(local), offsetMinutes: null, source: "uploaded" };
}

export function dayKey(asset) {
  const clock = captureClock(asset);
  return clock ? clock.wall.toISOString().slice(0, 10) : "unknown";
}

export function formatOffset(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const absolute = Math.abs(minutes);
  const hours = String(Math.floor(absolute / 60)).padStart(2, "0");
  const rest = String(absolute % 60).padStart(2, "0");
  return `UTC${sign}${hours}:${rest}`;
}

// English everywhere, but an English reader in the US expects month-first dates.
const LOCALE = navigator.language?.startsWith("en") ? navigator.language : "en-GB";

const DAY_FORMAT = new Intl.DateTimeFormat(LOCALE, {
  weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
});
const DATE_FORMAT = new Intl.DateTimeFormat(LOCALE, {
  weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
});
const TIME_FORMAT = new Intl.DateTimeFormat(LOCALE, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  timeZone: "UTC",
});

export function formatDayHeader(key) {
  if (key === "unknown") return "Date unknown";
  return DAY_FORMAT.format(new Date(`${key}T00:00:00Z`));
}

export function formatCaptureTime(asset) {
  const clock = captureClock(asset);
  if (!clock) return "";

  const text = `${DATE_FORMAT.format(clock.wall)}, ${TIME_FORMAT.format(clock.wall)}`;
  if (clock.offsetMinutes === null) return text;
  return `${text} ${formatOffset(clock.offsetMinutes)}`;
}

export function viewerTimezone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
