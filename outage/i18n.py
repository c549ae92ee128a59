"""Every word the customer pages show, in Vietnamese (the default) and English."""

from collections.abc import Mapping

from outage.care.enums import RequestState, RequestType, SlaStanding
from outage.intake.enums import Channel, Hazard, ReportStatus
from outage.open311.catalogue import SERVICES, Lang

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
        # Customer care: service requests (customers, agents, supervisors)
        "request_state_received": "Đã tiếp nhận",
        "request_state_in_progress": "Đang xử lý",
        "request_state_waiting_for_customer": "Chờ khách hàng bổ sung thông tin",
        "request_state_done": "Đã giải quyết xong",
        "request_state_rejected": "Đã đóng, không thực hiện",
        "sla_on_track": "Trong hạn",
        "sla_at_risk": "Sắp quá hạn",
        "sla_breached": "Quá hạn",
        "sla_met": "Đúng hạn",
        "sla_missed": "Trễ hạn",
        "age_under_1d": "Dưới 1 ngày",
        "age_1_3d": "1-3 ngày",
        "age_3_7d": "3-7 ngày",
        "age_7_30d": "7-30 ngày",
        "age_over_30d": "Trên 30 ngày",
        "request_type_label": "Loại yêu cầu",
        "request_due_label": "Hẹn giải quyết trước",
        "request_title": "Gửi yêu cầu dịch vụ",
        "request_intro": (
            "Cấp điện mới, công tơ, hợp đồng, định mức, hóa đơn hoặc góp ý. Không cần đăng "
            "nhập. Nếu mất điện hoặc có nguy hiểm, hãy dùng trang báo mất điện."
        ),
        "request_report_link": "Báo mất điện hoặc sự cố nguy hiểm",
        "field_type": "Bạn cần gì?",
        "hint_type": "Chọn loại yêu cầu.",
        "hint_request_phone": "Để chúng tôi liên hệ, và để bạn tra cứu, đánh giá yêu cầu.",
        "field_details": "Nội dung yêu cầu",
        "hint_details": "Ví dụ: công tơ quay nhanh bất thường từ tháng trước.",
        "error_type": "Hãy chọn loại yêu cầu trong danh sách.",
        "error_request_who": "Hãy nhập mã khách hàng, số điện thoại hoặc địa chỉ.",
        "request_submit": "Gửi yêu cầu",
        "request_status_title": "Tình trạng yêu cầu",
        "request_reason_label": "Lý do",
        "request_keep_ticket": "Hãy giữ mã phiếu này để tra cứu và đánh giá yêu cầu.",
        "rating_title": "Bạn có hài lòng không?",
        "rating_field": "Điểm hài lòng",
        "rating_1": "1 - Rất không hài lòng",
        "rating_2": "2 - Không hài lòng",
        "rating_3": "3 - Bình thường",
        "rating_4": "4 - Hài lòng",
        "rating_5": "5 - Rất hài lòng",
        "rating_comment": "Góp ý thêm (không bắt buộc)",
        "rating_phone": "4 số cuối số điện thoại của bạn",
        "rating_submit": "Gửi đánh giá",
        "rating_thanks": "Cảm ơn bạn đã đánh giá: {rating}/5.",
        "rating_error_phone": "4 số cuối số điện thoại không khớp với yêu cầu này.",
        "rating_error_no_phone": (
            "Yêu cầu này không có số điện thoại: hãy gọi tổng đài để đánh giá."
        ),
        "rating_error_invalid": "Hãy chọn điểm từ 1 đến 5 (góp ý tối đa {max} ký tự).",
        "rating_error_closed": "Yêu cầu chưa xong hoặc đã được đánh giá.",
        "prove_hint": "Nhập 4 số cuối số điện thoại đã cung cấp để xem chi tiết.",
        "prove_submit": "Xem chi tiết",
        "prove_error": "4 số cuối số điện thoại không khớp.",
        "agent_open_requests": "Yêu cầu dịch vụ đang mở",
        "agent_no_open_requests": "Không có yêu cầu nào đang mở.",
        "agent_active_outages": "Sự cố đang ảnh hưởng đến khách hàng",
        "agent_no_active_outages": "Không có sự cố nào đang ảnh hưởng.",
        "agent_outage_history": "Lịch sử mất điện (12 tháng)",
        "agent_no_outage_history": "Không có lần mất điện nào trong 12 tháng qua.",
        "agent_notifications": "Thông báo đã gửi",
        "agent_notifications_pending": "Lịch sử thông báo chưa sẵn sàng.",
        "agent_incident": "Sự cố",
        "agent_device": "Thiết bị",
        "agent_started": "Bắt đầu",
        "agent_etr": "Dự kiến có điện",
        "agent_restored_at": "Có điện lại",
        "agent_request_title": "Tạo yêu cầu dịch vụ cho khách hàng",
        "agent_request_description": "Khách hàng yêu cầu gì?",
        "agent_request_button": "Tạo yêu cầu",
        "agent_request_logged": "Đã tạo yêu cầu dịch vụ",
        "supervisor_nav": "Bảng giám sát",
        "supervisor_title": "Bảng giám sát chăm sóc khách hàng",
        "supervisor_window": "Số liệu {days} ngày qua, đến {now}.",
        "supervisor_reliability": "Độ tin cậy cung cấp điện theo tháng",
        "supervisor_saidi": "SAIDI (phút mất điện bình quân mỗi khách hàng)",
        "supervisor_saifi": "SAIFI (số lần mất điện bình quân mỗi khách hàng)",
        "supervisor_with_med": "Tất cả các ngày",
        "supervisor_without_med": "Trừ ngày sự cố lớn",
        "supervisor_no_reliability": "Chưa có số liệu độ tin cậy.",
        "supervisor_sla": "Giải quyết yêu cầu đúng hạn theo loại",
        "supervisor_target": "Chỉ tiêu (giờ)",
        "supervisor_closed": "Đã đóng",
        "supervisor_met": "Đúng hạn",
        "supervisor_share": "Tỷ lệ đúng hạn",
        "supervisor_open": "Đang mở",
        "supervisor_breached_count": "Quá hạn",
        "supervisor_ages": "Yêu cầu đang mở theo thời gian chờ",
        "supervisor_requests": "Số yêu cầu",
        "supervisor_satisfaction": "Mức độ hài lòng",
        "supervisor_mean": "Điểm trung bình {mean}/5 từ {count} đánh giá.",
        "supervisor_no_ratings": "Chưa có đánh giá nào.",
        "supervisor_ratings": "Số đánh giá",
        "supervisor_recent_comments": "Góp ý gần đây",
        "supervisor_breached": "Yêu cầu quá hạn",
        "supervisor_no_breached": "Không có yêu cầu nào quá hạn.",
        "supervisor_overdue": "Quá hạn",
        "supervisor_hours": "{hours} giờ",
        "supervisor_not_applicable": "-",
        "incident_status_predicted": "Đang xác định",
        "incident_status_confirmed": "Đã xác nhận",
        "incident_status_dispatched": "Đã cử đội sửa chữa",
        "incident_status_en_route": "Đội sửa chữa đang đến",
        "incident_status_on_site": "Đang sửa chữa",
        "incident_status_partially_restored": "Đã cấp điện lại một phần",
        "incident_status_restored": "Đã có điện lại",
        "incident_status_closed": "Đã đóng",
        "incident_status_cancelled": "Đã hủy",
        # Staff sign-in
        "login_title": "Đăng nhập",
        "login_username": "Tên đăng nhập",
        "login_password": "Mật khẩu",
        "login_button": "Đăng nhập",
        "login_failed": "Sai tên đăng nhập hoặc mật khẩu.",
        "login_locked": "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {seconds} giây.",
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
        # Customer care: service requests (customers, agents, supervisors)
        "request_state_received": "Received",
        "request_state_in_progress": "In progress",
        "request_state_waiting_for_customer": "Waiting for information from the customer",
        "request_state_done": "Done",
        "request_state_rejected": "Closed without action",
        "sla_on_track": "On track",
        "sla_at_risk": "At risk",
        "sla_breached": "Past target",
        "sla_met": "Met",
        "sla_missed": "Missed",
        "age_under_1d": "Under 1 day",
        "age_1_3d": "1-3 days",
        "age_3_7d": "3-7 days",
        "age_7_30d": "7-30 days",
        "age_over_30d": "Over 30 days",
        "request_type_label": "Request type",
        "request_due_label": "We aim to finish by",
        "request_title": "Send a service request",
        "request_intro": (
            "New connections, meters, contracts, tariff quotas, bills or feedback. No login "
            "needed. If your power is out or something is dangerous, use the outage page."
        ),
        "request_report_link": "Report an outage or a hazard",
        "field_type": "What do you need?",
        "hint_type": "Choose the kind of request.",
        "hint_request_phone": "So we can reach you, and so you can check on and rate it.",
        "field_details": "Your request",
        "hint_details": "For example: the meter has been running fast since last month.",
        "error_type": "Please choose a kind of request from the list.",
        "error_request_who": "Enter your account number, phone number or address.",
        "request_submit": "Send request",
        "request_status_title": "Request status",
        "request_reason_label": "Reason",
        "request_keep_ticket": "Keep this ticket number to check on and rate your request.",
        "rating_title": "How satisfied are you?",
        "rating_field": "Your rating",
        "rating_1": "1 - Very dissatisfied",
        "rating_2": "2 - Dissatisfied",
        "rating_3": "3 - Neither",
        "rating_4": "4 - Satisfied",
        "rating_5": "5 - Very satisfied",
        "rating_comment": "Comments (optional)",
        "rating_phone": "Last 4 digits of your phone number",
        "rating_submit": "Send rating",
        "rating_thanks": "Thank you for your rating: {rating}/5.",
        "rating_error_phone": "Those digits do not match the phone of this request.",
        "rating_error_no_phone": "This request has no phone number: call us to rate it.",
        "rating_error_invalid": "Choose a rating from 1 to 5 (comments up to {max} characters).",
        "rating_error_closed": "This request is not closed yet, or was rated already.",
        "prove_hint": "Enter the last 4 digits of the phone number you gave to see the details.",
        "prove_submit": "Show details",
        "prove_error": "Those digits do not match.",
        "agent_open_requests": "Open service requests",
        "agent_no_open_requests": "No open service requests.",
        "agent_active_outages": "Outages affecting this customer now",
        "agent_no_active_outages": "No outage affects this customer now.",
        "agent_outage_history": "Outage history (12 months)",
        "agent_no_outage_history": "No outages in the last 12 months.",
        "agent_notifications": "Notifications sent",
        "agent_notifications_pending": "Notification history is not available yet.",
        "agent_incident": "Incident",
        "agent_device": "Device",
        "agent_started": "Started",
        "agent_etr": "Expected back",
        "agent_restored_at": "Restored",
        "agent_request_title": "Create a service request for this customer",
        "agent_request_description": "What the caller asks for",
        "agent_request_button": "Create request",
        "agent_request_logged": "Service request created",
        "supervisor_nav": "Dashboard",
        "supervisor_title": "Customer care dashboard",
        "supervisor_window": "The last {days} days, up to {now}.",
        "supervisor_reliability": "Supply reliability by month",
        "supervisor_saidi": "SAIDI (minutes without power per customer)",
        "supervisor_saifi": "SAIFI (interruptions per customer)",
        "supervisor_with_med": "All days",
        "supervisor_without_med": "Major event days excluded",
        "supervisor_no_reliability": "No reliability figures yet.",
        "supervisor_sla": "Requests closed within target, by type",
        "supervisor_target": "Target (hours)",
        "supervisor_closed": "Closed",
        "supervisor_met": "Within target",
        "supervisor_share": "Share within target",
        "supervisor_open": "Open",
        "supervisor_breached_count": "Past target",
        "supervisor_ages": "Open requests by age",
        "supervisor_requests": "Requests",
        "supervisor_satisfaction": "Satisfaction",
        "supervisor_mean": "Average {mean}/5 from {count} ratings.",
        "supervisor_no_ratings": "No ratings yet.",
        "supervisor_ratings": "Ratings",
        "supervisor_recent_comments": "Recent comments",
        "supervisor_breached": "Requests past their target",
        "supervisor_no_breached": "No request is past its target.",
        "supervisor_overdue": "Overdue by",
        "supervisor_hours": "{hours} h",
        "supervisor_not_applicable": "-",
        "incident_status_predicted": "Being located",
        "incident_status_confirmed": "Confirmed",
        "incident_status_dispatched": "Crew dispatched",
        "incident_status_en_route": "Crew on the way",
        "incident_status_on_site": "Crew on site",
        "incident_status_partially_restored": "Partly restored",
        "incident_status_restored": "Restored",
        "incident_status_closed": "Closed",
        "incident_status_cancelled": "Cancelled",
        # Staff sign-in
        "login_title": "Sign in",
        "login_username": "Username",
        "login_password": "Password",
        "login_button": "Sign in",
        "login_failed": "Wrong username or password.",
        "login_locked": "Too many failed sign-ins. Try again in {seconds} seconds.",
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


def request_type_label(language: str, request_type: RequestType) -> str:
    """A request type's name, as the Open311 service catalogue gives it."""
    return SERVICES[request_type.value].name.in_(Lang.VI if language == "vi" else Lang.EN)


def request_state_label(language: str, state: RequestState) -> str:
    return strings(language)[f"request_state_{state.value}"]


def sla_label(language: str, standing: SlaStanding) -> str:
    return strings(language)[f"sla_{standing.value}"]


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
