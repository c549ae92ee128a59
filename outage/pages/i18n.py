"""Every word the customer pages show, in Vietnamese (the default) and English."""

from collections.abc import Mapping

from outage.intake.enums import Hazard, ReportStatus

DEFAULT_LANGUAGE = "vi"

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "language_name": "Tiếng Việt",
        "site_name": "Báo mất điện",
        "switch_language": "Chuyển sang tiếng Việt",
        "datetime_format": "%H:%M, %d/%m/%Y",
        "time_zone_note": "giờ Việt Nam",
        # The report form
        "report_title": "Báo mất điện hoặc sự cố điện",
        "report_intro": (
            "Không cần đăng nhập. Hãy cho chúng tôi biết bạn ở đâu: mã khách hàng, "
            "số điện thoại, địa chỉ hoặc vị trí của bạn."
        ),
        "hazard_warning": (
            "Nếu có dây điện bị đứt hoặc cháy: tránh xa ít nhất 10 mét "
            "và không để người khác lại gần."
        ),
        "field_account": "Mã khách hàng",
        "hint_account": "In trên hóa đơn tiền điện.",
        "field_phone": "Số điện thoại",
        "hint_phone": "Để chúng tôi báo cho bạn khi có điện trở lại.",
        "field_address": "Địa chỉ",
        "hint_address": "Số nhà, đường, phường.",
        "field_description": "Chuyện gì đã xảy ra?",
        "hint_description": "Ví dụ: cả khu phố mất điện, nghe thấy tiếng nổ.",
        "field_hazard": "Có nguy hiểm không?",
        "hint_hazard": "Chọn nếu bạn thấy một trong những điều sau.",
        "hazard_none": "Không có",
        "hazard_wires_down": "Dây điện bị đứt, rơi xuống đất",
        "hazard_fire": "Cháy",
        "hazard_tree_on_line": "Cây đổ vào đường dây",
        "hazard_flooded_equipment": "Thiết bị điện bị ngập nước",
        "field_location": "Vị trí của bạn",
        "hint_location": "Chỉ dùng để tìm đường dây điện gần bạn nhất.",
        "location_button": "Dùng vị trí của tôi",
        "location_locating": "Đang tìm vị trí…",
        "location_found": "Đã lấy vị trí (sai số khoảng {accuracy} m).",
        "location_kept": "Đã lưu vị trí của bạn.",
        "location_denied": ("Bạn chưa cho phép dùng vị trí. Hãy nhập mã khách hàng hoặc địa chỉ."),
        "location_unavailable": (
            "Không lấy được vị trí trên thiết bị này. Hãy nhập mã khách hàng hoặc địa chỉ."
        ),
        "location_timeout": "Tìm vị trí quá lâu. Hãy thử lại hoặc nhập địa chỉ.",
        "location_no_script": (
            "Muốn gửi vị trí, hãy bật JavaScript. Bạn vẫn có thể gửi báo cáo không cần vị trí."
        ),
        "submit": "Gửi báo cáo",
        "sending": "Đang gửi…",
        # Form errors
        "errors_title": "Vui lòng kiểm tra lại:",
        "error_where": (
            "Hãy cho chúng tôi biết bạn ở đâu: nhập mã khách hàng, số điện thoại, "
            "địa chỉ hoặc bấm “Dùng vị trí của tôi”."
        ),
        "error_phone": "Số điện thoại không hợp lệ. Ví dụ: 0912 345 678.",
        "error_too_long": "{field}: quá dài (tối đa {max} ký tự).",
        "error_location": "Vị trí không hợp lệ. Hãy bấm “Dùng vị trí của tôi” lần nữa.",
        "error_hazard": "Hãy chọn một mục trong danh sách nguy hiểm.",
        "error_invalid": "{field}: thông tin chưa hợp lệ.",
        "error_outside": (
            "Vị trí của bạn nằm ngoài khu vực chúng tôi cấp điện. Hãy nhập mã khách hàng "
            "hoặc địa chỉ, hoặc liên hệ công ty điện lực nơi bạn ở."
        ),
        "error_rate_limited": (
            "Đã có quá nhiều báo cáo được gửi. Vui lòng thử lại sau {minutes} phút."
        ),
        "error_already_sent": (
            "Biểu mẫu này đã được gửi với nội dung khác. Hãy kiểm tra lại "
            "và bấm “Gửi báo cáo” để gửi một báo cáo mới."
        ),
        # The status page
        "status_title": "Tình trạng báo cáo",
        "ticket_label": "Mã phiếu",
        "received_label": "Thời gian nhận",
        "status_label": "Tình trạng",
        "status_received": (
            "Chúng tôi đã nhận báo cáo và xác định được vị trí của bạn trên lưới điện. "
            "Đội kỹ thuật đang xử lý."
        ),
        "status_needs_agent": (
            "Chúng tôi đã nhận báo cáo. Nhân viên sẽ kiểm tra vị trí của bạn "
            "và có thể liên hệ với bạn."
        ),
        "status_duplicate": (
            "Chúng tôi đã biết về sự cố mất điện này. Báo cáo của bạn đã được gộp "
            "vào báo cáo trước đó."
        ),
        "status_closed": (
            "Báo cáo này đã được xử lý xong. Nếu bạn vẫn mất điện, hãy gửi báo cáo mới."
        ),
        "hazard_label": "Nguy hiểm đã báo",
        "duplicate_of_label": "Báo cáo trước đó",
        "keep_ticket": "Hãy giữ mã phiếu này để tra cứu tình trạng.",
        "check_title": "Tra cứu mã phiếu khác",
        "check_field": "Mã phiếu",
        "check_hint": "Ví dụ: 250503-7KQ2M",
        "check_button": "Tra cứu",
        "new_report_link": "Gửi báo cáo mới",
        "not_found_title": "Không tìm thấy mã phiếu",
        "not_found_text": "Không có báo cáo nào với mã phiếu này. Hãy kiểm tra lại mã:",
    },
    "en": {
        "language_name": "English",
        "site_name": "Report a power outage",
        "switch_language": "Switch to English",
        "datetime_format": "%d %b %Y, %H:%M",
        "time_zone_note": "Vietnam time",
        "report_title": "Report a power outage or hazard",
        "report_intro": (
            "No login needed. Tell us where you are: your account number, phone number, "
            "address or location."
        ),
        "hazard_warning": (
            "If wires are down or there is a fire: stay at least 10 metres away "
            "and keep others away."
        ),
        "field_account": "Account number",
        "hint_account": "Printed on your electricity bill.",
        "field_phone": "Phone number",
        "hint_phone": "So we can tell you when power is back.",
        "field_address": "Address",
        "hint_address": "House number, street, ward.",
        "field_description": "What happened?",
        "hint_description": "For example: the whole street is dark, we heard a bang.",
        "field_hazard": "Is there any danger?",
        "hint_hazard": "Choose one if you see any of these.",
        "hazard_none": "None",
        "hazard_wires_down": "Wires down",
        "hazard_fire": "Fire",
        "hazard_tree_on_line": "Tree on a power line",
        "hazard_flooded_equipment": "Flooded electrical equipment",
        "field_location": "Your location",
        "hint_location": "Used only to find the power line nearest to you.",
        "location_button": "Use my location",
        "location_locating": "Finding your location…",
        "location_found": "Location found (accurate to about {accuracy} m).",
        "location_kept": "Your location is saved.",
        "location_denied": (
            "Location permission was denied. Please enter your account number or address."
        ),
        "location_unavailable": (
            "Your location is not available on this device. "
            "Please enter your account number or address."
        ),
        "location_timeout": "Finding your location took too long. Try again or enter your address.",
        "location_no_script": (
            "Turn on JavaScript to share your location. You can still send a report without it."
        ),
        "submit": "Send report",
        "sending": "Sending…",
        "errors_title": "Please check:",
        "error_where": (
            "Tell us where you are: enter your account number, phone number or address, "
            "or tap “Use my location”."
        ),
        "error_phone": "That phone number is not valid. Example: 0912 345 678.",
        "error_too_long": "{field}: too long (at most {max} characters).",
        "error_location": "The location is not valid. Tap “Use my location” again.",
        "error_hazard": "Please choose a danger from the list.",
        "error_invalid": "{field}: this is not valid.",
        "error_outside": (
            "Your location is outside the area we supply. Enter your account number or "
            "address, or contact the power company where you are."
        ),
        "error_rate_limited": "Too many reports were sent. Please try again in {minutes} minutes.",
        "error_already_sent": (
            "This form was already sent with different details. Check them and tap "
            "“Send report” to send a new report."
        ),
        "status_title": "Report status",
        "ticket_label": "Ticket",
        "received_label": "Received",
        "status_label": "Status",
        "status_received": (
            "We have received your report and found where you are on our network. "
            "Our team is working on it."
        ),
        "status_needs_agent": (
            "We have received your report. A member of our staff will check where you are "
            "and may contact you."
        ),
        "status_duplicate": (
            "We already know about this outage. Your report was added to the earlier one."
        ),
        "status_closed": (
            "This report is closed. If your power is still out, please send a new report."
        ),
        "hazard_label": "Danger reported",
        "duplicate_of_label": "Earlier report",
        "keep_ticket": "Keep this ticket number to check on your report.",
        "check_title": "Check another ticket",
        "check_field": "Ticket",
        "check_hint": "For example: 250503-7KQ2M",
        "check_button": "Check",
        "new_report_link": "Send a new report",
        "not_found_title": "Ticket not found",
        "not_found_text": "There is no report with this ticket. Please check the number:",
    },
}

LANGUAGES = tuple(STRINGS)


def strings(language: str) -> Mapping[str, str]:
    """All strings of one language; the default language for any other code."""
    return STRINGS.get(language, STRINGS[DEFAULT_LANGUAGE])


def other_language(language: str) -> str:
    """The language the switch link offers."""
    return next(code for code in LANGUAGES if code != language)


def hazard_label(language: str, hazard: Hazard | None) -> str:
    return strings(language)[f"hazard_{hazard.value}" if hazard else "hazard_none"]


def status_text(language: str, status: ReportStatus) -> str:
    return strings(language)[f"status_{status.value}"]


def choose_language(requested: str | None, accept_language: str | None) -> str:
    """An explicit ?lang= wins; else the best supported Accept-Language; else Vietnamese."""
    if requested:
        code = requested.strip().lower()
        if code in STRINGS:
            return code
    return from_accept_language(accept_language or "") or DEFAULT_LANGUAGE


def from_accept_language(header: str) -> str | None:
    """The supported language a browser prefers most ('en-US,en;q=0.9,vi;q=0.8' -> 'en')."""
    best: str | None = None
    best_q = 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in STRINGS:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best
