"""Tables of the network (substations, nodes, devices, feeders) and of premises and customers."""

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from grid_topology.model import DeviceKind
from outage import clock
from outage.db import Base, LanguageCode, checked_enum
from outage.grid.enums import SwitchSource
from outage.i18n import Language

POINT = Geometry("POINT", srid=4326, spatial_index=False)


class Substation(Base):
    __tablename__ = "substations"
    __table_args__ = (Index("ix_substations_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    geom: Mapped[str] = mapped_column(POINT)


class SubstationMove(Base):
    """An import moved premises (or customers) of one substation key to another: rows
    written before under the old key (reports, meter events, messages, whose key never
    changes) are read by the new one's region too (`outage.grid.regions`), and a report
    looks for its customer's earlier one under it (`outage.intake.service`)."""

    __tablename__ = "substation_moves"

    from_substation: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_substation: Mapped[int] = mapped_column(Integer, primary_key=True)
    moved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The first import that made such a move."""


class GridNode(Base):
    """A connectivity node: where device terminals and premises meet."""

    __tablename__ = "nodes"
    __table_args__ = (Index("ix_nodes_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)
    voltage_kv: Mapped[float] = mapped_column(Float)
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"))
    is_source: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[str] = mapped_column(POINT)
    retired_in: Mapped[int | None] = mapped_column(BigInteger)
    """The structure version whose import left this node out; None: in the network."""


class Feeder(Base):
    __tablename__ = "feeders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    substation_id: Mapped[int] = mapped_column(ForeignKey("substations.id"))
    head_device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", use_alter=True, name="fk_feeders_head_device_id")
    )


class Device(Base):
    """Equipment joining two nodes; `is_open` is the live state, `normal_open` the planned one."""

    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_geom", "geom", postgresql_using="gist"),
        Index("ix_devices_feeder_id", "feeder_id"),
        Index("ix_devices_state_version", "state_version"),
        CheckConstraint("from_node_id <> to_node_id", name="ck_devices_two_nodes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_ref: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(
        Enum(
            DeviceKind,
            name="device_kind",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    is_protective: Mapped[bool] = mapped_column(Boolean)
    from_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    to_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    normal_open: Mapped[bool] = mapped_column(Boolean, default=False)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    state_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The network version at which `is_open` last changed: what a process catching up reads."""
    state_source: Mapped[SwitchSource | None] = mapped_column(
        checked_enum(SwitchSource, "device_state_source")
    )
    """What set `is_open` last; None: the import. An open protective device that no
    operator opened was opened by protection: an outage, not a switching change."""
    voltage_kv: Mapped[float | None] = mapped_column(Float)
    rating_kva: Mapped[float | None] = mapped_column(Float)
    remote_controlled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    """SCADA can operate it: restoration plans time it in seconds, not a crew's trip."""
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"))
    feeder_id: Mapped[int | None] = mapped_column(
        ForeignKey("feeders.id", use_alter=True, name="fk_devices_feeder_id")
    )
    geom: Mapped[str] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    retired_in: Mapped[int | None] = mapped_column(BigInteger)
    """The structure version whose import left this device out: kept for the records that
    name it (incidents, the switching log), out of the network. None: in the network."""


class SwitchOperation(Base):
    """A switchable device opened or closed, by whom and why: the network's switching log.

    The device's live state is its latest operation by the time it happened, so an
    operation reported late (a SCADA backfill) takes its place in history without
    overriding a later one.
    """

    __tablename__ = "switch_operations"
    __table_args__ = (
        Index("ix_switch_operations_device_time", "device_id", "occurred_at"),
        UniqueConstraint("actor", "request_key", name="uq_switch_operations_actor_request_key"),
        CheckConstraint(
            "(order_id IS NULL) = (step_position IS NULL)",
            name="ck_switch_operations_order_step",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    is_open: Mapped[bool] = mapped_column(Boolean)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    source: Mapped[SwitchSource] = mapped_column(checked_enum(SwitchSource, "switch_source"))
    actor: Mapped[str] = mapped_column(String(200))
    """Who or what: a staff member's name, a crew, "scada"."""
    reason: Mapped[str | None] = mapped_column(Text)
    request_key: Mapped[str | None] = mapped_column(String(200))
    """The reporter's key for this report (`Idempotency-Key`): a retry with it is
    recorded once. Unique per actor."""
    version: Mapped[int | None] = mapped_column(BigInteger)
    """The network version this operation produced; None when it changed no live state
    (the device was already so, or a later operation already stands)."""
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("switching_orders.id", name="fk_switch_operations_order_id"), index=True
    )
    """The switching order whose step `step_position` made this operation, if one did."""
    step_position: Mapped[int | None] = mapped_column(Integer)


class GridState(Base):
    """One row: the network's versions, which every process compares with its own copy.

    `switch_version` counts switching changes (applied incrementally); `structure_version`
    counts imports that changed the network itself (a process reloads it).
    """

    __tablename__ = "grid_state"
    __table_args__ = (CheckConstraint("id = 1", name="ck_grid_state_one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    switch_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    structure_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StructureChange(Base):
    """A device or node that the import producing `version` added, retired or changed
    (connectivity, normal state, source, or the customers served there): what a process
    reads to follow a re-import without loading the whole network again."""

    __tablename__ = "structure_changes"
    __table_args__ = (
        PrimaryKeyConstraint("version", "kind", "ref", name="pk_structure_changes"),
        CheckConstraint("kind IN ('device', 'node')", name="ck_structure_changes_kind"),
    )

    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(200))


class Premise(Base):
    """A service point; `address_search` is the accent- and case-folded address for fuzzy search."""

    __tablename__ = "premises"
    __table_args__ = (
        Index("ix_premises_geom", "geom", postgresql_using="gist"),
        UniqueConstraint("meter_id", name="uq_premises_meter_id"),
        Index(
            "ix_premises_address_search_trgm",
            "address_search",
            postgresql_using="gin",
            postgresql_ops={"address_search": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    transformer_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), index=True)
    address: Mapped[str] = mapped_column(Text)
    meter_id: Mapped[str | None] = mapped_column(String(64))
    load_kw: Mapped[float | None] = mapped_column(Float)
    """Estimated demand, for the capacity checks of restoration by switching."""
    load_kvar: Mapped[float | None] = mapped_column(Float)
    address_search: Mapped[str] = mapped_column(
        Text, Computed("search_text(address)", persisted=True)
    )
    geom: Mapped[str] = mapped_column(POINT)
    retired_in: Mapped[int | None] = mapped_column(BigInteger)
    """The structure version whose import left this premise out; None: in the network."""


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    premise_id: Mapped[int] = mapped_column(ForeignKey("premises.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[Language] = mapped_column(
        LanguageCode, CheckConstraint("language IN ('vi', 'en')", name="ck_customers_language")
    )
    critical: Mapped[str | None] = mapped_column(String(40))


Index("ix_customers_email_lower", func.lower(Customer.email))
"""E-mail addresses are matched case-blind wherever they are looked up."""


class ServiceArea(Base):
    """The territory we serve: reports from outside it are refused, not queued."""

    __tablename__ = "service_areas"
    __table_args__ = (Index("ix_service_areas_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    geom: Mapped[str] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
