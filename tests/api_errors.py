"""Reading the API's one error shape (docs/api.md): {"detail", "code", "errors": [{"field", "message"}]}."""


def error_fields(response) -> set:
    """The fields a 4xx answer names."""
    body = response.json()
    assert {"detail", "code", "errors"} <= set(body), body
    return {error["field"] for error in body["errors"]}


def error_messages(response, field=None) -> list[str]:
    """The messages of the errors about ``field`` (all of them when None)."""
    return [e["message"] for e in response.json()["errors"] if field is None or e["field"] == field]
