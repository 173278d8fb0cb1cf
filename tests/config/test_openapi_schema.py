from django.core.management import call_command


def test_it_generates_the_openapi_schema_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/labeling/next/" in text and "/api/campaigns/{campaign_slug}/snapshots/" in text
