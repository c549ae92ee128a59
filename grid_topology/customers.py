"""Synthetic but plausible customers for benchmark grids, which come without any.

SimBench and similar grids have loads, not people. The prediction, notification and care
pages need customers with Vietnamese names, mobile numbers and street addresses, and a
benchmark needs the same customers on every run: everything here is derived from the seed,
the load's name and its group through random.Random seeded with a string (stable across
runs, unlike hash()). Other loads matter only where uniqueness demands it: the house number
is the load's rank along its group's street, and the rare clash of a phone number, an e-mail
address or a street is settled in load-name order, so the input order never matters.

The phone numbers are valid Vietnamese mobile numbers that may belong to real people and the
e-mail addresses use the reserved example.com/.net/.org domains: never send real messages to
synthetic customers.
"""

import json
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from grid_topology.model import Coordinate, Customer, Premise

BUSINESS_ABOVE_KV = 1.0
"""Loads connected above this voltage are businesses, the rest households."""
LIFE_SUPPORT_SHARE = 0.005
EMAIL_SHARE = 0.6
ENGLISH_SHARE = 0.1


@dataclass(frozen=True)
class LoadPoint:
    """A load of a benchmark grid, the seed of one synthetic customer."""

    name: str
    node: str
    location: Coordinate
    group: str
    """The LV grid or feeder the load belongs to; its loads share a street."""
    voltage_kv: float


def synthesize_customers(loads: Sequence[LoadPoint], seed: int = 0) -> list[Premise]:
    """One premise with one customer per load, sorted by load name (natural order).

    The customer's account is the load's name and the premise ref is "P-" + that name.
    """
    ordered = sorted(loads, key=lambda load: _natural_key(load.name))
    duplicates = sorted(name for name, n in Counter(load.name for load in ordered).items() if n > 1)
    if duplicates:
        raise ValueError(f"load names must be unique, repeated: {duplicates[:5]}")
    addresses = _addresses(ordered, seed)
    phones: set[str] = set()
    emails: set[str] = set()
    premises = []
    for load in ordered:
        rng = random.Random(json.dumps(["customer", seed, load.group, load.name]))
        customer = _customer(load, rng, phones, emails)
        premises.append(
            Premise(
                ref=f"P-{load.name}",
                node=load.node,
                location=load.location,
                address=addresses[load.name],
                customer=customer,
                meter_id=f"M-{load.name}",
            )
        )
    return premises


def _natural_key(text: str) -> tuple[tuple[int | str, ...], str]:
    """Sorts "Load 2" before "Load 10"; the raw text breaks ties such as "01" and "1"."""
    parts = re.split(r"(\d+)", text)
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), text


# Names

