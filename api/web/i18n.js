// Interface text: Vietnamese by default, English on request (remembered on this device).
const TEXT = {
  vi: {
    title: "Camera an ninh", login_title: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu",
    login: "Đăng nhập", logout: "Đăng xuất", fullscreen: "Toàn màn hình", events: "Sự kiện",
    back: "← Tất cả camera", live: "Trực tiếp", playback: "Xem lại", day: "Ngày", clip: "Trích xuất đoạn phim",
    from: "Từ", to: "Đến", download: "Tải về MP4", offline: "Mất kết nối", connecting: "Đang kết nối",
    night: "Hồng ngoại", tamper: "Bị che / xoay", alert: "Có chuyển động", bad_login: "Sai tên đăng nhập hoặc mật khẩu",
    too_many: "Đăng nhập sai quá nhiều lần, hãy thử lại sau {seconds} giây", no_footage: "Không có dữ liệu ghi hình",
    no_events: "Chưa có sự kiện",
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
        layout: "Bố cục", page_of: "Trang {page}/{pages}", prev_page: "Trang trước", next_page: "Trang sau",
    alert_on: "Âm báo", alert_off: "Đã tắt âm", mute: "Tắt / bật âm báo", all_events: "Tất cả sự kiện →",
    step_back: "Lùi một khung hình", step_forward: "Tới một khung hình", play: "Phát", pause: "Tạm dừng",
    speed: "Tốc độ", jump: "Đến", jump_hint: "Nhập thời điểm, ví dụ 14:30:00 hoặc 22/11 14:30",
    bad_time: "Không hiểu thời điểm này; ví dụ 14:30:00 hoặc 22/11/2026 14:30", timeline: "Dòng thời gian",
    zoom_in: "Phóng to", zoom_out: "Thu nhỏ", loading: "Đang tải…", not_recorded: "Không ghi hình: {reason}",
    playback_title: "Xem lại nhiều camera", choose_cameras: "Chọn camera", at_most: "Tối đa {n} camera cùng lúc",
    show: "Xem", whole_area: "Cả khu vực", no_area: "Chưa xếp khu vực", nearby: "Thêm các camera cùng khu vực",
    acknowledge: "Xác nhận đã xem", ack_note: "Ghi chú (tuỳ chọn)", acked_by: "Đã xác nhận bởi {by} lúc {at}",
    ack_failed: "Không xác nhận được", camera: "Camera", type: "Loại", all: "Tất cả",
    unacked_only: "Chỉ sự kiện chưa xác nhận", search: "Tìm", area: "Khu vực",
    cannot_play: "Trình duyệt không phát được đoạn phim của camera này",
    // cases, bookmarks, exports (duty officers) and motion search
    cases: "Hồ sơ vụ việc", case: "Hồ sơ", new_case: "Hồ sơ mới", new_case_option: "— Hồ sơ mới —",
    case_title: "Tên hồ sơ mới", case_title_column: "Hồ sơ", case_note: "Ghi chú", create: "Tạo",
    add_to_case: "Thêm vào hồ sơ", add_to_case_title: "Thêm vào hồ sơ vụ việc",
    item_note: "Ghi chú cho đoạn phim (tuỳ chọn)", open_case: "Mở hồ sơ", close: "Đóng",
    added_to_case: "Đã thêm {n} đoạn phim vào hồ sơ «{title}»", choose_a_camera: "Hãy chọn ít nhất một camera",
    staff_only: "Chỉ cán bộ trực và quản trị viên mới dùng được hồ sơ vụ việc.", no_cases: "Chưa có hồ sơ nào",
    case_open: "Đang mở", case_closed: "Đã đóng", items: "Đoạn phim", export: "Xuất hồ sơ", updated: "Cập nhật",
    all_cases: "← Tất cả hồ sơ", range: "Khoảng thời gian", item_note_column: "Ghi chú", added_by: "Người thêm",
    from_event: "từ sự kiện #{id}", from_bookmark: "từ đánh dấu #{id}",
    case_locked: "Hồ sơ đang mở: phim của các đoạn này được khoá, không bị xoá khi hết hạn lưu trữ.",
    case_unlocked: "Hồ sơ đã đóng: phim của các đoạn này lại bị xoá theo hạn lưu trữ như thường.",
    close_case: "Đóng hồ sơ", reopen_case: "Mở lại hồ sơ", delete_case: "Xoá hồ sơ",
    confirm_delete_case: "Xoá hồ sơ «{title}» cùng các đoạn phim và bản xuất của nó? Không thể hoàn tác.",
    play_all: "Xem các camera của hồ sơ cùng lúc",
    no_items: "Hồ sơ chưa có đoạn phim nào: thêm từ màn hình xem lại, một sự kiện hoặc một đánh dấu.",
    export_title: "Xuất hồ sơ có chữ ký số",
    export_hint: "Mỗi đoạn phim một tệp MP4, kèm bảng kê có mã băm SHA-256, chữ ký Ed25519 của trạm và trình phát ngoại tuyến.",
    export_start: "Xuất hồ sơ", export_again: "Xuất lại", export_none: "Chưa xuất", export_queued: "Đang chờ",
    export_running: "Đang xuất", export_ready: "Đã xuất xong", export_failed: "Xuất thất bại",
    export_download: "Tải về tệp ZIP ({size})",
    key_fingerprint: "Dấu vân tay khoá của trạm (để đối chiếu khi kiểm tra):",
    locked: "Đã khoá (hồ sơ)", locked_by: "🔒 Khoá bởi hồ sơ «{title}»", locked_bytes: "khoá {size}",
    bookmarks: "Đánh dấu", bookmark_add: "Đánh dấu", bookmark_note: "Ghi chú",
    confirm_remove_bookmark: "Xoá đánh dấu này?", mark_in: "[ Đầu đoạn", mark_out: "Cuối đoạn ]",
    motion_search: "Tìm chuyển động", draw_hint: "Bấm lên hình để vẽ vùng cần tìm (ít nhất 3 điểm).",
    undo_point: "Bỏ điểm cuối", clear_area: "Xoá vùng", picture_at: "Hình lúc {at}",
    draw_first: "Hãy vẽ vùng cần tìm trên hình (ít nhất 3 điểm)",
    motion_found: "Có chuyển động {n} lần trong vùng ({ms} ms)",
    motion_found_more: "Có chuyển động hơn {n} lần trong vùng: thu hẹp khoảng thời gian",
    motion_none: "Không có chuyển động trong vùng này",
    // the reasons of gaps the station gives in its own words (a camera's own errors are shown as they come)
    "not recorded (the service was not running)": "dịch vụ không chạy",
    "its recorder process ended unexpectedly and was restarted": "tiến trình ghi hình bị dừng và đã khởi động lại",
    "stream ended (the camera closed the connection)": "camera đã đóng kết nối",
  },
  en: {
    title: "Security cameras", login_title: "Log in", username: "User name", password: "Password",
    login: "Log in", logout: "Log out", fullscreen: "Full screen", events: "Events",
    back: "← All cameras", live: "Live", playback: "Playback", day: "Day", clip: "Export a clip",
    from: "From", to: "To", download: "Download MP4", offline: "Offline", connecting: "Connecting",
    night: "Infrared", tamper: "Covered / turned", alert: "Motion", bad_login: "Wrong user name or password",
    too_many: "Too many failed logins, try again in {seconds} s", no_footage: "No footage",
    no_events: "No events yet",
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
        layout: "Layout", page_of: "Page {page} of {pages}", prev_page: "Previous page", next_page: "Next page",
    alert_on: "Sound", alert_off: "Muted", mute: "Mute or unmute the alert sound", all_events: "All events →",
    step_back: "Back one frame", step_forward: "Forward one frame", play: "Play", pause: "Pause",
    speed: "Speed", jump: "Go", jump_hint: "Type a time, e.g. 14:30:00 or 22/11 14:30",
    bad_time: "Not a time I understand; e.g. 14:30:00 or 22/11/2026 14:30", timeline: "Timeline",
    zoom_in: "Zoom in", zoom_out: "Zoom out", loading: "Loading…", not_recorded: "Not recorded: {reason}",
    playback_title: "Multi-camera playback", choose_cameras: "Choose cameras", at_most: "At most {n} cameras at once",
    show: "Show", whole_area: "Whole area", no_area: "No area", nearby: "Add the cameras of its area",
    acknowledge: "Acknowledge", ack_note: "Note (optional)", acked_by: "Acknowledged by {by} at {at}",
    ack_failed: "Not acknowledged", camera: "Camera", type: "Type", all: "All",
    unacked_only: "Only unacknowledged", search: "Search", area: "Area",
    cannot_play: "This browser cannot play this camera's footage",
    cases: "Cases", case: "Case", new_case: "New case", new_case_option: "— New case —",
    case_title: "Title of the new case", case_title_column: "Case", case_note: "Note", create: "Create",
    add_to_case: "Add to case", add_to_case_title: "Add to a case",
    item_note: "Note for the footage (optional)", open_case: "Open the case", close: "Close",
    added_to_case: "{n} ranges added to the case “{title}”", choose_a_camera: "Choose at least one camera",
    staff_only: "Only duty officers and administrators use cases.", no_cases: "No cases yet",
    case_open: "Open", case_closed: "Closed", items: "Footage", export: "Export", updated: "Updated",
    all_cases: "← All cases", range: "Time range", item_note_column: "Note", added_by: "Added by",
    from_event: "from event #{id}", from_bookmark: "from bookmark #{id}",
    case_locked: "The case is open: the footage of these ranges is locked, retention does not delete it.",
    case_unlocked: "The case is closed: the footage of these ranges is deleted by retention as usual.",
    close_case: "Close the case", reopen_case: "Reopen the case", delete_case: "Delete the case",
    confirm_delete_case: "Delete the case “{title}” with its footage ranges and export? This cannot be undone.",
    play_all: "Play the case's cameras together",
    no_items: "The case has no footage yet: add it from the playback, an event or a bookmark.",
    export_title: "Signed export",
    export_hint: "One MP4 per range, with a manifest of SHA-256 hashes, the station's Ed25519 signature and an offline player.",
    export_start: "Export the case", export_again: "Export again", export_none: "Not exported",
    export_queued: "Queued", export_running: "Exporting", export_ready: "Exported", export_failed: "Export failed",
    export_download: "Download the ZIP ({size})",
    key_fingerprint: "The station's key fingerprint (to compare when checking):",
    locked: "Locked (case)", locked_by: "🔒 Locked by the case “{title}”", locked_bytes: "locked {size}",
    bookmarks: "Bookmarks", bookmark_add: "Bookmark", bookmark_note: "Note",
    confirm_remove_bookmark: "Delete this bookmark?", mark_in: "[ Range start", mark_out: "Range end ]",
    motion_search: "Motion search", draw_hint: "Click on the picture to draw the area to search (3 points at least).",
    undo_point: "Undo the last point", clear_area: "Clear the area", picture_at: "Picture of {at}",
    draw_first: "Draw the area to search on the picture (3 points at least)",
    motion_found: "Motion {n} times in the area ({ms} ms)",
    motion_found_more: "Motion more than {n} times in the area: narrow the time range",
    motion_none: "No motion in this area",
    "not recorded (the service was not running)": "the service was not running",
  },
};

let language = localStorage.getItem("nvr-language") === "en" ? "en" : "vi";

export function t(key, values = {}) {
  const text = TEXT[language][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);
}

// A page set of its own (the district's) brings its texts; the keys it shares keep the station's wording.
export function addTexts(more) {
  for (const [code, texts] of Object.entries(more)) Object.assign(TEXT[code], texts);
}

export function currentLanguage() {
  return language;
}

export function applyTexts(root = document) {
  document.documentElement.lang = language;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-label]")) { // buttons with a sign for a text, fields
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
    element.title = t(element.dataset.i18nLabel);
    if (element.matches("input")) element.placeholder = t(element.dataset.i18nLabel);
  }
}

export function toggleLanguage() {
  language = language === "vi" ? "en" : "vi";
  localStorage.setItem("nvr-language", language);
  applyTexts();
}
