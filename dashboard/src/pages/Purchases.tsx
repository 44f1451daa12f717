// The signed-in user's purchases (with each one's refund eligibility and a form to ask for a
// refund) and their refunds, with the refund workflow's steps.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, errorMessage, type Schemas } from "../api/client";
import { formatCredits, formatMoney } from "../credits";
import { Card, ErrorBox, Status, useLoad } from "../ui";
import { Field, MoreButton, Note, Steps, VisuallyHidden, useIdempotency, usePages } from "../components";

type Purchase = Schemas["PurchaseOut"];
type Refund = Schemas["RefundOut"];

/** Purchases a refund can be asked for (the API decides; others answer "not_paid" or "already_refunded"). */
const REFUNDABLE_STATUS = new Set(["paid", "partially_refunded"]);

const REASON_TEXT: Record<string, string> = {
  not_paid: "not paid",
  window_expired: "the refund window has ended",
  already_refunded: "already refunded",
  credits_used: "the credits have been used",
};

export default function PurchasesPage() {
  const [refundsVersion, setRefundsVersion] = useState(0);
  const purchases = usePages(
    (cursor) => api<Schemas["PurchaseList"]>("GET", "/v1/purchases", { query: { limit: 20, cursor } }),
    [],
  );
  const [open, setOpen] = useState<string | null>(null);
  const [eligibilityVersion, setEligibilityVersion] = useState(0);
  function refreshPurchases() {
    setEligibilityVersion((v) => v + 1);
    purchases.reload();
  }
  function refunded() {
    setRefundsVersion((v) => v + 1);
    refreshPurchases();
  }
  return (
    <>
      <Card title="Purchases">
        <ErrorBox error={purchases.error} />
        <button className="secondary" onClick={refreshPurchases}>Refresh<VisuallyHidden> purchases</VisuallyHidden></button>
        <table>
          <thead>
            <tr>
              <th scope="col">Purchase</th><th scope="col">Status</th><th scope="col">Package</th>
              <th scope="col" className="num">Credits</th><th scope="col" className="num">Price</th>
              <th scope="col">Refunded</th><th scope="col">Refund eligibility</th>
              <th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th>
            </tr>
          </thead>
          <tbody>
            {purchases.rows.map((p) => (
              <PurchaseRows key={p.purchase_id} purchase={p} open={open === p.purchase_id}
                onToggle={() => setOpen((o) => (o === p.purchase_id ? null : p.purchase_id))}
                eligibilityVersion={eligibilityVersion} onRefunded={refunded} />
            ))}
          </tbody>
        </table>
        <MoreButton list={purchases} empty="No purchases yet." />
        {purchases.loaded && !purchases.rows.length && <p><Link to="/buy">Buy credits</Link></p>}
      </Card>
      <MyRefunds version={refundsVersion} onSettled={refreshPurchases} />
    </>
  );
}

function PurchaseRows({ purchase: p, open, onToggle, eligibilityVersion, onRefunded }: {
  purchase: Purchase;
  open: boolean;
  onToggle: () => void;
  eligibilityVersion: number;
  onRefunded: () => void;
}) {
  const refundable = REFUNDABLE_STATUS.has(p.status);
  const eligibility = useLoad<Schemas["EligibilityOut"] | null>(
    () => (refundable ? api<Schemas["EligibilityOut"]>("GET", `/v1/purchases/${encodeURIComponent(p.purchase_id)}/refund-eligibility`) : Promise.resolve(null)),
    [p.purchase_id, p.status, eligibilityVersion],
  );
  const e = eligibility.data;
  const formId = `refund-${p.purchase_id}`;
  return (
    <>
      <tr>
        <td className="wrap">
          <Link to={`/purchases/${encodeURIComponent(p.purchase_id)}`}>{p.purchase_id}</Link>
          <div className="muted">{p.created_at}</div>
        </td>
        <td><Status value={p.status} />{p.failure_reason ? ` ${p.failure_reason}` : ""}</td>
        <td>{p.package_id ?? ""} <span className="muted">via {p.gateway}</span></td>
        <td className="num">{formatCredits(p.credits)}</td>
        <td className="num">{formatMoney(p.amount, p.currency)}</td>
        <td>
          {p.refunded_amount ? formatMoney(p.refunded_amount, p.currency) : ""}
          {p.credits_clawed_back && p.credits_clawed_back !== "0" ? ` (${formatCredits(p.credits_clawed_back)} credits)` : ""}
        </td>
        <td>
          {!refundable ? (
            <span className="muted">{p.status === "refunded" ? "already refunded" : p.status === "pending" ? "not paid yet" : "not refundable"}</span>
          ) : eligibility.error ? (
            <span className="error" role="alert">{eligibility.error}</span>
          ) : !e ? (
            <span className="muted">…</span>
          ) : e.eligible ? (
            <>
              {formatCredits(e.refundable_credits)} credits ({formatMoney(e.refundable_amount, e.currency)})
              {e.window_ends_at && <div className="muted">until {e.window_ends_at}</div>}
            </>
          ) : (
            <span>Not eligible: {e.reasons.map((r) => REASON_TEXT[r] ?? r).join("; ")}</span>
          )}
        </td>
        <td>
          {e?.eligible && (
            <button className="secondary" aria-expanded={open} aria-controls={formId} onClick={onToggle}>
              {open ? "Close" : "Request a refund"}
            </button>
          )}
        </td>
      </tr>
      {open && e?.eligible && (
        <tr>
          <td colSpan={8} id={formId}>
            <RefundForm purchase={p} eligibility={e} onRefunded={onRefunded} />
          </td>
        </tr>
      )}
    </>
  );
}