_FAMILY_NAMES = {
    "Nguyễn": 38,
    "Trần": 11,
    "Lê": 9.5,
    "Phạm": 7,
    "Hoàng": 4,
    "Huỳnh": 3,
    "Phan": 4.5,
    "Vũ": 2,
    "Võ": 2,
    "Đặng": 2.1,
    "Bùi": 2,
    "Đỗ": 1.4,
    "Hồ": 1.3,
    "Ngô": 1.3,
    "Dương": 1,
    "Lý": 0.5,
    "Đinh": 0.8,
    "Trương": 0.9,
    "Mai": 0.5,
    "Lương": 0.4,
}
"""Vietnamese family names with their approximate share in percent."""
_MIDDLE_NAMES = {
    "male": ("Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Xuân", "Ngọc"),
    "female": ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Phương", "Mỹ"),
}
_GIVEN_NAMES = {
    "male": (
        "An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
        "Khánh", "Khoa", "Long", "Minh", "Nam", "Phong", "Phúc", "Quang", "Sơn", "Tâm",
        "Thắng", "Thành", "Trung", "Tuấn", "Tùng", "Việt", "Vinh",
    ),
    "female": (
        "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương",
        "Huyền", "Lan", "Linh", "Mai", "Nga", "Ngân", "Nhung", "Phương", "Quyên", "Tâm",
        "Thảo", "Thủy", "Trang", "Vân", "Yến",
    ),
}  # fmt: skip
_BRAND_WORDS = (
    "An", "Bảo", "Bình", "Đại", "Đạt", "Hòa", "Hưng", "Kim", "Long", "Lợi", "Minh",
    "Nam", "Nhật", "Phát", "Phú", "Phúc", "Quang", "Sơn", "Tân", "Thành", "Thịnh",
    "Thuận", "Tiến", "Trường", "Việt", "Vĩnh",
)  # fmt: skip
"""Auspicious Sino-Vietnamese words that Vietnamese firms are named with, two at a time."""
_INDUSTRIES = (
    "Thương mại", "Xây dựng", "Cơ khí", "May mặc", "Thực phẩm", "Dịch vụ", "Vận tải",
    "Nhựa", "Bao bì", "Điện tử", "Dược phẩm", "In ấn",
)  # fmt: skip
_FACTORIES = ("Gạch", "Nước đá", "Thép", "Bia", "Giấy", "Gỗ", "Xi măng")
_SCHOOL_NAMESAKES = (
    "Chu Văn An", "Nguyễn Du", "Lê Quý Đôn", "Trần Phú", "Nguyễn Trãi", "Lê Lợi",
    "Kim Đồng", "Võ Thị Sáu", "Trưng Vương", "Phan Đình Phùng",
)  # fmt: skip
_BUSINESSES = (
    # (share in percent, name pattern, critical)
    (28, "Công ty TNHH {industry} {brand}", None),
    (14, "Công ty Cổ phần {industry} {brand}", None),
    (10, "Nhà máy {factory} {brand}", None),
    (8, "Khách sạn {brand}", None),
    (8, "Siêu thị {brand}", None),
    (6, "Chợ {brand}", None),
    (6, "Trường THPT {namesake}", None),
    (4, "Tòa nhà văn phòng {brand}", None),
    (8, "Bệnh viện Đa khoa {brand}", "hospital"),
    (8, "Trạm bơm nước {brand}", "water_pumping"),
)
"""What a customer connected at medium voltage is; hospitals and pumps are critical."""


def _person(rng: random.Random) -> str:
    sex = rng.choice(("male", "female"))
    family = rng.choices(list(_FAMILY_NAMES), weights=list(_FAMILY_NAMES.values()))[0]
    middle = rng.choice(_MIDDLE_NAMES[sex])
    given = rng.choice([name for name in _GIVEN_NAMES[sex] if name != middle])
    return f"{family} {middle} {given}"


def _business(rng: random.Random) -> tuple[str, str, str | None]:
    """(name, the distinctive part of the name, critical)."""
    weights = [share for share, _, _ in _BUSINESSES]
    _, pattern, critical = rng.choices(_BUSINESSES, weights=weights)[0]
    brand = " ".join(rng.sample(_BRAND_WORDS, 2))
    namesake = rng.choice(_SCHOOL_NAMESAKES)
    name = pattern.format(
        industry=rng.choice(_INDUSTRIES),
        factory=rng.choice(_FACTORIES),
        brand=brand,
        namesake=namesake,
    )
    return name, namesake if "{namesake}" in pattern else brand, critical


# Contact details

_MOBILE_PREFIXES = (
    *range(32, 40),  # Viettel
    56, 58, 59,  # Vietnamobile, Gmobile
    70, 76, 77, 78, 79,  # MobiFone
    *range(81, 89),  # VinaPhone, Viettel, Itel
    90, 91, 92, 93, 94, 96, 97, 98,  # MobiFone, VinaPhone, Vietnamobile, Viettel
)  # fmt: skip
"""Vietnamese mobile prefixes after +84 that take any 7 further digits."""
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
"""Reserved for examples (RFC 2606), so no message to a synthetic customer reaches anyone."""
_BUSINESS_MAILBOXES = ("lienhe", "info", "ketoan", "hanhchinh", "cskh")


