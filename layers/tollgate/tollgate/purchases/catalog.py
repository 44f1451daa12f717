"""Credit packages and checkout settings (admin-managed; the server computes every price)."""

from __future__ import annotations

from tollgate import audit, clock
from tollgate.amounts import format_credits
from tollgate.purchases import repository
from tollgate.purchases.exceptions import PackageNotFound
from tollgate.purchases.models import CheckoutSettingsItem, PackageItem
from tollgate.purchases.schemas import PackageIn, PackageOut, SettingsIn, SettingsOut


def package_view(item: PackageItem) -> PackageOut:
    return PackageOut(
        package_id=item.package_id,
        name=item.name,
        description=item.description,
        credits=item.credits_mc,
        prices={k: int(v) for k, v in item.prices.items()},
        active=item.active,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def put_package(package_id: str, body: PackageIn, *, actor: str) -> PackageOut:
    """Create or replace a package, recorded in the audit trail (``package.put``) in the same transaction."""

    def change() -> PackageOut:
        now = clock.iso(clock.now_ms())
        existing = repository.get_package(package_id)
        item = repository.new_package(
            package_id=package_id,
            name=body.name,
            description=body.description,
            credits_mc=body.credits,
            prices=dict(body.prices),
            active=body.active,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        after = package_view(item)
        repository.save_package(item, existing, audit.Change(
            actor=actor, action="package.put", target=f"package:{package_id}",
            before=audit.view(package_view(existing) if existing else None), after=audit.view(after), at=now))
        return after

    return audit.apply(change)


def get_package(package_id: str) -> PackageItem:
    item = repository.get_package(package_id)
    if item is None:
        raise PackageNotFound(f"package '{package_id}' not found")
    return item


def list_packages(*, include_inactive: bool = False) -> list[PackageOut]:
    items = sorted(repository.list_packages(), key=lambda i: (i.credits_mc, i.package_id))
    return [package_view(i) for i in items if include_inactive or i.active]


def settings() -> SettingsIn:
    return _settings_of(repository.get_settings())


def _settings_of(item: CheckoutSettingsItem | None) -> SettingsIn:
    if item is None:
        return SettingsIn()
    stored = item.attribute_values
    fields = {k: stored[k] for k in SettingsIn.model_fields if stored.get(k) is not None}
    fields["min_credits"] = format_credits(item.min_credits_mc)
    fields["max_credits"] = format_credits(item.max_credits_mc)
    if item.refund_auto_approve_mc is not None:
        fields["refund_auto_approve_credits"] = format_credits(item.refund_auto_approve_mc)
    return SettingsIn.model_validate(fields)


def settings_view(value: SettingsIn, updated_at: str | None = None) -> SettingsOut:
    return SettingsOut(
        price_per_credit=dict(value.price_per_credit),
        min_credits=value.min_credits,
        max_credits=value.max_credits,
        checkouts_per_hour=value.checkouts_per_hour,
        stripe_hosted_checkout=value.stripe_hosted_checkout,
        success_url=value.success_url,
        cancel_url=value.cancel_url,
        paystack_callback_url=value.paystack_callback_url,
        earnings_hold_days=value.earnings_hold_days,
        payout_rates=dict(value.payout_rates),
        payout_minimums=dict(value.payout_minimums),
        refund_window_days=value.refund_window_days,
        refund_auto_approve_credits=value.refund_auto_approve_credits,
        service_reversal_window_seconds=value.service_reversal_window_seconds,
        updated_at=updated_at,
    )


def get_settings_view() -> SettingsOut:
    item = repository.get_settings()
    return settings_view(settings(), item.updated_at if item else None)


def put_settings(body: SettingsIn, *, actor: str) -> SettingsOut:
    """Replace the settings, recorded in the audit trail (``settings.put``) in the same transaction
    (one read first: the record's ``before``)."""

    def change() -> SettingsOut:
        now = clock.iso(clock.now_ms())
        existing = repository.get_settings()
        item = repository.new_settings(
            price_per_credit=dict(body.price_per_credit),
            min_credits_mc=body.min_credits,
            max_credits_mc=body.max_credits,
            checkouts_per_hour=body.checkouts_per_hour,
            stripe_hosted_checkout=body.stripe_hosted_checkout,
            success_url=body.success_url,
            cancel_url=body.cancel_url,
            paystack_callback_url=body.paystack_callback_url,
            earnings_hold_days=body.earnings_hold_days,
            payout_rates=dict(body.payout_rates),
            payout_minimums=dict(body.payout_minimums),
            refund_window_days=body.refund_window_days,
            refund_auto_approve_mc=body.refund_auto_approve_credits,
            service_reversal_window_seconds=body.service_reversal_window_seconds,
            updated_at=now,
        )
        after = settings_view(body, now)
        before = settings_view(_settings_of(existing), existing.updated_at) if existing else None
        repository.save_settings(item, existing, audit.Change(
            actor=actor, action="settings.put", target="settings", before=audit.view(before), after=audit.view(after),
            at=now))
        return after

    return audit.apply(change)
