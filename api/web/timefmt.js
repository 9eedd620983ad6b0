// Times shown in the station's time zone, whatever the browser's own zone is.
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
