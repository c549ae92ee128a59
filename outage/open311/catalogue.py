"""The service types we take through Open311, their attributes, in English and Vietnamese.

Pure data and validation: no database, no HTTP. `outage` and `hazard` go through outage
intake; the customer-care types are stored as reports with their own `service_code`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from outage.intake.enums import Hazard, ServiceCode

CHANGESET = "2026-11-25T00:00:00Z"
"""When this catalogue last changed; clients cache the service list until it does."""


class Lang(StrEnum):
    EN = "en"
    VI = "vi"


def language(value: str | None) -> Lang:
    """`vi`, `vi-VN`... mean Vietnamese; anything else, or nothing, English."""
    return Lang.VI if value and value.strip().lower().startswith("vi") else Lang.EN


@dataclass(frozen=True)
class Text:
    en: str
    vi: str

    def in_(self, lang: Lang) -> str:
        return self.vi if lang is Lang.VI else self.en


class Datatype(StrEnum):
    """GeoReport v2 attribute datatypes (the ones we use)."""

    STRING = "string"
    NUMBER = "number"
    SINGLEVALUELIST = "singlevaluelist"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: Datatype
    description: Text
    required: bool = False
    values: tuple[tuple[str, Text], ...] = ()
    """Keys and names of the choices of a list attribute."""
    datatype_description: Text | None = None
    max_length: int = 64
    minimum: int = 1
    maximum: int = 99

    def parse(self, raw: str) -> str | int:
        """The value as we store it; ValueError with a reason a client can act on."""
        value = raw.strip()
        if self.datatype is Datatype.NUMBER:
            if not value.isdigit() or not self.minimum <= int(value) <= self.maximum:
                raise ValueError(
                    f"attribute[{self.code}] must be a whole number from {self.minimum}"
                    f" to {self.maximum}"
                )
            return int(value)
        if self.datatype is Datatype.SINGLEVALUELIST:
            keys = [key for key, _ in self.values]
            if value not in keys:
                raise ValueError(f"attribute[{self.code}] must be one of: {', '.join(keys)}")
            return value
        if not value or len(value) > self.max_length:
            raise ValueError(f"attribute[{self.code}] must be 1 to {self.max_length} characters")
        return value


@dataclass(frozen=True)
class ServiceType:
    code: str
    name: Text
    description: Text
    group: Text
    keywords: tuple[str, ...]
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)

    @property
    def is_outage_intake(self) -> bool:
        """Outage and hazard reports go to the prediction engine; the rest to customer care."""
        return self.code in (OUTAGE, HAZARD)

    def parse_attributes(self, given: Mapping[str, str]) -> dict[str, str | int]:
        """Check submitted `attribute[code]` values; ValueError names the first problem."""
        known = {a.code: a for a in self.attributes}
        unknown = sorted(set(given) - known.keys())
        if unknown:
            raise ValueError(f"service {self.code} has no attribute {unknown[0]!r}")
        parsed: dict[str, str | int] = {}
        for attribute in self.attributes:
            raw = given.get(attribute.code)
            if raw is None or not raw.strip():
                if attribute.required:
                    raise ValueError(
                        f"attribute[{attribute.code}] is required for service {self.code}"
                    )
                continue
            parsed[attribute.code] = attribute.parse(raw)
        return parsed


OUTAGE = ServiceCode.OUTAGE
HAZARD = ServiceCode.HAZARD

CUSTOMER_ACCOUNT = "customer_account"
HAZARD_TYPE = "hazard_type"
HOUSEHOLD_COUNT = "household_count"
SUPPLY_PURPOSE = "supply_purpose"

_OUTAGES = Text("outages", "sự cố điện")
_CARE = Text("customer care", "chăm sóc khách hàng")

HAZARD_NAMES: dict[Hazard, Text] = {
    Hazard.WIRES_DOWN: Text("Wires down", "Dây điện bị đứt, rơi xuống đất"),
    Hazard.FIRE: Text("Fire or sparks", "Cháy, chập điện"),
    Hazard.TREE_ON_LINE: Text("Tree on a line", "Cây đổ vào đường dây"),
    Hazard.FLOODED_EQUIPMENT: Text("Flooded equipment", "Thiết bị điện bị ngập nước"),
}


def _account(required: bool) -> Attribute:
    return Attribute(
        code=CUSTOMER_ACCOUNT,
        datatype=Datatype.STRING,
        required=required,
        description=Text(
            "Customer number, as printed on the electricity bill",
            "Mã khách hàng, in trên hóa đơn tiền điện",
        ),
        datatype_description=Text("For example PE01000123456", "Ví dụ PE01000123456"),
    )


_HAZARD_TYPE = Attribute(
    code=HAZARD_TYPE,
    datatype=Datatype.SINGLEVALUELIST,
    required=True,
    description=Text("What is dangerous?", "Nguy hiểm gì?"),
    values=tuple((hazard.value, name) for hazard, name in HAZARD_NAMES.items()),
)

_HOUSEHOLD_COUNT = Attribute(
    code=HOUSEHOLD_COUNT,
    datatype=Datatype.NUMBER,
    required=True,
    description=Text(
        "How many households share this meter (each gets its own tariff quota)",
        "Số hộ dùng chung công tơ (mỗi hộ được tính định mức riêng)",
    ),
    datatype_description=Text("A whole number from 1 to 99", "Số nguyên từ 1 đến 99"),
)

_SUPPLY_PURPOSE = Attribute(
    code=SUPPLY_PURPOSE,
    datatype=Datatype.SINGLEVALUELIST,
    description=Text("What the electricity is for", "Mục đích sử dụng điện"),
    values=(
        ("domestic", Text("Household use", "Sinh hoạt")),
        ("business", Text("Business", "Kinh doanh")),
        ("production", Text("Production", "Sản xuất")),
        ("public_service", Text("Public service", "Hành chính sự nghiệp")),
    ),
)


def _care(
    code: str, name: Text, description: Text, keywords: tuple[str, ...], *extra: Attribute
) -> ServiceType:
    return ServiceType(code, name, description, _CARE, keywords, extra)


SERVICES: dict[str, ServiceType] = {
    service.code: service
    for service in (
        ServiceType(
            OUTAGE,
            Text("Power outage", "Mất điện"),
            Text(
                "No electricity at your home or business, or in your street.",
                "Nhà, cơ sở kinh doanh hoặc khu phố của bạn bị mất điện.",
            ),
            _OUTAGES,
            ("outage", "no power", "blackout", "mất điện", "cúp điện"),
            (_account(required=False),),
        ),
        ServiceType(
            HAZARD,
            Text("Electrical hazard", "Nguy hiểm về điện"),
            Text(
                "Wires down, fire, a tree on a line or flooded equipment. Keep away from it;"
                " if a life is at risk, call the emergency number first.",
                "Dây điện đứt, cháy, cây đổ vào đường dây hoặc thiết bị bị ngập. Hãy tránh xa;"
                " nếu có nguy hiểm đến tính mạng, hãy gọi số khẩn cấp trước.",
            ),
            _OUTAGES,
            ("hazard", "wires down", "fire", "tree", "flood", "dây đứt", "cháy", "ngập"),
            (_HAZARD_TYPE, _account(required=False)),
        ),
        _care(
            "new_connection",
            Text("New electricity connection", "Cấp điện mới"),
            Text(
                "Ask for a new supply and meter at a property.",
                "Đề nghị cấp điện và lắp công tơ mới cho một địa điểm.",
            ),
            ("new connection", "new meter", "cấp điện mới"),
            _SUPPLY_PURPOSE,
        ),
        _care(
            "meter_relocation",
            Text("Meter relocation", "Di dời công tơ"),
            Text("Move an existing meter.", "Di dời vị trí công tơ hiện có."),
            ("meter", "relocation", "di dời công tơ"),
            _account(required=True),
        ),
        _care(
            "change_of_contract_holder",
            Text("Change of contract holder", "Thay đổi chủ thể hợp đồng mua bán điện"),
            Text(
                "Put the electricity contract in another person's name.",
                "Chuyển hợp đồng mua bán điện sang tên người khác.",
            ),
            ("contract", "owner", "hợp đồng", "sang tên"),
            _account(required=True),
        ),
        _care(
            "change_of_tariff_quota",
            Text("Change of tariff quota", "Thay đổi định mức sử dụng điện"),
            Text(
                "Change the number of households sharing a meter, which sets the"
                " residential tariff quota.",
                "Thay đổi số hộ dùng chung công tơ để tính định mức giá điện sinh hoạt.",
            ),
            ("tariff", "quota", "households", "định mức", "số hộ"),
            _account(required=True),
            _HOUSEHOLD_COUNT,
        ),
        _care(
            "meter_check",
            Text("Meter accuracy check", "Kiểm tra công tơ"),
            Text(
                "Ask us to test a meter you think is wrong.",
                "Đề nghị kiểm tra, kiểm định công tơ nghi chạy sai.",
            ),
            ("meter", "accuracy", "kiểm tra công tơ", "kiểm định"),
            _account(required=True),
        ),
        _care(
            "billing_question",
            Text("Billing question", "Giải đáp hóa đơn tiền điện"),
            Text(
                "A question about an electricity bill or a payment.",
                "Thắc mắc về hóa đơn hoặc thanh toán tiền điện.",
            ),
            ("bill", "payment", "hóa đơn", "tiền điện"),
            _account(required=False),
        ),
        _care(
            "electricity_safety",
            Text("Electricity safety concern", "An toàn điện"),
            Text(
                "An unsafe installation, line clearance or construction near lines that is"
                " not an emergency. Report wires down or fire as an electrical hazard.",
                "Công trình, cây cối hoặc thiết bị mất an toàn gần đường dây nhưng chưa khẩn"
                " cấp. Dây đứt hoặc cháy hãy báo là nguy hiểm về điện.",
            ),
            ("safety", "clearance", "an toàn điện", "hành lang lưới điện"),
            _account(required=False),
        ),
        _care(
            "service_feedback",
            Text("Feedback on our service", "Góp ý về dịch vụ"),
            Text(
                "A compliment, complaint or suggestion about our service.",
                "Khen ngợi, khiếu nại hoặc góp ý về chất lượng dịch vụ.",
            ),
            ("feedback", "complaint", "góp ý", "khiếu nại"),
            _account(required=False),
        ),
    )
}
"""Every service, in the order clients list them."""

CARE_CODES = frozenset(code for code, service in SERVICES.items() if not service.is_outage_intake)
