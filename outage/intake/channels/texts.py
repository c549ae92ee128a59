"""Everything the channels say to customers, in Vietnamese and English.

Templates are written once with their accents; SMS replies are sent folded to plain
GSM-7 letters ("Da nhan bao mat dien"), so a reply stays one 160-character message, and
the IVR speaks them with accents, so text-to-speech pronounces them right.
"""

from enum import StrEnum

from outage.intake.channels.common import fold


class Language(StrEnum):
    VI = "vi"
    EN = "en"


VI, EN = Language.VI, Language.EN

TEXTS: dict[str, dict[Language, str]] = {
    # Outcomes of a report, on any channel.
    "report.received": {
        VI: "Đã nhận báo mất điện. Mã số: {ticket}",
        EN: "Outage report received. Ticket: {ticket}",
    },
    "report.needs_agent": {
        VI: "Đã nhận báo mất điện, mã số {ticket}. Nhân viên sẽ liên hệ để xác nhận địa chỉ.",
        EN: "Outage report received, ticket {ticket}. An agent will contact you to confirm "
        "the address.",
    },
    "report.duplicate": {
        VI: "Mất điện này đã được báo trước đó. Mã số của bạn: {ticket}. Chúng tôi đang xử lý.",
        EN: "This outage was reported already. Your ticket: {ticket}. We are working on it.",
    },
    "report.rate_limited": {
        VI: "Bạn đã gửi nhiều báo cáo. Vui lòng thử lại sau {minutes} phút.",
        EN: "Too many reports from this number. Please try again in {minutes} min.",
    },
    # Answers to "where is my report?".
    "status.received": {
        VI: "Mã số {ticket}: đang xử lý.",
        EN: "Ticket {ticket}: we are working on it.",
    },
    "status.needs_agent": {
        VI: "Mã số {ticket}: nhân viên đang xác nhận địa chỉ.",
        EN: "Ticket {ticket}: an agent is confirming the address.",
    },
    "status.duplicate": {
        VI: "Mã số {ticket} đã gộp với một báo cáo trước, đang xử lý.",
        EN: "Ticket {ticket} joins an earlier report, we are working on it.",
    },
    "status.closed": {
        VI: "Mã số {ticket}: đã đóng.",
        EN: "Ticket {ticket}: closed.",
    },
    "status.unknown": {
        VI: "Không tìm thấy mã số {ticket}.",
        EN: "No report with ticket {ticket}.",
    },
    # SMS only: keyword syntax.
    "sms.help": {
        VI: "Báo mất điện: MATDIEN <mã KH> <mô tả>. Tra cứu: TRANGTHAI <mã số>.",
        EN: "Report an outage: OUT <account> <details>. Status: STATUS <ticket>.",
    },
    "sms.need_account": {
        VI: "Không xác định được khách hàng. Soạn: MATDIEN <mã KH> <mô tả>",
        EN: "We could not identify you. Send: OUT <account> <details>",
    },
    "sms.no_report": {
        VI: "Không có báo cáo nào từ số này. Soạn: TRANGTHAI <mã số>",
        EN: "No report from this number. Send: STATUS <ticket>",
    },
    # IVR only: spoken menu and prompts.
    "ivr.menu": {
        VI: "Để báo mất điện tại địa chỉ đăng ký với số điện thoại này, bấm 1. "
        "Để báo theo mã khách hàng, bấm 1, phím sao, rồi nhập các chữ số của mã khách hàng. "
        "Để nghe tình trạng báo cáo gần nhất, bấm 2. Để gặp nhân viên, bấm 9.",
        EN: "To report an outage at the address registered to this phone number, press 1. "
        "To report for an account, press 1, star, then the digits of your account number. "
        "To hear the status of your last report, press 2. To speak to an agent, press 9.",
    },
    "ivr.invalid": {
        VI: "Lựa chọn không hợp lệ.",
        EN: "Sorry, that is not a valid choice.",
    },
    "ivr.no_caller_id": {
        VI: "Chúng tôi không nhận ra số điện thoại của bạn. "
        "Vui lòng bấm 1, phím sao, rồi nhập mã khách hàng.",
        EN: "We cannot see your phone number. Please press 1, star, then your account number.",
    },
    "ivr.unknown_account": {
        VI: "Không tìm thấy mã khách hàng {account}. Vui lòng kiểm tra và thử lại.",
        EN: "We could not find account {account}. Please check it and try again.",
    },
    "ivr.phone_several": {
        VI: "Số điện thoại này được đăng ký cho nhiều địa chỉ.",
        EN: "This phone number is registered for several addresses.",
    },
    "ivr.phone_unknown": {
        VI: "Số điện thoại này chưa được đăng ký với chúng tôi.",
        EN: "This phone number is not registered with us.",
    },
    "ivr.no_report": {
        VI: "Chúng tôi chưa nhận được báo cáo nào từ số điện thoại này.",
        EN: "We have no report from this phone number.",
    },
    "ivr.agent": {
        VI: "Xin vui lòng chờ, chúng tôi đang chuyển máy tới nhân viên.",
        EN: "Please hold, we are connecting you to an agent.",
    },
}

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 basic character set: text made of these fits 160 characters per SMS."""

SMS_MAX = 160


def render(key: str, language: Language | None, **values: str) -> str:
    """The text in one language, or in both (Vietnamese first) when we do not know which."""
    template = TEXTS[key]
    if language is None:
        return " / ".join(template[lang].format(**values) for lang in (VI, EN))
    return template[language].format(**values)


def sms_text(text: str) -> str:
    """Plain GSM-7 text of at most one SMS: accents folded, other characters replaced."""
    folded = fold(text).replace("…", "...")
    safe = "".join(char if char in GSM7_BASIC else "?" for char in folded)
    return safe if len(safe) <= SMS_MAX else safe[: SMS_MAX - 3] + "..."


def spoken_ticket(ticket: str) -> str:
    """'261125-ABCDE' as text-to-speech should read it: '2 6 1 1 2 5, A B C D E'."""
    return ", ".join(" ".join(part) for part in ticket.split("-"))
