"""The service types we take through Open311 and their attributes.

Pure data and validation: no database, no HTTP. `outage` and `hazard` go through outage
intake; the customer-care types are stored as reports with their own `service_code`.
Their names and descriptions, in English and Vietnamese, are the `open311` catalogue of
`outage.i18n` (keys `service.<code>.name`, `attribute.<code>.description`...).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from outage.i18n import Language, catalogue
from outage.intake.enums import Hazard, ServiceCode

CHANGESET = "2026-11-25T00:00:00Z"
"""When this catalogue last changed; clients cache the service list until it does."""


def language(value: str | None) -> Language:
    """`vi`, `vi-VN`... mean Vietnamese; anything else, or nothing, English (Open311
    clients are not only the utility's customers, so not the service's default)."""
    return Language.VI if value and value.strip().lower().startswith("vi") else Language.EN


def text(language: Language, key: str, **values: str) -> str:
    """One of Open311's texts, its `{placeholders}` filled with `values`."""
    return catalogue("open311", language)[key].format(**values)


def hazard_name(language: Language, hazard: Hazard) -> str:
    return text(language, f"hazard.{hazard}")


class Datatype(StrEnum):
    """GeoReport v2 attribute datatypes (the ones we use)."""

    STRING = "string"
    NUMBER = "number"
    SINGLEVALUELIST = "singlevaluelist"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: Datatype
    required: bool = False
    values: tuple[str, ...] = ()
    """Keys of the choices of a list attribute."""
    value_names: str = ""
    """The catalogue table naming the choices: `<value_names>.<key>`."""
    datatype_described: bool = False
    """Whether the catalogue has `attribute.<code>.datatype_description`."""
    max_length: int = 64
    minimum: int = 1
    maximum: int = 99

    def description(self, language: Language) -> str:
        return text(language, f"attribute.{self.code}.description")

    def datatype_description(self, language: Language) -> str | None:
        if not self.datatype_described:
            return None
        return text(language, f"attribute.{self.code}.datatype_description")

    def value_name(self, language: Language, key: str) -> str:
        return text(language, f"{self.value_names}.{key}")

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
            if value not in self.values:
                raise ValueError(f"attribute[{self.code}] must be one of: {', '.join(self.values)}")
            return value
        if not value or len(value) > self.max_length:
            raise ValueError(f"attribute[{self.code}] must be 1 to {self.max_length} characters")
        return value


@dataclass(frozen=True)
class ServiceType:
    code: str
    group: str
    """Names the group in the catalogue: `group.<group>`."""
    keywords: tuple[str, ...]
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)

    def name(self, language: Language) -> str:
        return text(language, f"service.{self.code}.name")

    def description(self, language: Language) -> str:
        return text(language, f"service.{self.code}.description")

    def group_name(self, language: Language) -> str:
        return text(language, f"group.{self.group}")

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

_OUTAGES = "outages"
_CARE = "customer_care"


def _account(required: bool) -> Attribute:
    return Attribute(
        code=CUSTOMER_ACCOUNT,
        datatype=Datatype.STRING,
        required=required,
        datatype_described=True,
    )


_HAZARD_TYPE = Attribute(
    code=HAZARD_TYPE,
    datatype=Datatype.SINGLEVALUELIST,
    required=True,
    values=tuple(hazard.value for hazard in Hazard),
    value_names="hazard",
)

_HOUSEHOLD_COUNT = Attribute(
    code=HOUSEHOLD_COUNT,
    datatype=Datatype.NUMBER,
    required=True,
    datatype_described=True,
)

_SUPPLY_PURPOSE = Attribute(
    code=SUPPLY_PURPOSE,
    datatype=Datatype.SINGLEVALUELIST,
    values=("domestic", "business", "production", "public_service"),
    value_names="supply_purpose",
)


def _care(code: str, keywords: tuple[str, ...], *extra: Attribute) -> ServiceType:
    return ServiceType(code, _CARE, keywords, extra)


SERVICES: dict[str, ServiceType] = {
    service.code: service
    for service in (
        ServiceType(
            OUTAGE,
            _OUTAGES,
            ("outage", "no power", "blackout", "mất điện", "cúp điện"),
            (_account(required=False),),
        ),
        ServiceType(
            HAZARD,
            _OUTAGES,
            ("hazard", "wires down", "fire", "tree", "flood", "dây đứt", "cháy", "ngập"),
            (_HAZARD_TYPE, _account(required=False)),
        ),
        _care(
            "new_connection",
            ("new connection", "new meter", "cấp điện mới"),
            _SUPPLY_PURPOSE,
        ),
        _care(
            "meter_relocation",
            ("meter", "relocation", "di dời công tơ"),
            _account(required=True),
        ),
        _care(
            "change_of_contract_holder",
            ("contract", "owner", "hợp đồng", "sang tên"),
            _account(required=True),
        ),
        _care(
            "change_of_tariff_quota",
            ("tariff", "quota", "households", "định mức", "số hộ"),
            _account(required=True),
            _HOUSEHOLD_COUNT,
        ),
        _care(
            "meter_check",
            ("meter", "accuracy", "kiểm tra công tơ", "kiểm định"),
            _account(required=True),
        ),
        _care(
            "billing_question",
            ("bill", "payment", "hóa đơn", "tiền điện"),
            _account(required=False),
        ),
        _care(
            "electricity_safety",
            ("safety", "clearance", "an toàn điện", "hành lang lưới điện"),
            _account(required=False),
        ),
        _care(
            "service_feedback",
            ("feedback", "complaint", "góp ý", "khiếu nại"),
            _account(required=False),
        ),
    )
}
"""Every service, in the order clients list them."""

CARE_CODES = frozenset(code for code, service in SERVICES.items() if not service.is_outage_intake)
