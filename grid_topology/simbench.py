"""Import a SimBench benchmark grid (through pandapower) as a GridModel.

How SimBench elements become our devices:

| SimBench element                                           | our kind     | protective |
| ---------------------------------------------------------- | ------------ | ---------- |
| line                                                       | line         | no         |
| transformer (HV/MV, MV/LV)                                 | transformer  | no         |
| CB switch at MV or HV                                      | breaker      | yes        |
| CB switch at the MV side of an MV/LV transformer           | fuse         | yes        |
| any switch on a line leaving an MV/LV transformer's LV bus | fuse         | yes        |
| other LV switches (CB, LS), the transformer's LV switch    | switch       | no         |
| LBS (load-break switch); normally open ones are ties       | switch       | no         |
| DS                                                         | disconnector | no         |

An MV/LV transformer or LV feeder that SimBench gives no switch for still gets its fuse,
named "<transformer or line name> Fuse", so every secondary substation is protected the
same way. A switch in series with a line or transformer joins the bus to a terminal node
"<element name>@<bus name>", which the element then starts from.

Feeders are the lines leaving a substation bus through a breaker; a feeder is named after
the line's SimBench subnet ("MV3.101_Feeder1") when that name is unique.

Every load becomes one premise and one customer whose account is the load's name, with the
load's `p_mw`/`q_mvar` as its demand. A line's rating is sqrt(3) * its bus voltage * `max_i_ka`
(* `df` * `parallel`), a transformer's its `sn_mva`.

SimBench does not say which switches a control room operates remotely. We take the MV and
HV breakers and the normally open MV load-break switches (the ties) as remote, and of the
other MV load-break switches a seeded share (REMOTE_SWITCH_SHARE), as on a feeder where
some ring main units have been automated; everything else needs a crew.
"""

import json
import math
import random
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from grid_topology.customers import LoadPoint, synthesize_customers
from grid_topology.model import (
    Coordinate,
    Device,
    DeviceKind,
    Feeder,
    GridModel,
    Node,
    Premise,
    Substation,
)
from grid_topology.topology import Network, Topology

if TYPE_CHECKING:
    import pandapower as pp

LV_MAX_KV = 1.0
REMOTE_SWITCH_SHARE = 0.3
"""Share of the closed MV load-break switches taken as remote-controlled."""


class SimbenchUnavailable(RuntimeError):
    """The optional simbench extra is not installed."""


def load_simbench_net(code: str) -> "pp.pandapowerNet":
    try:
        import simbench
    except ImportError as exc:
        raise SimbenchUnavailable(
            "SimBench grids need the optional extra: pip install 'outage[simbench]'"
        ) from exc
    try:
        return simbench.get_simbench_net(code)
    except Exception as exc:
        raise ValueError(f"not a SimBench grid code: {code!r} ({exc})") from exc


def import_simbench(code: str, *, seed: int = 0) -> GridModel:
    return from_pandapower(load_simbench_net(code), seed=seed)


