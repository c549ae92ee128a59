"""Runtime configuration, read from the environment (and an optional `.env` file).

Every setting is `OUTAGE_<NAME>` in the environment, except `DATABASE_URL` and
`DATABASE_REPLICA_URL`. Durations are given in the unit their name ends with
(`OUTAGE_SESSION_HOURS=8`: eight hours) and held as `timedelta`s (`outage.durations`);
the local time zone is held as a `ZoneInfo`.
"""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, AwareDatetime, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.etr import Quantiles
from dispatch.travel import ROAD_FACTOR, SPEED_KMH
from outage.durations import NO_TIME, Days, Hours, Minutes, Seconds, WholeDays

MAX_SPEED = 1000.0
"""The fastest a scaled clock may run: beyond it a minute of service time is gone before a
request is answered."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_prefix="OUTAGE_", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "OUTAGE_DATABASE_URL"),
        description="SQLAlchemy URL of PostgreSQL+PostGIS; unset means the private cluster.",
    )
    database_replica_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_REPLICA_URL", "OUTAGE_DATABASE_REPLICA_URL"),
        description="SQLAlchemy URL of a streaming-replication standby of `DATABASE_URL` "
        "(the same database on the standby): the public map, the public feeds, the "
        "reliability reports and the published figures read from it while it is no more "
        "than `replica_max_lag_s` behind. Unset: everything reads the primary.",
    )
    replica_max_lag_s: Seconds = Field(
        default=timedelta(seconds=10),
        gt=NO_TIME,
        description="The most the standby's data may be behind the primary's for public "
        "reads to go to it; further behind (or unreachable), they go to the primary.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the private PostgreSQL cluster and other local state live.",
    )
    local_timezone: ZoneInfo = Field(
        default=ZoneInfo("Asia/Ho_Chi_Minh"),
        description="The utility's local time (an IANA time zone): times on pages and in "
        "messages, quiet hours, and the days of daily SAIDI and Major Event Days.",
    )
    clock_epoch: AwareDatetime | None = Field(
        default=None,
        description="Start of a scaled clock (an ISO time with its offset), for a demo or a "
        "drill: from this moment the service's time runs `clock_speed` times faster than the "
        "wall clock (`outage/clock.py`). Unset: the wall clock.",
    )
    clock_speed: float = Field(
        default=1.0,
        gt=0,
        le=MAX_SPEED,
        description="Seconds of the service's time per wall second, from `clock_epoch` on.",
    )
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000)
    territory_margin_m: float = Field(
        default=2000.0,
        description="How far beyond the network's outline reports are still ours.",
    )
    gps_premise_radius_m: float = Field(
        default=100.0, description="A GPS fix this close to a premise is taken as that premise."
    )
    gps_transformer_radius_m: float = Field(
        default=1000.0,
        description="Else a transformer this close is taken; beyond it an agent decides.",
    )
    duplicate_window_hours: Hours = Field(
        default=timedelta(hours=12),
        description="A customer's second report within this time attaches to the first.",
    )
    hazard_likely_confidence: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="A hazard read from an SMS or e-mail's words with at least this "
        "confidence is filed as a hazard and opens a hazard incident at once; below it the "
        "report is an outage report whose words an agent reads.",
    )
    incident_window_hours: Hours = Field(
        default=timedelta(hours=4),
        description="Reports further apart than this, with no open incident, start a new one.",
    )
    engine_regions: dict[int, list[str]] = Field(
        default_factory=dict,
        description="The prediction engines' regions, as JSON: region number -> the "
        'substations it holds (`{"1": ["North"], "2": ["South", "Port"]}`). Region 0 holds '
        "every substation not named and whatever is on no feeder; empty: region 0 is the "
        "whole network, worked by one engine. Names are checked when the service starts.",
    )
    event_max_age_hours: Hours = Field(
        default=timedelta(hours=168),
        gt=NO_TIME,
        description="SCADA events dated further back than this are refused (422); such a "
        "meter event is rejected alone in its batch.",
    )
    ami_headend_url: str | None = Field(
        default=None,
        description="The AMI head-end that pings meters (docs/ami-headend.md): requests are "
        "POSTed to `{url}/pings`. Unset: meters are never asked.",
    )
    ami_headend_token: SecretStr | None = Field(
        default=None, description="Bearer token sent with each ping request to the head-end."
    )
    ami_headend_max_batch: int = Field(
        default=500, gt=0, description="Meters the head-end takes in one ping request."
    )
    ami_headend_max_per_minute: int = Field(
        default=2000, gt=0, description="Meters the head-end takes to ping in a minute."
    )
    ami_ping_wait_minutes: Minutes = Field(
        default=timedelta(minutes=10),
        gt=NO_TIME,
        description="A ping unanswered this long after it was asked is recorded as no answer.",
    )
    ami_ping_confidence: float = Field(
        default=0.99,
        gt=0.5,
        lt=1.0,
        description="The engine asks meters about a predicted outage while its likeliest "
        "explanation is less probable than this (docs/prediction.md, Asking meters).",
    )
    ami_ping_budget: int = Field(
        default=10, ge=0, description="Meters the engine asks about one incident, in all."
    )
    ami_ping_loss: float = Field(
        default=0.1,
        ge=0.0,
        lt=1.0,
        description="The head-end's share of pings that get no answer, as the engine plans "
        "for it (a second meter of a kind is asked when losing the first would cost much).",
    )
    ami_verify_per_section: int = Field(
        default=2,
        ge=0,
        description="When an outage is restored, meters asked in each section below its "
        "device (under each fuse, transformer or recloser), besides every critical "
        "customer's, to find a fault left behind (0: the critical customers' only).",
    )
    ami_verify_max_meters: int = Field(
        default=200,
        ge=0,
        description="At most this many meters sampled for one restoration, critical "
        "customers' aside: a large feeder's sections are taken in a seeded order.",
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or networks, a JSON list) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty: the client address is "
        "the socket's, whatever the headers say.",
    )
    rate_limit_per_ip: str = Field(default="300/minute")
    rate_limit_per_phone: str = Field(default="10/hour")
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=0,
        description="Larger request bodies get 413, counted as they are read (chunked too).",
    )
    max_json_depth: int = Field(
        default=32, ge=1, le=200, description="JSON bodies nested deeper get 422."
    )
    max_json_items: int = Field(
        default=25_000,
        ge=1,
        description="JSON bodies with more values (keys and array items count) get 422.",
    )
    bulk_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=0,
        description="The body limit of a head-end's batch of meter events (up to 10,000).",
    )
    bulk_json_items: int = Field(
        default=100_000,
        ge=1,
        description="The JSON values a head-end's batch of meter events may hold.",
    )
    sample_grid: Path = Field(
        default=Path(__file__).resolve().parent.parent / "data" / "sample-grid.geojson.gz",
    )
    smtp_receiver_host: str = Field(
        default="127.0.0.1", description="Where the inbound e-mail receiver listens."
    )
    smtp_receiver_port: int = Field(
        default=8025, description="TCP port of the inbound e-mail receiver; 0 turns it off."
    )
    smtp_max_message_bytes: int = Field(
        default=10 * 1024 * 1024, description="Larger e-mails are refused (SMTP 552)."
    )
    session_hours: Hours = Field(
        default=timedelta(hours=12),
        gt=NO_TIME,
        description="How long a staff member's web session lasts (one shift).",
    )
    token_hours: Hours = Field(
        default=timedelta(hours=12),
        gt=NO_TIME,
        description="How long a bearer token from /api/v1/auth/token lasts.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins of one username from one address before each further "
        "try from there waits (1 s, then twice as long each time).",
    )
    login_address_max_failures: int = Field(
        default=50,
        ge=1,
        description="Failed sign-ins from one address over all usernames before each further "
        "try from there waits.",
    )
    login_max_delay_seconds: Seconds = Field(
        default=timedelta(seconds=300),
        gt=NO_TIME,
        description="The longest wait between sign-in tries.",
    )
    login_window_minutes: Minutes = Field(
        default=timedelta(minutes=15),
        gt=NO_TIME,
        description="Failures counted with no try for this long are forgotten.",
    )
    status_check_limit: str = Field(
        default="10/15minutes",
        description="Wrong `phone_last4` checks of one ticket from one client address (an "
        "IPv6 one's /64 network) before 429 (a guessing guard that does not lock the customer "
        "out from their own address).",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset: when the request came over TLS.",
    )
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="When set, an Open311 request naming another jurisdiction_id gets 404.",
    )
    open311_contact: str = Field(
        default="Customer care centre of the power company",
        description="Who runs the Open311 endpoint, for its discovery document.",
    )
    open311_key_service: str = Field(
        default="API keys for posting service requests are issued by the customer care centre.",
        description="How a developer gets an Open311 API key, for the discovery document.",
    )
    # photos
    photo_max_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Larger photos get 413, counted as they are read. A multipart body "
        "(a form with a photo) may be this much larger than `max_body_bytes`.",
    )
    photo_max_pixels: int = Field(
        default=24_000_000,
        ge=1,
        description="Photos of more pixels are refused (422) before they are decoded, "
        "against images that unpack to gigabytes.",
    )
    photo_decodes_at_once: int = Field(
        default=2,
        ge=1,
        description="Photos decoded and re-encoded at the same time in one process; more "
        "wait their turn, so a burst of large images cannot take all memory and CPU.",
    )
    photo_max_per_report: int = Field(
        default=5, ge=1, description="Photos kept per report; more get 409."
    )
    photo_max_per_incident: int = Field(
        default=50, ge=1, description="Photos staff and crews add to one incident; more get 409."
    )
    photo_url_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts whose `media_url` (Open311) is fetched whatever their address "
        "(a JSON list); other hosts only when every address they resolve to is public "
        "(never a private, loopback or link-local one), and from the address so checked.",
    )
    photo_url_timeout_seconds: Seconds = Field(
        default=timedelta(seconds=10),
        gt=NO_TIME,
        description="A `media_url` fetch taking longer is given up (and recorded).",
    )
    # care
    care_sla_hours: dict[str, Annotated[Hours, Field(gt=NO_TIME)]] = Field(
        default_factory=dict,
        description="Calendar hours to close each type of service request, as JSON "
        '(`{"meter_check": 24}`); types not named keep their defaults '
        "(`DEFAULT_TARGETS` in `outage/care/sla.py`, which checks the names).",
    )
    care_default_team: str = Field(
        default="customer-care",
        min_length=1,
        description="The care team that owns new service requests of the types "
        "`care_team_by_type` does not name (the migrations create `customer-care`; other "
        "teams with `outage care-teams add`).",
    )
    care_team_by_type: dict[str, str] = Field(
        default_factory=dict,
        description="The team owning new requests of each type, as JSON "
        '(`{"new_connection": "connections"}`); the names of types and teams are checked '
        "when the service starts (`check_routing` in `outage/care/owners.py`).",
    )
    care_warn_share: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="An open request's owner is warned once this share of its SLA time has "
        "gone (0.8: with a fifth left); past due it is escalated to its team's supervisor. "
        "Each happens once per request.",
    )
    care_tell_handover: bool = Field(
        default=False,
        description="Tell the requester the team's name when their request passes to "
        "another team or, past due, to a supervisor (never a staff member's name).",
    )
    # maps
    map_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Tile URL template of the maps' base layer; empty for none (an offline "
        "control room). A local tile server must be on this site's origin or on HTTPS.",
    )
    map_tile_attribution: str = Field(
        default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
        "contributors",
        description="Attribution of the tiles (HTML, shown in the map's corner).",
    )
    map_cache_seconds: Seconds = Field(
        default=timedelta(seconds=15),
        gt=NO_TIME,
        description="How long the public map's data is served from memory before it is "
        "read again: a storm's viewers do not reach the database.",
    )
    map_poll_seconds: Seconds = Field(
        default=timedelta(seconds=10),
        gt=NO_TIME,
        description="How often the maps ask for fresh data.",
    )
    map_h3_resolution: int = Field(
        default=8,
        ge=5,
        le=10,
        description="H3 resolution of the public map's areas (8: cells of about 0.7 km²).",
    )
    map_min_customers: int = Field(
        default=3,
        ge=1,
        description="Areas with fewer customers out are merged into their parent cell, or "
        "left off the public map: no one household can be picked out.",
    )
    map_lookup_limit: str = Field(
        default="30/minute",
        description="Searches on the public map (an address, an area, a ticket, the "
        "visitor's position) from one client address before 429.",
    )
    # public feeds
    feed_alert_customers: int = Field(
        default=100,
        ge=1,
        description="An outage that cut off at least this many customers is an alert in the "
        "public CAP and Atom feeds until it ends, partly restored or not (every hazard is "
        "one, whatever its size).",
    )
    feed_ended_hours: Hours = Field(
        default=timedelta(hours=6),
        gt=NO_TIME,
        description="A restored or cancelled alert stays in the feeds this long, so "
        "subscribers hear that it is over.",
    )
    feed_sender: str = Field(
        default="outages.example.vn",
        pattern=r"^[^\s,<&]+$",
        description="Who the CAP alerts are from (`sender`, and the start of every alert's "
        "identifier): a name of the utility's own domain.",
    )
    # notifications
    notify_sms_url: str | None = Field(
        default=None,
        description="Apprise URL of the SMS gateway, e.g. `json://gateway.local/sms` or "
        "`form://...`; the phone goes in the payload field `to`. Unset: no SMS.",
    )
    notify_email_url: str | None = Field(
        default=None,
        description="Apprise `mailto://` URL of the SMTP server (`?from=` the sender); the "
        "customer's address is added as `to`. Unset: no e-mail.",
    )
    notify_webhook_url: str | None = Field(
        default=None,
        description="Apprise URL of a generic webhook (a push service, an app backend); the "
        "customer's account goes in the payload field `to`. Unset: no webhook.",
    )
    zalo_api_url: str = Field(
        default="https://openapi.zalo.me",
        description="Base URL of Zalo's Official Account API; replies and notifications are "
        "posted to `<url>/v3.0/oa/message/cs`.",
    )
    zalo_access_token: SecretStr | None = Field(
        default=None,
        description="The Official Account's access token for its API. Unset: no Zalo messages "
        "(they are dead-lettered with the reason).",
    )
    zalo_app_id: str | None = Field(
        default=None,
        description="The Zalo app linked to the Official Account; events of another app are "
        "refused. Unset: any app id the signature covers.",
    )
    zalo_oa_secret_key: SecretStr | None = Field(
        default=None,
        description="The Official Account's secret key (not the app's), which signs Zalo's "
        "webhook events. Unset: the Zalo webhook is off (503).",
    )
    notify_workers: int = Field(
        default=1, ge=0, description="Delivery worker threads `serve` starts (engine role)."
    )
    notify_concurrency: int = Field(
        default=16, ge=1, description="Messages one worker sends at once to the gateways."
    )
    notify_batch: int = Field(
        default=500, ge=1, description="Messages a worker claims per round trip."
    )
    notify_lease_seconds: Seconds = Field(
        default=timedelta(seconds=120),
        gt=NO_TIME,
        description="A claimed message not recorded within this time (the worker died) is "
        "claimed again.",
    )
    notify_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a message is dead-lettered."
    )
    notify_backoff_seconds: Seconds = Field(
        default=timedelta(seconds=30),
        gt=NO_TIME,
        description="Wait after the first failure; doubles each time.",
    )
    notify_backoff_max_seconds: Seconds = Field(
        default=timedelta(hours=1), gt=NO_TIME, description="The longest wait between two attempts."
    )
    notify_etr_interval_minutes: Minutes = Field(
        default=timedelta(minutes=30),
        description="At most one ETR-changed message per customer and incident in this time "
        "after their last message with an ETR; later changes are folded into the waiting one.",
    )
    notify_first_etr_wait_minutes: Minutes = Field(
        default=timedelta(minutes=3),
        description='An "outage detected" message waits this long after the event (safety '
        "messages never wait), so an ETR set meanwhile goes in the same message.",
    )
    notify_etr_change_minutes: Minutes = Field(
        default=timedelta(minutes=15),
        description="An ETR change is told only when it moves the ETR customers were last "
        "told by more than this.",
    )
    notify_planned_days: Days = Field(
        default=timedelta(days=5),
        gt=NO_TIME,
        description="Planned-outage notices go out this many days ahead.",
    )
    notify_reminder_hours: Hours = Field(
        default=timedelta(hours=24),
        gt=NO_TIME,
        description="The reminder of a planned outage, this long before.",
    )
    notify_quiet_hours: str | None = Field(
        default="22:00-06:00",
        pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
        description="Local hours when only safety messages go out (others wait for the end); "
        "a customer may choose their own. Unset: none.",
    )
    subscription_code_minutes: Minutes = Field(
        default=timedelta(minutes=10),
        gt=NO_TIME,
        description="A one-time code that verifies a new alert contact expires after this.",
    )
    subscription_code_tries: int = Field(
        default=5, ge=1, description="Wrong answers a code takes before it is spent."
    )
    subscription_codes_per_hour: int = Field(
        default=3, ge=1, description="Codes one contact may be sent in an hour."
    )
    subscription_codes_per_hour_total: int = Field(
        default=2000,
        ge=1,
        description="Codes everyone together may be sent in an hour: a script asking for "
        "codes to numbers it makes up stops here.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers reach this service: links in messages start with it.",
    )
    # privacy
    retention_days: WholeDays = Field(
        default=timedelta(days=365),
        gt=NO_TIME,
        description="Personal data not tied to a customer record (reporters' phones and "
        "e-mails, free text, delivered messages' addresses, sign-in IPs) is erased this many "
        "days after it came; the records themselves stay.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="An Ed25519 private key (PEM, PKCS#8) that signs each day's root of the "
        "tamper-evident records (`docs/tamper-evidence.md`); unset: roots are published "
        "unsigned. Keep it off the database's machine.",
    )
    # crews and dispatch
    dispatch_time_limit_s: Seconds = Field(
        default=timedelta(seconds=5),
        gt=NO_TIME,
        le=timedelta(seconds=60),
        description="Wall time of one run of the dispatch optimiser.",
    )
    dispatch_replan_s: Seconds = Field(
        default=timedelta(seconds=30),
        gt=NO_TIME,
        description="How often the engine checks whether incidents or crews changed, and "
        "re-plans when they did.",
    )
    dispatch_plan_max_age_minutes: Minutes = Field(
        default=timedelta(minutes=15),
        gt=NO_TIME,
        description="Re-plan after this long even when nothing changed.",
    )
    dispatch_storm_incidents: int = Field(
        default=20,
        ge=1,
        description="With more active incidents than this, ETRs count each crew's backlog.",
    )
    storm_incidents_per_hour: tuple[int, int, int] = Field(
        default=(10, 30, 100),
        description="New outages in the last hour that propose storm levels 1, 2 and 3, as "
        "JSON: `[10, 30, 100]`.",
    )
    storm_share_out: tuple[float, float, float] = Field(
        default=(0.02, 0.08, 0.20),
        description="Shares of all customers out that propose storm levels 1, 2 and 3.",
    )
    etr_earliest_quantile: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="An estimated restoration's range starts at this percentile of the "
        'calibrated estimate (customers see "likely between" it and the latest).',
    )
    etr_expected_quantile: float = Field(
        default=0.5, gt=0, lt=1, description="The headline time of an estimated restoration."
    )
    etr_latest_quantile: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="An estimated restoration's range ends at this percentile: the time "
        "re-estimated and told again before it passes.",
    )
    dispatch_road_factor: float = Field(
        default=ROAD_FACTOR, ge=1, description="Road distance over straight-line distance."
    )
    dispatch_speed_kmh: float = Field(default=SPEED_KMH, gt=0, description="Crews' average speed.")
    dispatch_position_max_age_minutes: Minutes = Field(
        default=timedelta(minutes=60),
        gt=NO_TIME,
        description="A crew's position older than this is not trusted: it is planned from "
        "its depot.",
    )
    order_approver_roles: list[str] = Field(
        default=["supervisor", "dispatcher", "admin"],
        description="Staff roles that may approve a switching order (always someone other "
        'than its drafter), as JSON: `["supervisor"]`.',
    )
    scada_command_url: str | None = Field(
        default=None,
        description="Where switching orders' steps are sent as SCADA commands (POST JSON). "
        "Unset: a crew or the dispatcher confirms each step.",
    )
    scada_command_timeout_seconds: Seconds = Field(
        default=timedelta(minutes=2),
        gt=NO_TIME,
        description="How long a step sent to SCADA waits for the device to report the "
        "commanded state: then the step fails and its order is held for the dispatcher.",
    )
    scada_late_confirmation_minutes: Minutes = Field(
        default=timedelta(minutes=15),
        gt=NO_TIME,
        description="A SCADA event after a step failed unconfirmed still counts as the "
        "step's confirmation when it happened at most this long after the command; a later "
        "one is the device's own (a trip), not the order's.",
    )
    # restoration by switching
    restoration_remote_s: Seconds = Field(
        default=timedelta(seconds=30),
        gt=NO_TIME,
        description="Time a plan counts for operating a remote-controlled device.",
    )
    restoration_operate_minutes: Minutes = Field(
        default=timedelta(minutes=10),
        description="Time a plan counts for a crew on site to operate a manual device, on "
        "top of its travel there.",
    )
    restoration_manual_minutes: Minutes = Field(
        default=timedelta(minutes=45),
        gt=NO_TIME,
        description="Time a plan counts for a manual device when no crew is on shift.",
    )
    restoration_repair_hours: Hours = Field(
        default=timedelta(hours=4),
        gt=NO_TIME,
        description="How long a repair is taken to last when the incident has no ETR ahead: "
        "the horizon of the customer-minutes a plan saves.",
    )
    restoration_automatic: bool = Field(
        default=False,
        description="Self-healing: a new outage at a tripped device has the remote-controlled "
        "first steps of its best plan drafted, approved and sent to SCADA by the system "
        "(needs `scada_command_url`).",
    )
    restoration_automatic_minutes: Minutes = Field(
        default=timedelta(minutes=15),
        gt=NO_TIME,
        description="Self-healing acts on outages that began at most this long ago.",
    )
    restoration_indication_minutes: Minutes = Field(
        default=timedelta(minutes=10),
        description="Fault indications from this long before an incident began count as "
        "evidence of where its fault is (the incident may begin after the trip).",
    )
    restoration_rating_margin: float = Field(
        default=1.0,
        gt=0,
        le=1.5,
        description="Share of its rating a plan may load a line or transformer to.",
    )

    @model_validator(mode="after")
    def _etr_quantiles_in_order(self) -> Self:
        self.etr_quantiles()
        return self

    def etr_quantiles(self) -> Quantiles:
        return Quantiles(
            earliest=self.etr_earliest_quantile,
            expected=self.etr_expected_quantile,
            latest=self.etr_latest_quantile,
        )

    @model_validator(mode="after")
    def _clock_has_its_epoch(self) -> Self:
        if self.clock_epoch is None and self.clock_speed != 1:
            raise ValueError("clock_speed other than 1 needs clock_epoch, where the clock starts")
        return self

    @model_validator(mode="after")
    def _regions_apart(self) -> Self:
        named: dict[str, int] = {}
        for region, substations in self.engine_regions.items():
            if region < 1:
                raise ValueError("engine_regions are numbered from 1: region 0 holds the rest")
            for substation in substations:
                if named.setdefault(substation, region) != region:
                    raise ValueError(f"engine_regions name {substation!r} in two regions")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
