"""An order API on FastAPI with nested pydantic v2 models, whose 422 answers echo the input.

Every model forbids unknown keys (``extra="forbid"``); currencies, shipping speeds and
hazard classes are enums; dates are dates; most fields are required. Two business rules
live in a model validator, so they fail as FastAPI's usual ``{"detail": [...]}`` with the
whole order echoed back as ``input``:

* JPY prices must be whole numbers: only a JPY order with a fractional price fails
  (the currency alone or the price alone is fine).
* Express delivery is refused for an order that cannot travel by air: a PO box address
  or a flammable item, either one is enough.

Answers to good orders carry a fresh order id and a timestamp.
"""

import datetime
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Currency(str, enum.Enum):
    EUR = "EUR"
    USD = "USD"
    JPY = "JPY"


class Speed(str, enum.Enum):
    STANDARD = "standard"
    EXPRESS = "express"


class Hazard(str, enum.Enum):
    NONE = "none"
    FLAMMABLE = "flammable"
    CORROSIVE = "corrosive"


class Address(Strict):
    name: str
    street: str
    city: str
    postcode: str
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Item(Strict):
    sku: str = Field(min_length=3)
    quantity: int = Field(gt=0, le=100)
    unit_price: Decimal = Field(gt=0)
    hazard: Hazard = Hazard.NONE


class Shipping(Strict):
    speed: Speed
    address: Address
    deliver_after: Optional[datetime.date] = None


class Order(Strict):
    customer_id: str
    currency: Currency
    placed_on: datetime.date
    items: list[Item] = Field(min_length=1)
    shipping: Shipping
    note: Optional[str] = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def whole_yen(self) -> "Order":
        if self.currency is Currency.JPY:
            for item in self.items:
                if item.unit_price != item.unit_price.to_integral_value():
                    raise ValueError(f"item {item.sku}: JPY prices must be whole numbers")
        return self

    @model_validator(mode="after")
    def air_freight(self) -> "Order":
        if self.shipping.speed is Speed.EXPRESS:
            po_box = self.shipping.address.street.lower().startswith(("po box", "p.o. box"))
            flammable = any(item.hazard is Hazard.FLAMMABLE for item in self.items)
            if po_box or flammable:
                raise ValueError("express delivery is not available for this order")
        return self


async def api_key(x_api_key: Annotated[Optional[str], Header()] = None) -> str:
    """Checked before the body is read, as an authentication middleware would."""
    if not x_api_key or not x_api_key.startswith("sk_"):
        raise HTTPException(status_code=401, detail="an API key (x-api-key: sk_...) is required")
    return x_api_key


app = FastAPI()


@app.post("/v1/orders", status_code=201, dependencies=[Depends(api_key)])
async def place_order(order: Order) -> dict[str, object]:
    total = sum(item.unit_price * item.quantity for item in order.items)
    return {
        "order_id": str(uuid.uuid4()),
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "customer_id": order.customer_id,
        "total": {"amount": str(total), "currency": order.currency.value},
        "status": "accepted",
    }