def _text(value: Any) -> str | None:
    """SimBench leaves blanks as NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _location(geo: Any) -> Coordinate:
    point = json.loads(geo) if isinstance(geo, str) else geo
    lon, lat = point["coordinates"][:2]
    return (round(float(lon), 7), round(float(lat), 7))


class _Builder:
    """Walks a pandapower net once, element table by element table."""

    def __init__(self, net: "pp.pandapowerNet", seed: int) -> None:
        self.net = net
        self.seed = seed
        self.bus_name: dict[int, str] = net.bus.name.to_dict()
        self.bus_kv: dict[int, float] = net.bus.vn_kv.to_dict()
        self.bus_substation = {i: _text(s) for i, s in net.bus.substation.items()}
        self.bus_location = {i: _location(g) for i, g in net.bus.geo.items()}
        self.nodes: list[Node] = []
        self.devices: list[Device] = []
        mvlv = net.trafo[net.trafo.vn_lv_kv <= LV_MAX_KV]
        self.mvlv_trafos = set(mvlv.index)
        self.lv_busbars = set(mvlv.lv_bus)
        self.switches_at: dict[tuple[str, int, int], list[int]] = {}
        for idx, sw in net.switch.iterrows():
            self.switches_at.setdefault((sw.et, int(sw.element), int(sw.bus)), []).append(idx)

    def build(self) -> GridModel:
        net = self.net
        sources = {int(b) for b in net.ext_grid[net.ext_grid.in_service].bus}
        for idx, name in self.bus_name.items():
            self.nodes.append(
                Node(
                    ref=name,
                    location=self.bus_location[idx],
                    voltage_kv=float(self.bus_kv[idx]),
                    substation=self.bus_substation[idx],
                    is_source=idx in sources,
                )
            )
        for idx, line in net.line.iterrows():
            self._add_branch(
                "l",
                idx,
                line["name"],
                DeviceKind.LINE,
                line.from_bus,
                line.to_bus,
                in_service=bool(line.in_service),
                rating_kva=math.sqrt(3)
                * float(self.bus_kv[int(line.from_bus)])
                * float(line.max_i_ka * line.df * line.parallel)
                * 1000,
            )
        for idx, trafo in net.trafo.iterrows():
            self._add_branch(
                "t",
                idx,
                trafo["name"],
                DeviceKind.TRANSFORMER,
                trafo.hv_bus,
                trafo.lv_bus,
                in_service=bool(trafo.in_service),
                rating_kva=float(trafo.sn_mva) * 1000,
            )
        for idx, sw in net.switch[net.switch.et == "b"].iterrows():
            self._add_switch(idx, self.bus_name[int(sw.bus)], self.bus_name[int(sw.element)])
        substations = [
            Substation(name, self.bus_location[idx])
            for name, idx in _first_bus_of_each_substation(self.bus_substation).items()
        ]
        model = GridModel(substations=substations, nodes=self.nodes, devices=self.devices)
        model.feeders = self._feeders(model)
        model.premises = self._with_demand(
            synthesize_customers(self._load_points(), seed=self.seed)
        )
        return model

    def _add_branch(
        self,
        et: str,
        idx: int,
        name: str,
        kind: DeviceKind,
        a: int,
        b: int,
        *,
        in_service: bool,
        rating_kva: float | None,
    ) -> None:
        ends = [self._terminal(et, idx, name, int(bus)) for bus in (a, b)]
        self.devices.append(
            Device(
                asset_ref=name,
                kind=kind,
                from_node=ends[0],
                to_node=ends[1],
                path=(self.bus_location[int(a)], self.bus_location[int(b)])
                if kind is DeviceKind.LINE
                else (self.bus_location[int(a)],),
                normal_open=not in_service,
                is_open=not in_service,
                voltage_kv=float(self.bus_kv[int(a)]),
                rating_kva=rating_kva,
                substation=self.bus_substation[int(a)] if kind is DeviceKind.TRANSFORMER else None,
            )
        )

    def _terminal(self, et: str, idx: int, name: str, bus: int) -> str:
        """The node an element starts from at a bus: the bus itself, or behind its switches."""
        switches = self.switches_at.get((et, idx, bus), [])
        needs_fuse = not switches and (
            (et == "t" and idx in self.mvlv_trafos and self.bus_kv[bus] > LV_MAX_KV)
            or (et == "l" and bus in self.lv_busbars)
        )
        if not switches and not needs_fuse:
            return self.bus_name[bus]
        terminal = f"{name}@{self.bus_name[bus]}"
        self.nodes.append(
            Node(ref=terminal, location=self.bus_location[bus], voltage_kv=self.bus_kv[bus])
        )
        for sw_idx in switches:
            self._add_switch(sw_idx, self.bus_name[bus], terminal)
        if needs_fuse:
            self.devices.append(
                Device(
                    asset_ref=f"{name} Fuse",
                    kind=DeviceKind.FUSE,
                    from_node=self.bus_name[bus],
                    to_node=terminal,
                    path=(self.bus_location[bus],),
                    voltage_kv=self.bus_kv[bus],
                )
            )
        return terminal

    def _add_switch(self, idx: int, from_node: str, to_node: str) -> None:
        sw = self.net.switch.loc[idx]
        bus = int(sw.bus)
        closed = bool(sw.closed)
        kind = self._switch_kind(sw)
        self.devices.append(
            Device(
                asset_ref=str(sw["name"]),
                kind=kind,
                from_node=from_node,
                to_node=to_node,
                path=(self.bus_location[bus],),
                normal_open=not closed,
                is_open=not closed,
                voltage_kv=float(self.bus_kv[bus]),
                substation=self.bus_substation[bus],
                remote_controlled=self._is_remote(sw, kind),
            )
        )

    def _is_remote(self, sw: Any, kind: DeviceKind) -> bool:
        if kind is DeviceKind.BREAKER:
            return True
        if kind is not DeviceKind.SWITCH or self.bus_kv[int(sw.bus)] <= LV_MAX_KV:
            return False
        if not sw.closed:
            return True
        rng = random.Random(json.dumps(["remote", self.seed, str(sw["name"])]))
        return rng.random() < REMOTE_SWITCH_SHARE

    def _switch_kind(self, sw: Any) -> DeviceKind:
        bus, element = int(sw.bus), int(sw.element)
        if self.bus_kv[bus] > LV_MAX_KV:
            if sw.type == "CB":
                is_mvlv_fuse = sw.et == "t" and element in self.mvlv_trafos
                return DeviceKind.FUSE if is_mvlv_fuse else DeviceKind.BREAKER
            return DeviceKind.DISCONNECTOR if sw.type == "DS" else DeviceKind.SWITCH
        if sw.et == "l" and bus in self.lv_busbars:
            return DeviceKind.FUSE
        return DeviceKind.DISCONNECTOR if sw.type == "DS" else DeviceKind.SWITCH

    def _feeders(self, model: GridModel) -> list[Feeder]:
        """Breakers at a substation whose line leads away from it, in the normal state."""
        topology = Topology(Network.from_model(model))
        net = self.net
        heads: list[tuple[str, str, str]] = []
        for _, sw in net.switch[net.switch.et == "l"].iterrows():
            bus = int(sw.bus)
            substation = self.bus_substation[bus]
            if substation is None or self._switch_kind(sw) is not DeviceKind.BREAKER:
                continue
            if (
                str(sw["name"])
                not in topology.upstream_of_node(
                    f"{net.line.name.at[int(sw.element)]}@{self.bus_name[bus]}"
                ).devices
            ):
                continue
            if not topology.downstream(str(sw["name"])).nodes:
                continue
            subnet = _text(net.line.subnet.at[int(sw.element)]) or str(sw["name"])
            heads.append((subnet, substation, str(sw["name"])))
        subnet_count = Counter(subnet for subnet, _, _ in heads)
        return [
            Feeder(name=subnet if subnet_count[subnet] == 1 else head, substation=sub, head=head)
            for subnet, sub, head in heads
        ]

    def _load_points(self) -> list[LoadPoint]:
        return [
            LoadPoint(
                name=str(load["name"]),
                node=self.bus_name[int(load.bus)],
                location=self.bus_location[int(load.bus)],
                group=_text(load.subnet) or self.bus_name[int(load.bus)],
                voltage_kv=float(self.bus_kv[int(load.bus)]),
            )
            for _, load in self.net.load.iterrows()
        ]

    def _with_demand(self, premises: list[Premise]) -> list[Premise]:
        demand = {
            str(load["name"]): (float(load.p_mw) * 1000, float(load.q_mvar) * 1000)
            for _, load in self.net.load.iterrows()
        }
        return [
            replace(
                p, load_kw=demand[p.customer.account][0], load_kvar=demand[p.customer.account][1]
            )
            for p in premises
        ]


def _first_bus_of_each_substation(bus_substation: dict[int, str | None]) -> dict[str, int]:
    first: dict[str, int] = {}
    for idx, name in sorted(bus_substation.items()):
        if name is not None:
            first.setdefault(name, idx)
    return first


def from_pandapower(net: "pp.pandapowerNet", *, seed: int = 0) -> GridModel:
    return _Builder(net, seed).build()