function RefundForm({ purchase, eligibility, onRefunded }: {
  purchase: Purchase;
  eligibility: Schemas["EligibilityOut"];
  onRefunded: () => void;
}) {
  const [credits, setCredits] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Refund | null>(null);
  const idem = useIdempotency("dash-refund");
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setError(null);
    setDone(null);
    const body: Schemas["RefundIn"] = credits.trim() ? { credits: credits.trim(), reason: reason.trim() } : { reason: reason.trim() };
    setBusy(true);
    try {
      const out = await api<Refund>("POST", `/v1/purchases/${encodeURIComponent(purchase.purchase_id)}/refunds`, {
        body,
        idempotencyKey: idem.keyFor({ purchase: purchase.purchase_id, ...body }),
      });
      idem.succeeded();
      setDone(out);
      setCredits("");
      setReason("");
      onRefunded();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit}>
      <h3>Refund from purchase {purchase.purchase_id}</h3>
      <p className="muted">
        Up to {formatCredits(eligibility.refundable_credits)} unused credits can come back
        ({formatMoney(eligibility.refundable_amount, eligibility.currency)}). A large refund waits for an admin's approval.
      </p>
      <div className="form-row">
        <Field label="Credits" hint={`(empty: all ${formatCredits(eligibility.refundable_credits)})`}>
          {(id) => <input id={id} inputMode="decimal" value={credits} onChange={(e) => setCredits(e.target.value)} placeholder={eligibility.refundable_credits} />}
        </Field>
        <Field label="Reason">
          {(id) => <input id={id} required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy || !reason.trim()}>{busy ? "Sending…" : "Request the refund"}</button>
      </div>
      <ErrorBox error={error} />
      <Note>
        {done && <>Refund {done.refund_id}: <Status value={done.status} /> {formatCredits(done.credits)} credits, {formatMoney(done.amount, done.currency)}. Follow it under "My refunds".</>}
      </Note>
    </form>
  );
}

/** A refund in these states is still moving through its workflow. */
const IN_FLIGHT = new Set(["approved", "processing"]);

function MyRefunds({ version, onSettled }: { version: number; onSettled: () => void }) {
  const refunds = usePages(
    (cursor) => api<Schemas["RefundList"]>("GET", "/v1/refunds", { query: { limit: 20, cursor } }),
    [version],
  );
  // While a refund is in flight, read the list again every 2 seconds (at most a minute after
  // the last change of the list); once none is, the purchases' refunded amounts have moved.
  const polls = useRef(0);
  const wasInFlight = useRef(false);
  const inFlight = refunds.rows.some((r) => IN_FLIGHT.has(r.status));
  useEffect(() => {
    polls.current = 0;
  }, [version]);
  useEffect(() => {
    if (wasInFlight.current && !inFlight) onSettled();
    wasInFlight.current = inFlight;
    if (!inFlight || refunds.loading || polls.current >= 30) return;
    const timer = window.setTimeout(() => {
      polls.current += 1;
      refunds.reload();
    }, 2000);
    return () => window.clearTimeout(timer);
  }, [inFlight, refunds.rows, refunds.loading]);
  return (
    <Card title="My refunds">
      <ErrorBox error={refunds.error} />
      <button className="secondary" onClick={refunds.reload}>Refresh<VisuallyHidden> refunds</VisuallyHidden></button>
      <table>
        <thead>
          <tr>
            <th scope="col">Refund</th><th scope="col">Purchase</th><th scope="col">Status</th>
            <th scope="col" className="num">Credits</th><th scope="col" className="num">Amount</th>
            <th scope="col">Reason</th><th scope="col">Steps</th><th scope="col">Asked</th>
          </tr>
        </thead>
        <tbody>
          {refunds.rows.map((r) => (
            <tr key={r.refund_id}>
              <td className="wrap">{r.refund_id}</td>
              <td className="wrap">{r.purchase_id}</td>
              <td>
                <Status value={r.status} />
                {r.failure_reason ? ` ${r.failure_reason}` : ""}
                {r.decision_note ? <div className="muted">{r.decision_note}</div> : null}
              </td>
              <td className="num">{formatCredits(r.credits)}</td>
              <td className="num">{formatMoney(r.amount, r.currency)}</td>
              <td className="wrap">{r.reason}</td>
              <td><Steps steps={r.steps} /></td>
              <td>{r.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreButton list={refunds} empty="No refunds." />
    </Card>
  );
}
