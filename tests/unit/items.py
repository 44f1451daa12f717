"""Hypothesis strategies for every registered item type (shared by the data-layer tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

# Every model module, so every process sees the same MODELS (not only what other tests imported).
from tollgate.analytics import models as _analytics  # noqa: F401
from tollgate.apikeys import models as _apikeys  # noqa: F401 - registers the models
from tollgate.audit import models as _audit  # noqa: F401
from tollgate.autotopup import models as _autotopup  # noqa: F401
from tollgate.data import ExactMapAttribute, IntegerAttribute
from tollgate.data.table import TableItem
from tollgate.earnings import models as _earnings  # noqa: F401
from tollgate.events import models as _events  # noqa: F401
from tollgate.exports import models as _exports  # noqa: F401
from tollgate.gateways import models as _gateways  # noqa: F401
from tollgate.grants import models as _grants  # noqa: F401
from tollgate.ledger import models as _ledger  # noqa: F401
from tollgate.orgs import models as _orgs  # noqa: F401
from tollgate.payouts import models as _payouts  # noqa: F401
from tollgate.pricing import models as _pricing  # noqa: F401
from tollgate.purchases import models as _purchases  # noqa: F401
from tollgate.ratelimit import models as _ratelimit  # noqa: F401
from tollgate.reconciliation import models as _reconciliation  # noqa: F401
from tollgate.refunds import models as _refunds  # noqa: F401
from tollgate.reservations import models as _reservations  # noqa: F401
from tollgate.shards import models as _shards  # noqa: F401
from tollgate.tiers import models as _tiers  # noqa: F401
from tollgate.webhook_endpoints import models as _webhook_endpoints  # noqa: F401

MODELS = sorted(TableItem._get_discriminator_attribute().get_registered_subclasses(TableItem),
                key=lambda m: m.__name__)

scalars = st.one_of(st.integers(min_value=-(10**20), max_value=10**20), st.text(max_size=20), st.booleans())


def values_for(attr: Attribute[Any]) -> st.SearchStrategy[Any]:
    if isinstance(attr, IntegerAttribute):
        return st.integers(min_value=-(10**20), max_value=10**20)
    if isinstance(attr, BooleanAttribute):
        return st.booleans()
    if isinstance(attr, ExactMapAttribute):
        return st.dictionaries(st.text(min_size=1, max_size=10), scalars, max_size=4)
    if isinstance(attr, ListAttribute):
        element = getattr(attr, "element_type", None)
        if element is not None and issubclass(element, ExactMapAttribute):
            return st.lists(st.dictionaries(st.text(min_size=1, max_size=10), scalars, max_size=3), max_size=3)
        return st.lists(st.text(max_size=10), max_size=3)
    if isinstance(attr, UnicodeSetAttribute):
        return st.sets(st.text(min_size=1, max_size=10), min_size=1, max_size=3)
    if isinstance(attr, UnicodeAttribute):
        return st.text(max_size=30)
    raise AssertionError(f"no strategy for {type(attr).__name__}: add one")


@st.composite
def model_and_values(draw: st.DrawFn) -> tuple[type[TableItem], dict[str, Any]]:
    model = draw(st.sampled_from(MODELS))
    values = {}
    for name, attr in model.get_attributes().items():
        if isinstance(attr, DiscriminatorAttribute):
            continue
        if draw(st.booleans()):
            values[name] = draw(st.one_of(st.none(), values_for(attr)))
    return model, values