def _customer(load: LoadPoint, rng: random.Random, phones: set[str], emails: set[str]) -> Customer:
    """Draws everything else first, so a phone clash shifts nothing but the phone."""
    critical: str | None
    if load.voltage_kv > BUSINESS_ABOVE_KV:
        name, brand, critical = _business(rng)
        local = f"{rng.choice(_BUSINESS_MAILBOXES)}.{_ascii(brand).replace(' ', '')}"
    else:
        name = _person(rng)
        critical = "life_support" if rng.random() < LIFE_SUPPORT_SHARE else None
        local = _personal_mailbox(name, rng)
    email = f"{local}@{rng.choice(_EMAIL_DOMAINS)}" if rng.random() < EMAIL_SHARE else None
    language = "en" if rng.random() < ENGLISH_SHARE else "vi"
    phone = _mobile(rng)
    while phone in phones:
        phone = _mobile(rng)
    phones.add(phone)
    if email is not None:
        email = _unused(email, emails)
        emails.add(email)
    return Customer(load.name, name, phone, email, language, critical)


def _mobile(rng: random.Random) -> str:
    return f"+84{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"


def _personal_mailbox(name: str, rng: random.Random) -> str:
    family, *middle, given = _ascii(name).split()
    number = rng.randrange(1960, 2006) if rng.random() < 0.5 else rng.randrange(1, 100)
    return rng.choice(
        (
            f"{given}.{family}{number}",
            f"{given}{family}{number}",
            f"{family}{''.join(middle)}{given}{number}",
            f"{given}.{''.join(n[0] for n in (family, *middle))}{number}",
        )
    )


def _unused(email: str, taken: set[str]) -> str:
    """The address itself, or with a counter in the mailbox part if it is taken."""
    local, domain = email.split("@")
    counter = 1
    while email in taken:
        counter += 1
        email = f"{local}.{counter}@{domain}"
    return email


