import { useEffect, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, errorMessage, newIdempotencyKey, type Schemas } from "../api/client";
import { config } from "../config";
import { formatCredits, formatMoney } from "../credits";
import { Card, ErrorBox, Status, useLoad } from "../ui";

type Package = Schemas["PackageOut"];
type Purchase = Schemas["PurchaseOut"];

import { PENDING_PURCHASE_KEY } from "../config";

export default function BuyPage() {
  const packages = useLoad(() => api<Schemas["PackageList"]>("GET", "/v1/packages"), []);
  const [chosen, setChosen] = useState<{ pkg: Package; gateway: "stripe" | "paystack"; currency: string } | null>(null);
  const active = packages.data?.data.filter((p) => p.active) ?? [];
  return (
    <>
      <Card title="Buy credits">
        <ErrorBox error={packages.error} />
        {packages.data && !active.length && <p className="muted">No packages on sale.</p>}
        <div className="packages">
          {active.map((p) => (
            <div className="package" key={p.package_id}>
              <h3>{p.name}</h3>
              <div className="big">{formatCredits(p.credits)} credits</div>
              {p.description && <p className="muted">{p.description}</p>}
              {p.prices.USD !== undefined && (
                <button onClick={() => setChosen({ pkg: p, gateway: "stripe", currency: "USD" })}>
                  Card (Stripe) · {formatMoney(p.prices.USD, "USD")}
                </button>
              )}
              {p.prices.NGN !== undefined && (
                <button onClick={() => setChosen({ pkg: p, gateway: "paystack", currency: "NGN" })}>
                  Paystack · {formatMoney(p.prices.NGN, "NGN")}
                </button>
              )}
            </div>
          ))}
        </div>
      </Card>
      {chosen?.gateway === "stripe" && <StripeCheckout key={chosen.pkg.package_id} pkg={chosen.pkg} onCancel={() => setChosen(null)} />}
      {chosen?.gateway === "paystack" && <PaystackCheckout key={chosen.pkg.package_id} pkg={chosen.pkg} currency={chosen.currency} />}
    </>
  );
}

// ---- Stripe: checkout, then Stripe.js's card element confirms the PaymentIntent --------

interface StripeCard { mount(el: HTMLElement): void; destroy?(): void }
interface StripeJs {
  elements(): { create(type: "card", options?: unknown): StripeCard };
  confirmCardPayment(secret: string, data?: unknown): Promise<{ error?: { message?: string }; paymentIntent?: { status?: string } }>;
}
declare global { interface Window { Stripe?: (key: string) => StripeJs } }

let stripeScript: Promise<void> | null = null;
function loadStripeJs(): Promise<void> {
  stripeScript ??= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = config().stripeJsUrl;
    s.onload = () => resolve();
    s.onerror = () => {
      stripeScript = null;
      reject(new Error(`Stripe.js could not be loaded from ${config().stripeJsUrl}`));
    };
    document.head.appendChild(s);
  });
  return stripeScript;
}

function StripeCheckout({ pkg, onCancel }: { pkg: Package; onCancel: () => void }) {
  const navigate = useNavigate();
  const mountRef = useRef<HTMLDivElement>(null);
  const [purchase, setPurchase] = useState<Purchase | null>(null);
  const [stripe, setStripe] = useState<{ js: StripeJs; card: StripeCard } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey("dash-buy"));

  useEffect(() => {
    let card: StripeCard | null = null;
    (async () => {
      try {
        const p = await api<Purchase>("POST", "/v1/checkout", {
          body: { package_id: pkg.package_id, gateway: "stripe", currency: "USD" },
          idempotencyKey: key.current,
        });
        setPurchase(p);
        await loadStripeJs();
        if (!window.Stripe) throw new Error("Stripe.js did not load");
        const js = window.Stripe(config().stripePublishableKey ?? "");
        card = js.elements().create("card");
        if (mountRef.current) card.mount(mountRef.current);
        setStripe({ js, card });
      } catch (e) {
        setError(errorMessage(e));
      }
    })();
    return () => card?.destroy?.();
  }, [pkg.package_id]);

  async function pay() {
    if (!stripe || !purchase?.client_secret) return;
    setBusy(true);
    setError(null);
    const result = await stripe.js.confirmCardPayment(purchase.client_secret, { payment_method: { card: stripe.card } });
    setBusy(false);
    if (result.error) setError(result.error.message ?? "The card was not accepted");
    else navigate(`/purchases/${purchase.purchase_id}`);
  }

  return (
    <Card title={`Pay ${formatMoney(pkg.prices.USD ?? 0, "USD")} for ${formatCredits(pkg.credits)} credits`}>
      <ErrorBox error={error} />
      <div ref={mountRef} className="card-element" />
      <button disabled={!stripe || busy} onClick={pay}>{busy ? "Paying…" : "Pay"}</button>{" "}
      <button className="secondary" onClick={onCancel}>Cancel</button>
    </Card>
  );
}

// ---- Paystack: checkout, then its hosted page; the callback comes back to the result page --

function PaystackCheckout({ pkg, currency }: { pkg: Package; currency: string }) {
  const [error, setError] = useState<string | null>(null);
  const key = useRef(newIdempotencyKey("dash-buy"));
  useEffect(() => {
    api<Purchase>("POST", "/v1/checkout", {
      body: { package_id: pkg.package_id, gateway: "paystack", currency },
      idempotencyKey: key.current,
    }).then(
      (p) => {
        if (!p.authorization_url) throw new Error("Paystack returned no authorization URL");
        // Paystack returns to the settings' paystack_callback_url with ?reference=: the app
        // then opens this purchase's result page.
        sessionStorage.setItem(PENDING_PURCHASE_KEY, p.purchase_id);
        window.location.assign(p.authorization_url);
      },
    ).catch((e) => setError(errorMessage(e)));
  }, [pkg.package_id, currency]);
  return (
    <Card title={`Paystack: ${formatCredits(pkg.credits)} credits`}>
      <ErrorBox error={error} />
      {!error && <p>Redirecting to Paystack…</p>}
    </Card>
  );
}

// ---- The result page: polls the purchase until it settles ----------------------------

const FINAL = new Set(["paid", "failed", "refunded", "partially_refunded", "disputed", "canceled", "cancelled", "expired"]);

export function PurchasePage() {
  const { id = "" } = useParams();
  const [purchase, setPurchase] = useState<Purchase | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    let tries = 0;
    const poll = async () => {
      try {
        const p = await api<Purchase>("GET", `/v1/purchases/${encodeURIComponent(id)}`);
        if (!live) return;
        setPurchase(p);
        setError(null);
        if (FINAL.has(p.status)) return;
      } catch (e) {
        if (live) setError(errorMessage(e));
      }
      if (live && ++tries < 60) timer = window.setTimeout(poll, 1000);
    };
    poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id]);
  return (
    <Card title={`Purchase ${id}`}>
      <ErrorBox error={error} />
      {purchase && (
        <>
          <p>
            <Status value={purchase.status} /> {formatCredits(purchase.credits)} credits for{" "}
            {formatMoney(purchase.amount, purchase.currency)} via {purchase.gateway}
          </p>
          {purchase.status === "paid" && <p>The credits are in your wallet. <a href="#/">Open the wallet</a></p>}
          {purchase.failure_reason && <p className="error">{purchase.failure_reason}</p>}
          {!FINAL.has(purchase.status) && <p className="muted">Waiting for the payment to be confirmed…</p>}
        </>
      )}
    </Card>
  );
}
