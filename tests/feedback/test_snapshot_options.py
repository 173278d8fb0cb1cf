"""Snapshot options are bounded: strength_margins maps the A/B strengths to numbers in [0, 10],
filters are checked one by one; breaking one is a 400 naming the option, and no snapshot is
made (issue 14 point 2: a list, "x" or 1e30 as strength_margins was accepted)."""

import pytest

from labelhub.feedback import services
from labelhub.feedback.models import Snapshot
from labelhub.feedback.pairs import DEFAULT_STRENGTH_MARGINS
from tests.api_errors import error_fields

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/snapshots/"
BUILDERS = [("lead", 400), ("engineer", 400), ("reviewer", 403), ("labeler", 403), ("outsider", 404), (None, 401)]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path


@pytest.mark.parametrize(("options", "errors"), [
    ({"strength_margins": ["much_better", 3]}, {"strength_margins"}),
    ({"strength_margins": "x"}, {"strength_margins"}),
    ({"strength_margins": {"better": 1e30}}, {"strength_margins.better"}),
    ({"strength_margins": {"better": -1, "much_better": "3", "slightly_better": True}},
     {"strength_margins.better", "strength_margins.much_better", "strength_margins.slightly_better"}),
    ({"strength_margins": {"tie": 0.5}}, {"strength_margins.tie"}),
    ({"filters": {"since": "2026-13-45T00:00:00Z"}}, {"filters.since"}),
    ({"filters": {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}}, {"filters.until"}),
    ({"filters": {"since": 20261101}}, {"filters.since"}),
    ({"filters": {"labelers": ["ok", 5]}}, {"filters.labelers"}),
    ({"filters": {"labelers": ["u"] * 1001}}, {"filters.labelers"}),
    ({"filters": {"exclude_flagged": "yes"}}, {"filters.exclude_flagged"}),
    ({"filters": {"split": ["train"]}}, {"filters.split"}),
    ({"filters": {"colour": "red"}}, {"filters.colour"}),
    ({"filters": {"exclude_paused": "yes"}}, {"filters.exclude_paused"}),
    ({"filters": {"min_gold_accuracy": 1.5}}, {"filters.min_gold_accuracy"}),
    ({"filters": {"min_gold_accuracy": True}}, {"filters.min_gold_accuracy"}),
    ({"filters": ["since"]}, {"filters"}),
])
def test_it_names_each_option_out_of_bounds_and_makes_nothing(users_by_role, api_as, campaign, options, errors):
    response = api_as(users_by_role["lead"]).post(URL, options, format="json")
    assert response.status_code == 400, response.json()
    assert error_fields(response) == errors
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize("role, expected", BUILDERS)
def test_every_role_is_checked_before_the_options(users_by_role, api_as, campaign, role, expected):
    response = api_as(users_by_role.get(role)).post(URL, {"strength_margins": {"better": 1e30}}, format="json")
    assert response.status_code == expected
    if expected == 400:
        assert response.json()["errors"] == [{"field": "strength_margins.better", "message": "must be a number from 0 to 10"}]
    assert not Snapshot.objects.exists()


def test_margins_left_out_keep_their_defaults(campaign, lead):
    snapshot = services.snapshot_create(campaign=campaign, user=lead, strength_margins={"better": 1.5})
    assert snapshot.strength_margins == DEFAULT_STRENGTH_MARGINS | {"better": 1.5}
    assert services.snapshot_create(campaign=campaign, user=lead).strength_margins == DEFAULT_STRENGTH_MARGINS
    assert services.snapshot_create(campaign=campaign, user=lead, strength_margins={}).strength_margins == DEFAULT_STRENGTH_MARGINS


def test_good_filters_are_kept(campaign, lead):
    filters = {"since": "2026-11-01T00:00:00Z", "until": "2026-11-02", "labelers": ["labeler"],
               "exclude_flagged": True, "split": "train"}
    assert services.snapshot_create(campaign=campaign, user=lead, filters=filters).filters == filters
