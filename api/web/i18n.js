// Interface text: Vietnamese by default, English on request (remembered on this device).
const TEXT = {
  vi: {
    title: "Camera an ninh", login_title: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu",
    login: "Đăng nhập", logout: "Đăng xuất", fullscreen: "Toàn màn hình", events: "Sự kiện",
    back: "← Tất cả camera", live: "Trực tiếp", playback: "Xem lại", day: "Ngày", clip: "Trích xuất đoạn phim",
    from: "Từ", to: "Đến", download: "Tải về MP4", offline: "Mất kết nối", connecting: "Đang kết nối",
    night: "Hồng ngoại", tamper: "Bị che / xoay", alert: "Có chuyển động", bad_login: "Sai tên đăng nhập hoặc mật khẩu",
    too_many: "Đăng nhập sai quá nhiều lần, hãy thử lại sau {seconds} giây", no_footage: "Không có dữ liệu ghi hình",
    gaps: "Khoảng không ghi hình", no_events: "Chưa có sự kiện", recorded: "Đã ghi",
    motion: "Chuyển động", night_mode: "Chuyển sang hồng ngoại", day_mode: "Chuyển sang ban ngày",
    tamper_covered: "Camera bị che", tamper_moved: "Camera bị xoay", tamper_defocus: "Camera bị mờ",
    video_loss: "Mất tín hiệu", camera_offline: "Camera mất kết nối quá lâu",
    camera_tampered: "Camera bị che / xoay / mờ quá lâu", range_error: "Thời điểm kết thúc phải sau thời điểm bắt đầu",
    cameras_page: "Quản lý camera", add_camera: "Thêm camera", edit_camera: "Sửa camera", cam_name: "Mã camera",
    cam_title: "Tên hiển thị", cam_location: "Vị trí", record_url: "Địa chỉ luồng ghi",
    detect_url: "Luồng phụ để phát hiện (tuỳ chọn)", enabled: "Đang bật", add: "Thêm", save: "Lưu", cancel: "Huỷ",
    status: "Trạng thái", storage: "Lưu trữ", online: "Trực tuyến", disabled: "Đã tắt", edit: "Sửa", enable: "Bật",
    disable: "Tắt", remove: "Xoá", keep_url: "Để trống để giữ địa chỉ hiện tại: ",
    confirm_remove: "Xoá camera {name}? Camera sẽ ngừng ghi; phim đã ghi vẫn được giữ đến khi hết hạn lưu trữ.",
    add_failed: "Không thêm được camera", save_failed: "Không lưu được thay đổi", remove_failed: "Không xoá được camera",
    free_space: "Ổ đĩa còn trống {free} / {total}", kept: "giữ {days}", recorded_for: "đã ghi {days}",
    days: "ngày", hours: "giờ", minutes: "phút", recording_error: "Lỗi ghi", admins_only: "Chỉ quản trị viên mới quản lý được camera.",
    no_cameras: "Chưa có camera nào", transcoded: "Đã chuyển mã H.265 → H.264",
    change_title: "Đổi mật khẩu", change_hint: "Mật khẩu này do hệ thống tạo khi cài đặt. Hãy đặt mật khẩu mới để tiếp tục.",
    new_password: "Mật khẩu mới", new_password_again: "Nhập lại mật khẩu mới", change_password: "Đổi mật khẩu",
    passwords_differ: "Hai mật khẩu không khớp",
    discover_title: "Camera ONVIF trong mạng", discover: "Tìm camera trong mạng (ONVIF)",
    onvif_user: "Tên đăng nhập của camera", onvif_password: "Mật khẩu của camera",
    onvif_address: "Chỉ hỏi địa chỉ này (tuỳ chọn)", searching: "Đang tìm camera…",
    found_some: "Tìm thấy {count} camera", found_none: "Không có camera nào trả lời",
    discover_failed: "Không tìm được camera", found_camera: "Camera tìm thấy", streams: "Luồng video",
    main_stream: "Luồng chính", sub_stream: "Luồng phụ", added: "Đã thêm",
    reason_login: "Camera từ chối tên đăng nhập hoặc mật khẩu", reason_timeout: "Camera không trả lời kịp",
    reason_not_onvif: "Không phải camera ONVIF", reason_unreachable: "Không kết nối được tới camera",
    reason_no_login: "Nhập tên đăng nhập và mật khẩu của camera để đọc các luồng video",
    health_page: "Tình trạng camera", worst_first: "Camera kém nhất ở đầu",
    uptime: "Thời gian hoạt động", outages: "Mất hình", tampering: "Bị che / xoay / mờ", last_picture: "Hình ảnh cuối",
    last_n_days: "{n} ngày qua", times: "{n} lần, {time}", none: "không", no_data: "chưa có dữ liệu",
    never_seen: "chưa có hình", ago: "cách đây {time}", seconds: "giây",
    sound_on: "Bật tiếng", sound_off: "Tắt tiếng",
  },
  en: {
    title: "Security cameras", login_title: "Log in", username: "User name", password: "Password",
    login: "Log in", logout: "Log out", fullscreen: "Full screen", events: "Events",
    back: "← All cameras", live: "Live", playback: "Playback", day: "Day", clip: "Export a clip",
    from: "From", to: "To", download: "Download MP4", offline: "Offline", connecting: "Connecting",
    night: "Infrared", tamper: "Covered / turned", alert: "Motion", bad_login: "Wrong user name or password",
    too_many: "Too many failed logins, try again in {seconds} s", no_footage: "No footage",
    gaps: "Not recorded", no_events: "No events yet", recorded: "Recorded",
    motion: "Motion", night_mode: "Switched to infrared", day_mode: "Switched to day",
    tamper_covered: "Camera covered", tamper_moved: "Camera turned away", tamper_defocus: "Camera blurred",
    video_loss: "Video lost", camera_offline: "Camera offline too long",
    camera_tampered: "Camera covered / turned / blurred too long", range_error: "The end must be after the start",
    cameras_page: "Cameras", add_camera: "Add a camera", edit_camera: "Edit camera", cam_name: "Camera id",
    cam_title: "Display name", cam_location: "Location", record_url: "Recording stream URL",
    detect_url: "Sub stream for detection (optional)", enabled: "Enabled", add: "Add camera", save: "Save",
    cancel: "Cancel", status: "Status", storage: "Storage", online: "Online", disabled: "Disabled", edit: "Edit",
    enable: "Enable", disable: "Disable", remove: "Remove", keep_url: "Leave empty to keep the current URL: ",
    confirm_remove: "Remove camera {name}? It stops recording; its footage stays until retention deletes it.",
    add_failed: "The camera was not added", save_failed: "The change was not saved", remove_failed: "The camera was not removed",
    free_space: "Disk free {free} of {total}", kept: "kept {days}", recorded_for: "recorded {days}",
    days: "days", hours: "hours", minutes: "min", recording_error: "Recording error", admins_only: "Only administrators can manage cameras.",
    no_cameras: "No cameras yet", transcoded: "Transcoded H.265 → H.264",
    change_title: "Change your password", change_hint: "This password was generated at installation. Choose a new one to continue.",
    new_password: "New password", new_password_again: "New password again", change_password: "Change password",
    passwords_differ: "The two passwords differ",
    discover_title: "ONVIF cameras on the network", discover: "Find cameras on the network (ONVIF)",
    onvif_user: "Camera user name", onvif_password: "Camera password",
    onvif_address: "Ask this address only (optional)", searching: "Looking for cameras…",
    found_some: "Cameras found: {count}", found_none: "No camera answered",
    discover_failed: "The search failed", found_camera: "Camera found", streams: "Video streams",
    main_stream: "Main stream", sub_stream: "Sub stream", added: "Added",
    reason_login: "The camera refused the user name or password", reason_timeout: "The camera did not answer in time",
    reason_not_onvif: "Not an ONVIF camera", reason_unreachable: "Could not connect to the camera",
    reason_no_login: "Give the camera's user name and password to read its streams",
    health_page: "Camera health", worst_first: "Worst camera first",
    uptime: "Uptime", outages: "Outages", tampering: "Covered / turned / blurred", last_picture: "Last picture",
    last_n_days: "last {n} days", times: "{n} times, {time}", none: "none", no_data: "no data",
    never_seen: "no picture yet", ago: "{time} ago", seconds: "s",
    sound_on: "Sound on", sound_off: "Sound off",
  },
};

let language = localStorage.getItem("nvr-language") === "en" ? "en" : "vi";

export function t(key, values = {}) {
  const text = TEXT[language][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);
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
