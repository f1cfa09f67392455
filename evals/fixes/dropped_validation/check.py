"""A valid order parses as before; an invalid one never comes back as a negative order."""

import orders


def check() -> None:
    assert orders.parse_order({"sku": "A-1", "quantity": "3"}) == orders.Order("A-1", 3)
    try:
        parsed = orders.parse_order({"sku": "A-1", "quantity": "-2"})
    except orders.ValidationError:
        return  # what the fix makes of it: the request is refused
    assert parsed.quantity == -2  # as written: the dropped error let it through


if __name__ == "__main__":
    check()
