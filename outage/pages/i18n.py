"""Every word the customer pages show, in Vietnamese (the default) and English."""

from collections.abc import Mapping

from outage.intake.enums import Channel, Hazard, ReportStatus

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
        # The agent console (call-centre staff)
        "agent_site_name": "Tổng đài chăm sóc khách hàng",
        "agent_staff_only": (
            "Chỉ dành cho nhân viên. Trang có thông tin cá nhân của khách hàng: "
            "không chia sẻ, không in."
        ),
        "agent_nav_search": "Tìm khách hàng",
        "agent_nav_queue": "Báo cáo chờ xử lý",
        "agent_search_title": "Tìm khách hàng",
        "agent_search_field": "Số điện thoại, mã khách hàng hoặc địa chỉ",
        "agent_search_hint": "Số điện thoại viết kiểu nào cũng được; địa chỉ có thể gõ không dấu.",
        "agent_search_button": "Tìm",
        "agent_search_too_long": "Nội dung tìm kiếm quá dài (tối đa {max} ký tự).",
        "agent_results": "Khách hàng tìm thấy: {count} (theo {method}).",
        "agent_by_account": "mã khách hàng",
        "agent_by_phone": "số điện thoại",
        "agent_by_address": "địa chỉ",
        "agent_no_results": (
            "Không tìm thấy khách hàng nào cho “{query}”. Hãy thử số điện thoại, "
            "mã khách hàng hoặc địa chỉ khác."
        ),
        "agent_email": "E-mail",
        "agent_language": "Ngôn ngữ",
        "agent_critical": "Ưu tiên cấp điện",
        "agent_critical_badge": "Ưu tiên: {reason}",
        "critical_hospital": "Bệnh viện",
        "critical_life_support": "Có người dùng thiết bị duy trì sự sống",
        "critical_water_pumping": "Trạm bơm nước",
        "agent_premise": "Điểm dùng điện",
        "agent_transformer": "Trạm biến áp",
        "agent_feeder": "Xuất tuyến",
        "agent_none": "Không có",
        "agent_open_reports": "Báo cáo đang mở",
        "agent_no_open_reports": "Không có báo cáo nào đang mở.",
        "agent_status_received": "Đã tiếp nhận",
        "agent_status_needs_agent": "Chờ xác định vị trí",
        "agent_status_duplicate": "Đã gộp vào báo cáo trước",
        "agent_status_closed": "Đã đóng",
        "agent_log_title": "Ghi nhận cuộc gọi báo mất điện",
        "agent_field_description": "Khách hàng báo gì?",
        "agent_hint_description": "Ví dụ: mất điện cả khu, nghe tiếng nổ ở cột điện.",
        "agent_log_button": "Tạo báo cáo",
        "agent_logged": "Đã tạo báo cáo",
        "agent_logged_received": "Báo cáo đã được gắn vào lưới điện.",
        "agent_logged_needs_agent": (
            "Chưa xác định được vị trí: báo cáo đã vào danh sách chờ xử lý."
        ),
        "agent_logged_duplicate": "Sự cố này đã được báo — đã gộp vào phiếu {ticket}.",
        "agent_read_ticket": "Hãy đọc mã phiếu cho khách hàng.",
        "agent_error_form_invalid": "Biểu mẫu không hợp lệ. Hãy tải lại trang rồi thử lại.",
        "agent_error_form_used": (
            "Biểu mẫu này đã được gửi với nội dung khác. Kiểm tra lại rồi bấm "
            "“Tạo báo cáo” để tạo một báo cáo mới."
        ),
        "agent_queue_title": "Báo cáo chờ xác định vị trí",
        "agent_queue_intro": (
            "Những báo cáo chưa gắn được vào lưới điện, cũ nhất trước. Gọi lại cho người báo "
            "nếu cần, rồi chọn điểm dùng điện."
        ),
        "agent_queue_empty": "Không có báo cáo nào đang chờ.",
        "agent_queue_newer": "Các báo cáo mới hơn",
        "agent_queue_older": "Các báo cáo cũ hơn",
        "agent_channel": "Kênh",
        "channel_web": "Trang web",
        "channel_sms": "Tin nhắn SMS",
        "channel_email": "E-mail",
        "channel_ivr": "Tổng đài tự động",
        "channel_agent": "Nhân viên tổng đài",
        "channel_open311": "Open311",
        "channel_api": "Ứng dụng (API)",
        "agent_reporter_said": "Người báo cho biết",
        "agent_location": "Vị trí GPS",
        "agent_description": "Mô tả",
        "agent_lookup_reporter": "Tìm người báo trong danh sách khách hàng",
        "agent_candidates": "Điểm dùng điện có thể phù hợp",
        "agent_no_candidates": (
            "Không có gợi ý. Hãy tìm khách hàng rồi nhập mã điểm dùng điện của họ."
        ),
        "agent_place_here": "Chọn điểm này",
        "agent_place_on": "Gắn phiếu {ticket} vào {premise}",
        "agent_place_field": "Mã điểm dùng điện khác",
        "agent_place_button": "Gắn vào điểm này",
        "agent_placed": "Đã gắn phiếu {ticket} vào lưới điện.",
        "agent_placed_duplicate": (
            "Đã gắn phiếu {ticket} và gộp vào phiếu {earlier} của cùng khách hàng."
        ),
        "agent_error_premise_required": "Hãy nhập mã điểm dùng điện.",
        "agent_error_unknown_premise": (
            "Không có điểm dùng điện “{premise}”. Hãy kiểm tra lại mã."
        ),
        "agent_error_not_in_queue": (
            "Phiếu {ticket} không còn chờ xử lý: đã được gắn vào lưới điện hoặc đã đóng."
        ),
        "agent_error_unknown_ticket": "Không có báo cáo nào với mã phiếu {ticket}.",
        # Staff sign-in
        "login_title": "Đăng nhập",
        "login_username": "Tên đăng nhập",
        "login_password": "Mật khẩu",
        "login_button": "Đăng nhập",
        "login_failed": "Sai tên đăng nhập hoặc mật khẩu.",
        "login_locked": "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {minutes} phút.",
        "login_expired": "Biểu mẫu đã hết hạn. Hãy đăng nhập lại.",
        "signed_in_as": "Đang đăng nhập: {name}",
        "sign_out": "Đăng xuất",
        "forbidden_title": "Không có quyền truy cập",
        "forbidden_text": (
            "Tài khoản của bạn không được dùng trang này, hoặc biểu mẫu đã hết hạn: "
            "hãy tải lại trang và thử lại."
        ),
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
        "agent_site_name": "Customer care centre",
        "agent_staff_only": (
            "Staff only. This page shows customers' personal data: do not share or print it."
        ),
        "agent_nav_search": "Find a customer",
        "agent_nav_queue": "Review queue",
        "agent_search_title": "Find a customer",
        "agent_search_field": "Phone number, account number or address",
        "agent_search_hint": "Phone numbers in any format; addresses may be typed without accents.",
        "agent_search_button": "Search",
        "agent_search_too_long": "The search is too long (at most {max} characters).",
        "agent_results": "Customers found: {count} (by {method}).",
        "agent_by_account": "account number",
        "agent_by_phone": "phone number",
        "agent_by_address": "address",
        "agent_no_results": (
            "No customer found for “{query}”. Try another phone number, account number or address."
        ),
        "agent_email": "E-mail",
        "agent_language": "Language",
        "agent_critical": "Priority supply",
        "agent_critical_badge": "Priority: {reason}",
        "critical_hospital": "Hospital",
        "critical_life_support": "Life-support equipment at home",
        "critical_water_pumping": "Water pumping station",
        "agent_premise": "Premise",
        "agent_transformer": "Transformer",
        "agent_feeder": "Feeder",
        "agent_none": "None",
        "agent_open_reports": "Open reports",
        "agent_no_open_reports": "No open reports.",
        "agent_status_received": "Received",
        "agent_status_needs_agent": "Waiting for an agent",
        "agent_status_duplicate": "Attached to an earlier report",
        "agent_status_closed": "Closed",
        "agent_log_title": "Log this call as an outage report",
        "agent_field_description": "What the caller says",
        "agent_hint_description": "For example: the whole street is out, a bang from the pole.",
        "agent_log_button": "Log report",
        "agent_logged": "Report logged",
        "agent_logged_received": "The report is placed on the network.",
        "agent_logged_needs_agent": (
            "Not placed on the network yet: the report is in the review queue."
        ),
        "agent_logged_duplicate": "Already known — attached to {ticket}.",
        "agent_read_ticket": "Read the ticket number to the caller.",
        "agent_error_form_invalid": "The form is not valid. Reload the page and try again.",
        "agent_error_form_used": (
            "This form was already sent with different details. Check them and press "
            "“Log report” to log a new report."
        ),
        "agent_queue_title": "Reports waiting for an agent",
        "agent_queue_intro": (
            "Reports we could not place on the network, oldest first. Call the reporter back "
            "if needed, then choose the premise."
        ),
        "agent_queue_empty": "No reports are waiting.",
        "agent_queue_newer": "Newer reports",
        "agent_queue_older": "Older reports",
        "agent_channel": "Channel",
        "channel_web": "Web",
        "channel_sms": "SMS",
        "channel_email": "E-mail",
        "channel_ivr": "Phone menu (IVR)",
        "channel_agent": "Call-centre agent",
        "channel_open311": "Open311",
        "channel_api": "App (API)",
        "agent_reporter_said": "What the reporter said",
        "agent_location": "GPS location",
        "agent_description": "Description",
        "agent_lookup_reporter": "Look up the reporter among customers",
        "agent_candidates": "Candidate premises",
        "agent_no_candidates": "No candidates. Find the customer, then enter their premise.",
        "agent_place_here": "Place here",
        "agent_place_on": "Place {ticket} on {premise}",
        "agent_place_field": "Another premise",
        "agent_place_button": "Place on this premise",
        "agent_placed": "Ticket {ticket} is placed on the network.",
        "agent_placed_duplicate": (
            "Ticket {ticket} is placed and attached to {earlier}, the same customer's "
            "earlier report."
        ),
        "agent_error_premise_required": "Enter a premise.",
        "agent_error_unknown_premise": "There is no premise “{premise}”. Check it and try again.",
        "agent_error_not_in_queue": (
            "Ticket {ticket} is no longer waiting: it was placed already or is closed."
        ),
        "agent_error_unknown_ticket": "There is no report with ticket {ticket}.",
        # Staff sign-in
        "login_title": "Sign in",
        "login_username": "Username",
        "login_password": "Password",
        "login_button": "Sign in",
        "login_failed": "Wrong username or password.",
        "login_locked": "Too many failed sign-ins. Try again in {minutes} minutes.",
        "login_expired": "The form has expired. Please sign in again.",
        "signed_in_as": "Signed in: {name}",
        "sign_out": "Sign out",
        "forbidden_title": "Not allowed",
        "forbidden_text": (
            "Your account may not use this page, or the form has expired: "
            "reload the page and try again."
        ),
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


def agent_status_label(language: str, status: ReportStatus) -> str:
    """A report's status in a word or two, for staff (status_text speaks to the customer)."""
    return strings(language)[f"agent_status_{status.value}"]


def channel_label(language: str, channel: Channel) -> str:
    return strings(language)[f"channel_{channel.value}"]


def critical_label(language: str, critical: str) -> str:
    """Why a customer is restored first; a reason we have no words for is shown as stored."""
    return strings(language).get(f"critical_{critical}", critical)


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
