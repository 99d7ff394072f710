"""Routing: default departments for every category, a village's rule before the general one."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from models.db import unit_of_work, utcnow
from models.directory import queries as directory
from models.directory.tables import RoutingRule


def test_default_departments_route_every_category(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
        directory.seed_departments(session)  # idempotent
    with db_factory() as session:
        codes = {
            cat: getattr(directory.department_for(session, cat, None), "code", None)
            for cat in ("transport", "urban_construction", "environment", "power", "other")
        }
    assert codes == {
        "transport": "transport_bureau",
        "urban_construction": "housing_bureau",
        "environment": "ecology_bureau",
        "power": "power_station",
        "other": "general_office",
    }


def test_village_rule_wins_over_general_rule(db_factory: sessionmaker[Session]) -> None:
    with unit_of_work(db_factory) as session:
        directory.seed_departments(session)
        office = directory.department_for(session, "other", None)
        assert office is not None
        session.add(
            RoutingRule(category="power", village="河西村", department_id=office.id, created_at=utcnow())
        )
    with db_factory() as session:
        assert getattr(directory.department_for(session, "power", "河西村"), "code", None) == "general_office"
        assert getattr(directory.department_for(session, "power", "东山村"), "code", None) == "power_station"