def _ascii(text: str) -> str:
    """Lower-case ASCII: "Đặng Thị Hạnh" -> "dang thi hanh"."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# Addresses

_CITIES = {
    "Hà Nội": (
        (105.8542, 21.0285),
        "ngõ",
        (
            ("Lý Thường Kiệt", "Phường Hàng Bài", "Quận Hoàn Kiếm"),
            ("Hàng Bông", "Phường Hàng Bông", "Quận Hoàn Kiếm"),
            ("Tràng Tiền", "Phường Tràng Tiền", "Quận Hoàn Kiếm"),
            ("Hàng Bạc", "Phường Hàng Bạc", "Quận Hoàn Kiếm"),
            ("Kim Mã", "Phường Kim Mã", "Quận Ba Đình"),
            ("Đội Cấn", "Phường Đội Cấn", "Quận Ba Đình"),
            ("Nguyễn Chí Thanh", "Phường Láng Thượng", "Quận Đống Đa"),
            ("Tây Sơn", "Phường Quang Trung", "Quận Đống Đa"),
            ("Khâm Thiên", "Phường Khâm Thiên", "Quận Đống Đa"),
            ("Láng Hạ", "Phường Láng Hạ", "Quận Đống Đa"),
            ("Bạch Mai", "Phường Bạch Mai", "Quận Hai Bà Trưng"),
            ("Minh Khai", "Phường Minh Khai", "Quận Hai Bà Trưng"),
            ("Lạc Long Quân", "Phường Bưởi", "Quận Tây Hồ"),
            ("Xuân Thủy", "Phường Dịch Vọng Hậu", "Quận Cầu Giấy"),
            ("Trần Duy Hưng", "Phường Trung Hòa", "Quận Cầu Giấy"),
            ("Hoàng Quốc Việt", "Phường Nghĩa Đô", "Quận Cầu Giấy"),
            ("Nguyễn Trãi", "Phường Thượng Đình", "Quận Thanh Xuân"),
            ("Giải Phóng", "Phường Phương Liệt", "Quận Thanh Xuân"),
            ("Nguyễn Văn Cừ", "Phường Gia Thụy", "Quận Long Biên"),
        ),
    ),
    "Thành phố Hồ Chí Minh": (
        (106.7009, 10.7769),
        "hẻm",
        (
            ("Lê Lợi", "Phường Bến Thành", "Quận 1"),
            ("Nguyễn Huệ", "Phường Bến Nghé", "Quận 1"),
            ("Đồng Khởi", "Phường Bến Nghé", "Quận 1"),
            ("Hai Bà Trưng", "Phường Tân Định", "Quận 1"),
            ("Trần Hưng Đạo", "Phường Cầu Kho", "Quận 1"),
            ("Nguyễn Trãi", "Phường Nguyễn Cư Trinh", "Quận 1"),
            ("Nguyễn Đình Chiểu", "Phường Võ Thị Sáu", "Quận 3"),
            ("Cách Mạng Tháng Tám", "Phường 10", "Quận 3"),
            ("Lê Văn Sỹ", "Phường 14", "Quận 3"),
            ("Phan Xích Long", "Phường 2", "Quận Phú Nhuận"),
            ("Điện Biên Phủ", "Phường 25", "Quận Bình Thạnh"),
            ("Xô Viết Nghệ Tĩnh", "Phường 21", "Quận Bình Thạnh"),
            ("Cộng Hòa", "Phường 4", "Quận Tân Bình"),
            ("Quang Trung", "Phường 10", "Quận Gò Vấp"),
            ("Nguyễn Thị Thập", "Phường Tân Phú", "Quận 7"),
        ),
    ),
    "Đà Nẵng": (
        (108.2208, 16.0544),
        "kiệt",
        (
            ("Bạch Đằng", "Phường Hải Châu I", "Quận Hải Châu"),
            ("Trần Phú", "Phường Thạch Thang", "Quận Hải Châu"),
            ("Lê Duẩn", "Phường Thạch Thang", "Quận Hải Châu"),
            ("Nguyễn Văn Linh", "Phường Nam Dương", "Quận Hải Châu"),
            ("Hùng Vương", "Phường Hải Châu II", "Quận Hải Châu"),
            ("Võ Nguyên Giáp", "Phường Phước Mỹ", "Quận Sơn Trà"),
            ("Ngô Quyền", "Phường An Hải Bắc", "Quận Sơn Trà"),
            ("Điện Biên Phủ", "Phường Chính Gián", "Quận Thanh Khê"),
            ("Tôn Đức Thắng", "Phường Hòa Minh", "Quận Liên Chiểu"),
        ),
    ),
}
"""City -> (centre, the local word for an alley, real streets with a ward and district)."""
FRONTAGE_SHARE = 0.4
"""Groups of households on a street itself; the others are down one of its alleys."""


def _addresses(ordered: Sequence[LoadPoint], seed: int) -> dict[str, str]:
    """Load name -> address: one street or alley per group, house numbers rising along it.

    The city is the one nearest to the group's first load, so a grid placed on a Vietnamese
    city gets that city's streets. Businesses face the street, many households live down an
    alley of it, and two groups never share a street and alley.
    """
    groups: dict[str, list[LoadPoint]] = defaultdict(list)
    for load in ordered:
        groups[load.group].append(load)
    taken: set[tuple[str, str, int]] = set()
    addresses = {}
    for group in sorted(groups, key=_natural_key):
        loads = groups[group]
        rng = random.Random(json.dumps(["street", seed, group]))
        city = min(_CITIES, key=lambda c: math.dist(_CITIES[c][0], loads[0].location))
        _, alley_word, streets = _CITIES[city]
        street, ward, district = rng.choice(streets)
        businesses = any(load.voltage_kv > BUSINESS_ABOVE_KV for load in loads)
        on_street = rng.random() < FRONTAGE_SHARE or businesses
        alley = 0 if on_street else rng.randrange(1, 200)
        while (city, street, alley) in taken:
            alley += 1
        taken.add((city, street, alley))
        way = f"{alley_word} {alley} {street}" if alley else street
        number = rng.randrange(1, 120)
        for load in loads:
            addresses[load.name] = f"{number} {way}, {ward}, {district}, {city}"
            number += rng.randrange(1, 5)
    return addresses
