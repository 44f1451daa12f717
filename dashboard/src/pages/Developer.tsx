import { useState } from "react";
import { ApiError, api, errorMessage, newIdempotencyKey, type Schemas } from "../api/client";
import { session } from "../auth";
import { formatCredits, formatMoney } from "../credits";
import { BarChart, Card, ErrorBox, Status, useLoad } from "../ui";

type Payout = Schemas["PayoutOut"];

export default function DeveloperPage() {
  // The /v1/developers/me routes and payouts need the developer role (an admin without it is
  // answered 403): say so instead of calling them.
  if (!session()?.roles.includes("developer")) {
    return (
      <Card title="Developer">
        <p className="muted">Earnings and payouts belong to developers: sign in with the developer role to see yours.</p>
      </Card>
    );
  }
  return <DeveloperDashboard />;
}

function DeveloperDashboard() {
  const earnings = useLoad(() => api<Schemas["EarningsOut"]>("GET", "/v1/developers/me/earnings"), []);
  const e = earnings.data;
  return (
    <>
      <Card title="Earnings">
        <ErrorBox error={earnings.error} />
        {e && (
          <>
            <div className="figures">
              {(["pending", "available", "in_payout", "paid"] as const).map((k) => (
                <div className="figure" key={k}>
                  <div className="muted">{k.replace("_", " ")}</div>
                  <div className="big">{formatCredits(e[k])}</div>
                </div>
              ))}
            </div>
            <p className="muted">Earned in all: {formatCredits(e.earned)} credits; earnings stay pending {e.hold_days} days.</p>
            <div className="charts">
              <div>
                <h3>By day</h3>
                <BarChart label="Credits earned by day" bars={e.by_day.map((d) => ({ label: d.date, value: d.earned }))} />
              </div>
              <div>
                <h3>By feature</h3>
                <BarChart horizontal bars={e.by_feature.map((f) => ({ label: f.feature, value: f.earned, title: `${f.feature}: ${f.earned} credits, ${f.calls} calls` }))} />
              </div>
            </div>
          </>
        )}
      </Card>
      <PayoutAccount />
      <Payouts onChange={earnings.reload} />
    </>
  );
}

function PayoutAccount() {
  const account = useLoad(async () => {
    try {
      return await api<Schemas["PayoutAccountOut"]>("GET", "/v1/developers/me/payout-account");
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }, []);
  const [form, setForm] = useState({ gateway: "paystack", bank_code: "", account_number: "", account_name: "" });
  const [error, setError] = useState<string | null>(null);
  const a = account.data;
  async function save() {
    setError(null);
    try {
      const body = form.gateway === "stripe" ? { gateway: "stripe" } : form;
      const out = await api<Schemas["PayoutAccountOut"]>("PUT", "/v1/developers/me/payout-account", { body });
      if (out.onboarding_url) window.open(out.onboarding_url, "_blank", "noopener");
      account.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  return (
    <Card title="Payout account">
      <ErrorBox error={account.error ?? error} />
      {a ? (
        <p>
          {a.gateway} · <Status value={a.status} /> · paid in {a.currency}
          {a.onboarding_url && <> · <a href={a.onboarding_url} target="_blank" rel="noopener">finish onboarding</a></>}
        </p>
      ) : (
        account.data === null && !account.error && <p className="muted">No payout account yet.</p>
      )}
      <div className="form-row">
        <select aria-label="Payout gateway" value={form.gateway} onChange={(ev) => setForm({ ...form, gateway: ev.target.value })}>
          <option value="paystack">Paystack (Nigerian bank account)</option>
          <option value="stripe">Stripe Connect</option>
        </select>
        {form.gateway === "paystack" && (
          <>
            <input aria-label="Bank code" placeholder="bank code" value={form.bank_code} onChange={(ev) => setForm({ ...form, bank_code: ev.target.value })} />
            <input aria-label="Account number" placeholder="account number" value={form.account_number} onChange={(ev) => setForm({ ...form, account_number: ev.target.value })} />
            <input aria-label="Account name" placeholder="account name" value={form.account_name} onChange={(ev) => setForm({ ...form, account_name: ev.target.value })} />
          </>
        )}
        <button onClick={save}>{a ? "Change" : "Set up"}</button>
      </div>
    </Card>
  );
}

function Payouts({ onChange }: { onChange: () => void }) {
  const [pages, setPages] = useState<Payout[][]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [version, setVersion] = useState(0);
  const first = useLoad(async () => {
    const page = await api<Schemas["PayoutList"]>("GET", "/v1/payouts", { query: { limit: 20 } });
    setPages([page.data]);
    setCursor(page.next_cursor ?? null);
    return page;
  }, [version]);
  const [error, setError] = useState<string | null>(null);
  const [credits, setCredits] = useState("");
  async function more() {
    if (!cursor) return;
    try {
      const page = await api<Schemas["PayoutList"]>("GET", "/v1/payouts", { query: { limit: 20, cursor } });
      setPages((p) => [...p, page.data]);
      setCursor(page.next_cursor ?? null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  async function request() {
    setError(null);
    try {
      await api<Payout>("POST", "/v1/payouts", {
        body: credits.trim() ? { credits: credits.trim() } : {},
        idempotencyKey: newIdempotencyKey("dash-payout"),
      });
      setCredits("");
      setVersion((v) => v + 1);
      onChange();
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  return (
    <Card title="Payouts">
      <ErrorBox error={first.error ?? error} />
      <div className="form-row">
        <input aria-label="Credits to pay out" placeholder="credits (empty: all available)" value={credits} onChange={(e) => setCredits(e.target.value)} />
        <button onClick={request}>Request a payout</button>
        <button className="secondary" onClick={() => setVersion((v) => v + 1)}>Refresh</button>
      </div>
      <table>
        <thead>
          <tr><th>Payout</th><th>Status</th><th className="num">Credits</th><th className="num">Amount</th><th>Steps</th><th>Created</th></tr>
        </thead>
        <tbody>
          {pages.flat().map((p) => (
            <tr key={p.payout_id}>
              <td>{p.payout_id}</td>
              <td><Status value={p.status} />{p.failure ? ` ${p.failure}` : ""}</td>
              <td className="num">{formatCredits(p.credits)}</td>
              <td className="num">{formatMoney(p.amount, p.currency)}</td>
              <td>
                <ol className="steps">
                  {p.steps.map((s, i) => (
                    <li key={i} title={s.at}>{s.name}: {s.status}{s.error ? ` (${s.error})` : ""}</li>
                  ))}
                </ol>
              </td>
              <td>{p.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && <button className="secondary" onClick={more}>Load more</button>}
      {first.data && !pages.flat().length && <p className="muted">No payouts yet.</p>}
    </Card>
  );
}
