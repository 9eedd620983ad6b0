// Interface text: Vietnamese by default, English on request (remembered on this device).
const TEXT = {
  vi: {
    title: "Camera an ninh", login_title: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu",
    login: "Đăng nhập", logout: "Đăng xuất", fullscreen: "Toàn màn hình", events: "Sự kiện",
    back: "← Tất cả camera", live: "Trực tiếp", playback: "Xem lại", day: "Ngày", clip: "Trích xuất đoạn phim",
    from: "Từ", to: "Đến", download: "Tải về MP4", offline: "Mất kết nối", connecting: "Đang kết nối",
    night: "Hồng ngoại", tamper: "Bị che / xoay", alert: "Có chuyển động", bad_login: "Sai tên đăng nhập hoặc mật khẩu",
    too_many: "Đăng nhập sai quá nhiều lần, hãy thử lại sau", no_footage: "Không có dữ liệu ghi hình",
    gaps: "Khoảng không ghi hình", no_events: "Chưa có sự kiện", recorded: "Đã ghi",
    motion: "Chuyển động", night_mode: "Chuyển sang hồng ngoại", day_mode: "Chuyển sang ban ngày",
    tamper_covered: "Camera bị che", tamper_moved: "Camera bị xoay", tamper_defocus: "Camera bị mờ",
    video_loss: "Mất tín hiệu", range_error: "Thời điểm kết thúc phải sau thời điểm bắt đầu",
  },
  en: {
    title: "Security cameras", login_title: "Log in", username: "User name", password: "Password",
    login: "Log in", logout: "Log out", fullscreen: "Full screen", events: "Events",
    back: "← All cameras", live: "Live", playback: "Playback", day: "Day", clip: "Export a clip",
    from: "From", to: "To", download: "Download MP4", offline: "Offline", connecting: "Connecting",
    night: "Infrared", tamper: "Covered / turned", alert: "Motion", bad_login: "Wrong user name or password",
    too_many: "Too many failed logins, try again later", no_footage: "No footage",
    gaps: "Not recorded", no_events: "No events yet", recorded: "Recorded",
    motion: "Motion", night_mode: "Switched to infrared", day_mode: "Switched to day",
    tamper_covered: "Camera covered", tamper_moved: "Camera turned away", tamper_defocus: "Camera blurred",
    video_loss: "Video lost", range_error: "The end must be after the start",
  },
};

let language = localStorage.getItem("nvr-language") === "en" ? "en" : "vi";

export function t(key) {
  return TEXT[language][key] ?? key;
}

export function currentLanguage() {
  return language;
}

export function applyTexts(root = document) {
  document.documentElement.lang = language;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
}

export function toggleLanguage() {
  language = language === "vi" ? "en" : "vi";
  localStorage.setItem("nvr-language", language);
  applyTexts();
}
