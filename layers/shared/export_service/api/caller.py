"""Who calls a route, checked in one order everywhere: authorizer context, then permission, then parameters."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from export_service.api.query_guard import check_query_parameters
from export_service.logic.api_keys import principal_from_context, require_permission
from export_service.models.api_keys import Permission, Principal


def authorised_caller(router: Router, permission: Permission | None) -> tuple[APIGatewayProxyEvent, Principal]:
    """The REST proxy event and the principal of the key (401/403 first, then unknown or repeated parameters).
    ``permission`` None: any valid key; the data's own permission is then checked where the data is known."""
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEvent)  # the REST resolver's event type
    principal = principal_from_context(event.request_context.authorizer.get_context())
    if permission is not None:
        require_permission(principal, permission)
    check_query_parameters(event.resource, event.multi_value_query_string_parameters)
    return event, principal
