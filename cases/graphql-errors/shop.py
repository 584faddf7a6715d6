"""A shop's GraphQL API on strawberry-graphql: 200 for every answer, failures in ``errors``.

GraphQL over HTTP answers a request that parsed with 200 whether or not the operation
worked: success carries ``data``, failure an ``errors`` array (message, path,
``extensions.code``) beside ``"data": null``. The messages quote the input.

``placeOrder`` has two business rules:

* A coupon for new customers (``WELCOME``-prefixed) cannot be used on a bulk order
  (quantity over 10): only the two together fail ("all").
* An order cannot be fulfilled from a closed warehouse, or for a discontinued product:
  either one is enough ("any"), and both give the same error.

Answers to good orders carry a fresh order id and a timestamp.
"""

import datetime
import enum
import uuid
from typing import Optional

import strawberry
from graphql import GraphQLError
from strawberry.asgi import GraphQL

DISCONTINUED = {"KETTLE-V1", "MUG-2019"}
CLOSED = {"ham-2"}


@strawberry.enum
class Delivery(enum.Enum):
    STANDARD = "standard"
    EXPRESS = "express"


@strawberry.input
class OrderInput:
    sku: str
    quantity: int
    warehouse: str
    delivery: Delivery = Delivery.STANDARD
    coupon: Optional[str] = None
    note: Optional[str] = None


@strawberry.type
class Order:
    id: strawberry.ID
    created_at: str
    sku: str
    quantity: int
    total_cents: int


def fail(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def place_order(self, order: OrderInput) -> Order:
        if order.quantity < 1:
            raise fail(f"quantity must be positive, got {order.quantity}", "BAD_USER_INPUT")
        if order.coupon and order.coupon.startswith("WELCOME") and order.quantity > 10:
            raise fail(f"coupon {order.coupon} cannot be used for {order.quantity} items", "COUPON_NOT_APPLICABLE")
        if order.sku in DISCONTINUED or order.warehouse in CLOSED:
            raise fail("the order cannot be fulfilled", "UNFULFILLABLE")
        return Order(
            id=strawberry.ID(str(uuid.uuid4())),
            created_at=datetime.datetime.now(datetime.timezone.utc).isoformat(),
            sku=order.sku,
            quantity=order.quantity,
            total_cents=1299 * order.quantity,
        )


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None):
        """Errors are answers here, not incidents: nothing to log."""


schema = Schema(query=Query, mutation=Mutation)
app = GraphQL(schema)
