// Times shown in the station's time zone, whatever the browser's own zone is, and times typed by people.
import { t } from "./i18n.js";

let zone = "Asia/Ho_Chi_Minh";

export function setZone(name) {
  zone = name;
}

export function clock(ms) {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  }).format(new Date(ms));
}

export function today() {
  // en-CA formats as YYYY-MM-DD
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
}

// The station's wall clock at `ms`, as numbers.
export function zonedParts(ms) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
    second: "numeric", hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const value = (type) => Number(parts.find((part) => part.type === type).value);
  return { year: value("year"), month: value("month"), day: value("day"), hour: value("hour"),
    minute: value("minute"), second: value("second") };
}

// The instant at which the station's wall clock reads the given date and time.
export function fromZoned(year, month, day, hour = 0, minute = 0, second = 0) {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const offset = (ms) => {
    const p = zonedParts(ms);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
  };
  const guess = wall - offset(wall);
  return wall - offset(guess); // right across a change of offset too
}

export function dayStart(ms) {
  const p = zonedParts(ms);
  return fromZoned(p.year, p.month, p.day);
}

// `ms` to the minute, as a time field of a search form is filled ("2026-11-22 14:30"; `parseTyped` reads it back).
export function localInput(ms) {
  return dateTime(ms).slice(0, 16);
}

// The time alone today, the date and time otherwise.
export function when(ms) {
  return dateTime(ms).startsWith(today()) ? clock(ms) : dateTime(ms);
}

// "2026-11-22 14:30:05" in the station's zone.
export function dateTime(ms) {
  const p = zonedParts(ms);
  const two = (n) => String(n).padStart(2, "0");
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
}

// A time as people type it: "14:30", "14:30:15", "2026-11-22 14:30", "22/11/2026 14:30", "22/11 14:30";
// without a date, the day of `referenceMs`. Null when it is not a time.
export function parseTyped(text, referenceMs) {
  const match = text.trim().match(
    /^(?:(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?)[ T]+)?(\d{1,2})[:h](\d{2})(?::(\d{2}))?$/i);
  if (!match) return null;
  const reference = zonedParts(referenceMs);
  const [year, month, day] = match[1]
    ? [match[1], match[2], match[3]].map(Number)
    : match[4] ? [Number(match[6] || reference.year), Number(match[5]), Number(match[4])]
      : [reference.year, reference.month, reference.day];
  const [hour, minute, second] = [match[7], match[8], match[9] || 0].map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate(); // in that month (0: the last day of the one before)
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return null;
  return fromZoned(year, month, day, hour, minute, second);
}

// A length of time in the largest unit that reads well (days, hours or minutes).
export function duration(days) {
  if (days >= 1) return `${days.toFixed(1)} ${t("days")}`;
  if (days >= 1 / 24) return `${(days * 24).toFixed(1)} ${t("hours")}`;
  return `${Math.round(days * 1440)} ${t("minutes")}`;
}

// What is wrong with a typed range (instants or null), in the page's language, or "" when nothing is.
export function rangeProblem(start, end, maxDays) {
  if (start === null || end === null) return t("bad_time");
  if (end <= start) return t("range_error");
  if (end - start > maxDays * 86400000) return t("range_too_long", { days: maxDays });
  return "";
}
