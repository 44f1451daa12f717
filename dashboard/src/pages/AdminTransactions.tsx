// Admin: every wallet's ledger entries (GET /v1/admin/transactions), filtered and paged,
// with a "Reverse" action on usage entries (the debits a reversal can give back).
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { api, errorMessage, type Schemas } from "../api/client";
import { formatCredits } from "../credits";
import { Card, ErrorBox } from "../ui";
import { Field, MoreButton, Note, VisuallyHidden, useIdempotency, usePages } from "../components";

type Tx = Schemas["TransactionOut"];

const ENTRY_TYPES = ["usage", "adjustment", "purchase", "refund", "refund_reversal", "chargeback", "reversal",
  "allocation", "expiry", "payout", "grant"] as const;

interface Filters { from: string; to: string; type: string; feature: string; wallet_id: string }
const NO_FILTERS: Filters = { from: "", to: "", type: "", feature: "", wallet_id: "" };

export default function AdminTransactions() {
  // Opened with ?wallet_id= (the wallets page links here): that wallet's entries.
  const [params] = useSearchParams();
  const initial = { ...NO_FILTERS, wallet_id: params.get("wallet_id") ?? "" };
  const [form, setForm] = useState<Filters>(initial);
  const [filters, setFilters] = useState<Filters>(initial);
  const [reversing, setReversing] = useState<string | null>(null);
  const list = usePages(
    (cursor) => api<Schemas["TransactionPage"]>("GET", "/v1/admin/transactions", {
      query: {
        from: filters.from, to: filters.to, type: filters.type,
        feature: filters.feature.trim(), wallet_id: filters.wallet_id.trim(), limit: 25, cursor,
      },
    }),
    [filters],
  );
  function search(ev: FormEvent) {
    ev.preventDefault();
    setReversing(null);
    setFilters({ ...form });
  }
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  return (
    <Card title="Transactions">
      <form onSubmit={search} className="form-row">
        <Field label="From">{(id) => <input id={id} type="date" value={form.from} onChange={set("from")} />}</Field>
        <Field label="To">{(id) => <input id={id} type="date" value={form.to} onChange={set("to")} />}</Field>
        <Field label="Type">
          {(id) => (
            <select id={id} value={form.type} onChange={set("type")}>
              <option value="">every type</option>
              {ENTRY_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          )}
        </Field>
        <Field label="Feature">{(id) => <input id={id} value={form.feature} onChange={set("feature")} placeholder="ai-insight" />}</Field>
        <Field label="Wallet">{(id) => <input id={id} value={form.wallet_id} onChange={set("wallet_id")} placeholder="user:alice" />}</Field>
        <button type="submit">Search</button>
        <button type="button" className="secondary" onClick={() => { setForm(NO_FILTERS); setFilters(NO_FILTERS); }}>Clear</button>
      </form>
      <p className="muted">Newest first; without dates, the last 30 days.</p>
      <ErrorBox error={list.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">When</th><th scope="col">Wallet</th><th scope="col">Type</th><th scope="col">Feature / reason</th>
            <th scope="col" className="num">Amount</th><th scope="col" className="num">Balance after</th>
            <th scope="col">Transaction</th><th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th>
          </tr>
        </thead>
        <tbody>
          {list.rows.map((t) => (
            <TxRows key={t.transaction_id} tx={t} open={reversing === t.transaction_id}
              onToggle={() => setReversing((r) => (r === t.transaction_id ? null : t.transaction_id))}
              onReversed={list.reload} />
          ))}
        </tbody>
      </table>
      <MoreButton list={list} empty="No entries." />
    </Card>
  );
}

function TxRows({ tx: t, open, onToggle, onReversed }: { tx: Tx; open: boolean; onToggle: () => void; onReversed: () => void }) {
  const formId = `reverse-${t.transaction_id}`;
  return (
    <>
      <tr>
        <td>{t.created_at}</td>
        <td>{t.wallet_id}</td>
        <td>{t.type}</td>
        <td className="wrap">
          {t.feature ?? ""}{t.feature && t.reason ? " · " : ""}{t.reason ?? ""}
          {t.developer_id ? <div className="muted">developer {t.developer_id}</div> : null}
        </td>
        <td className="num">{formatCredits(t.amount)}</td>
        <td className="num">{t.balance_after == null ? "…" : formatCredits(t.balance_after)}</td>
        <td>{t.transaction_id}{t.reference ? <div className="muted">{t.reference}</div> : null}</td>
        <td>
          {t.type === "usage" && (
            <button className="secondary" aria-expanded={open} aria-controls={formId} onClick={onToggle}>
              {open ? "Close" : "Reverse"}
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={8} id={formId}>
            <ReverseForm tx={t} onReversed={onReversed} />
          </td>
        </tr>
      )}
    </>
  );
}

function ReverseForm({ tx, onReversed }: { tx: Tx; onReversed: () => void }) {
  const [credits, setCredits] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Schemas["EntryOut"] | null>(null);
  const idem = useIdempotency("dash-reversal");
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setError(null);
    setDone(null);
    const body: Schemas["ReversalIn"] = credits.trim() ? { reason: reason.trim(), credits: credits.trim() } : { reason: reason.trim() };
    setBusy(true);
    try {
      const out = await api<Schemas["EntryOut"]>("POST", `/v1/admin/transactions/${encodeURIComponent(tx.transaction_id)}/reversal`, {
        body,
        idempotencyKey: idem.keyFor({ tx: tx.transaction_id, ...body }),
      });
      idem.succeeded();
      setDone(out);
      setCredits("");
      setReason("");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit}>
      <h3>Reverse {tx.transaction_id}</h3>
      <p className="muted">
        Gives credits of this usage ({formatCredits(tx.amount)} on {tx.wallet_id}) back to the wallet; at most what is not given back yet.
      </p>
      <div className="form-row">
        <Field label="Credits" hint="(empty: all not yet given back)">
          {(id) => <input id={id} inputMode="decimal" value={credits} onChange={(e) => setCredits(e.target.value)} />}
        </Field>
        <Field label="Reason">
          {(id) => <input id={id} required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="the model call failed" />}
        </Field>
        <button type="submit" disabled={busy || !reason.trim()}>{busy ? "Reversing…" : "Reverse"}</button>
        {done && <button type="button" className="secondary" onClick={onReversed}>Refresh the list</button>}
      </div>
      <ErrorBox error={error} />
      <Note>{done && <>Reversed: entry {done.transaction_id}, {formatCredits(done.amount)} credits back.</>}</Note>
    </form>
  );
}
