"""The network and the people on it: substations, nodes, devices, feeders, premises, customers.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:26:17.813927
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

# Accent-, case- and punctuation-folded text, so "12 ly thuong kiet" finds "12 Lý Thường Kiệt".
# IMMUTABLE (with the dictionary named) so a generated column and an index may use it.
SEARCH_TEXT = """
CREATE OR REPLACE FUNCTION search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT btrim(regexp_replace(
    lower(public.unaccent('public.unaccent'::regdictionary, value)), '[^a-z0-9]+', ' ', 'g'))
$$
"""
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for extension in ("postgis", "pg_trgm", "unaccent"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension} WITH SCHEMA public")
    op.execute(SEARCH_TEXT)
    op.create_geospatial_table(
        "substations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_geospatial_index(
        "ix_substations_geom",
        "substations",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "feeders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("substation_id", sa.Integer(), nullable=False),
        sa.Column("head_device_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["substation_id"],
            ["substations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_geospatial_table(
        "nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("voltage_kv", sa.Float(), nullable=False),
        sa.Column("substation_id", sa.Integer(), nullable=True),
        sa.Column("is_source", sa.Boolean(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["substation_id"],
            ["substations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_geospatial_index(
        "ix_nodes_geom", "nodes", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_geospatial_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_ref", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "breaker",
                "recloser",
                "fuse",
                "switch",
                "disconnector",
                "transformer",
                "line",
                name="device_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("is_protective", sa.Boolean(), nullable=False),
        sa.Column("from_node_id", sa.Integer(), nullable=False),
        sa.Column("to_node_id", sa.Integer(), nullable=False),
        sa.Column("normal_open", sa.Boolean(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("voltage_kv", sa.Float(), nullable=True),
        sa.Column("rating_kva", sa.Float(), nullable=True),
        sa.Column("substation_id", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("from_node_id <> to_node_id", name="ck_devices_two_nodes"),
        sa.ForeignKeyConstraint(["feeder_id"], ["feeders.id"], name="fk_devices_feeder_id"),
        sa.ForeignKeyConstraint(
            ["from_node_id"],
            ["nodes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["substation_id"],
            ["substations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_node_id"],
            ["nodes.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_ref"),
    )
    op.create_index("ix_devices_feeder_id", "devices", ["feeder_id"], unique=False)
    op.create_index(op.f("ix_devices_from_node_id"), "devices", ["from_node_id"], unique=False)
    op.create_geospatial_index(
        "ix_devices_geom",
        "devices",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_devices_to_node_id"), "devices", ["to_node_id"], unique=False)
    op.create_foreign_key(
        "fk_feeders_head_device_id", "feeders", "devices", ["head_device_id"], ["id"]
    )
    op.create_geospatial_table(
        "premises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("transformer_id", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column(
            "address_search",
            sa.Text(),
            sa.Computed("search_text(address)", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["nodes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["transformer_id"],
            ["devices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(
        "ix_premises_address_search_trgm",
        "premises",
        ["address_search"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"address_search": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_premises_feeder_id"), "premises", ["feeder_id"], unique=False)
    op.create_geospatial_index(
        "ix_premises_geom",
        "premises",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_premises_node_id"), "premises", ["node_id"], unique=False)
    op.create_index(
        op.f("ix_premises_transformer_id"), "premises", ["transformer_id"], unique=False
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("critical", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premises.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account"),
    )
    op.create_index(op.f("ix_customers_email"), "customers", ["email"], unique=False)
    op.create_index(op.f("ix_customers_phone"), "customers", ["phone"], unique=False)
    op.create_index(op.f("ix_customers_premise_id"), "customers", ["premise_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_premise_id"), table_name="customers")
    op.drop_index(op.f("ix_customers_phone"), table_name="customers")
    op.drop_index(op.f("ix_customers_email"), table_name="customers")
    op.drop_table("customers")
    op.drop_index(op.f("ix_premises_transformer_id"), table_name="premises")
    op.drop_index(op.f("ix_premises_node_id"), table_name="premises")
    op.drop_geospatial_index(
        "ix_premises_geom", table_name="premises", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_premises_feeder_id"), table_name="premises")
    op.drop_index(
        "ix_premises_address_search_trgm",
        table_name="premises",
        postgresql_using="gin",
        postgresql_ops={"address_search": "gin_trgm_ops"},
    )
    op.drop_geospatial_table("premises")
    op.drop_constraint("fk_feeders_head_device_id", "feeders", type_="foreignkey")
    op.drop_index(op.f("ix_devices_to_node_id"), table_name="devices")
    op.drop_geospatial_index(
        "ix_devices_geom", table_name="devices", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_devices_from_node_id"), table_name="devices")
    op.drop_index("ix_devices_feeder_id", table_name="devices")
    op.drop_geospatial_table("devices")
    op.drop_geospatial_index(
        "ix_nodes_geom", table_name="nodes", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("nodes")
    op.drop_table("feeders")
    op.drop_geospatial_index(
        "ix_substations_geom", table_name="substations", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("substations")
    op.execute("DROP FUNCTION IF EXISTS search_text(text)")
