import pytest

from broadcaster.domain.component_states import component_states, parse_assignments, worst
from broadcaster.domain.errors import InvalidInput


def test_states_not_given_follow_the_impact_and_given_ones_win():
    states = component_states(["Login", "API"], {"Login": "major_outage"}, "minor", "investigating")
    assert states == {"Login": "major_outage", "API": "degraded_performance"}


def test_a_resolved_update_puts_its_components_back_to_operational():
    assert component_states(["Login"], None, "critical", "resolved") == {"Login": "operational"}


def test_a_maintenance_in_progress_is_under_maintenance_and_a_scheduled_one_is_not_yet():
    assert component_states(["DB"], None, "none", "in_progress") == {"DB": "under_maintenance"}
    assert component_states(["DB"], None, "none", "scheduled") == {"DB": "operational"}


def test_a_state_for_a_component_the_statement_does_not_name_is_refused():
    with pytest.raises(InvalidInput, match="Billing is not among the statement's components"):
        component_states(["Login"], {"Billing": "major_outage"}, "major", "investigating")


def test_an_unknown_state_is_refused_with_the_choices():
    with pytest.raises(InvalidInput, match="'down' is not one of operational"):
        parse_assignments(["Login=down"])
    with pytest.raises(InvalidInput, match="should look like Login=major_outage"):
        parse_assignments(["Login"])


def test_the_worse_of_two_states_is_shown():
    assert worst(["degraded_performance", "major_outage", "under_maintenance"]) == "major_outage"
    assert worst([]) == "operational"
