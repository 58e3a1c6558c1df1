"""Upstream's `BearerWWWAuthenticateHeader` builds its value with the core's formatter."""

from mcpauth.utils import BearerWWWAuthenticateHeader


def test_parameters_in_order_and_falsy_values_skipped():
    h = (
        BearerWWWAuthenticateHeader()
        .set_parameter_if_value_exists("error", "invalid_token")
        .set_parameter_if_value_exists("error_description", None)
        .set_parameter_if_value_exists("resource_metadata", "https://a.example/.well-known/oauth-protected-resource")
    )
    assert h.header_name == "WWW-Authenticate"
    assert h.to_string() == (
        'Bearer error="invalid_token", resource_metadata="https://a.example/.well-known/oauth-protected-resource"'
    )


def test_values_are_valid_quoted_strings():
    h = BearerWWWAuthenticateHeader().set_parameter_if_value_exists(
        "error_description", 'Expected "Bearer <t>" \\ ok\x01'
    )
    assert h.to_string() == 'Bearer error_description="Expected \\"Bearer <t>\\" \\\\ ok"'


def test_no_parameters_is_empty():
    assert BearerWWWAuthenticateHeader().to_string() == ""
