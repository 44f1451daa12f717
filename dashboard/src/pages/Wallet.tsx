import { useCallback, useEffect, useRef, useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { compareCredits, formatCredits } from "../credits";
import { BarChart, Card, ErrorBox, useLoad } from "../ui";

/** Below this many available credits the wallet shows the low-balance banner, unless its owner set an
 * alert of their own (PUT /v1/wallet/alerts): then below that. */
export const LOW_BALANCE_THRESHOLD = "20";

type Entry = Schemas["EntryOut"];
const ENTRY_TYPES = ["usage", "adjustment", "purchase", "refund", "refund_reversal", "chargeback", "reversal",
  "allocation", "expiry", "payout", "grant"] as const;

export default function WalletPage() {
  const wallet = useLoad(() => api<Schemas["WalletOut"]>("GET", "/v1/wallet"), []);
  const usage = useLoad(() => api<Schemas["UsageSummary"]>("GET", "/v1/usage/summary", { query: { days: 30 } }), []);
  const w = wallet.data;
  return (
    <>
      <ErrorBox error={wallet.error} />
      {w && (w.low_balance != null ? w.below_low_balance : compareCredits(w.available, LOW_BALANCE_THRESHOLD) < 0) && (
        <div className="banner" role="status">
          Low balance: {formatCredits(w.available)} credits available
          {w.low_balance != null ? ` (your alert is at ${formatCredits(w.low_balance)})` : ""}.{" "}
          <a href="#/buy">Buy credits</a>
        </div>
      )}
      {w && (
        <Card title={`Wallet ${w.wallet_id}`}>
          <div className="figures">
            <Figure label="Balance" value={w.balance} />
            <Figure label="Reserved" value={w.reserved} />
            <Figure label="Available" value={w.available} />
            {w.expiring_soon !== undefined && <Figure label="Expiring soon" value={w.expiring_soon} />}
          </div>
          <LowBalanceAlert current={w.low_balance ?? null} onSaved={wallet.reload} />
          {w.tier && <p>Tier: {w.tier}{w.next_allocation_at ? ` · next allocation ${w.next_allocation_at}` : ""}</p>}
          {!!w.grants?.length && (
            <table>
              <thead>
                <tr><th>Grant</th><th>Source</th><th className="num">Remaining</th><th>Expires</th></tr>
              </thead>
              <tbody>
                {w.grants.map((g) => (
                  <tr key={g.grant_id} className={expiresSoon(g.expires_at) ? "soon" : ""}>
                    <td>{g.grant_id}</td>
                    <td>{g.source}</td>
                    <td className="num">{formatCredits(g.remaining)}</td>
                    <td>{g.expires_at ?? "never"}{expiresSoon(g.expires_at) ? " (soon)" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      )}
      <Card title="Usage, last 30 days">
        <ErrorBox error={usage.error} />
        {usage.data && (
          <div className="charts">
            <div>
              <h3>By day</h3>
              <BarChart label="Credits spent by day" bars={usage.data.by_day.map((d) => ({ label: d.date, value: d.spent }))} />
            </div>
            <div>
              <h3>By feature</h3>
              <BarChart horizontal
                bars={usage.data.by_feature.map((f) => ({ label: f.feature, value: f.spent, title: `${f.feature}: ${f.spent} credits, ${f.calls} calls` }))} />
            </div>
          </div>
        )}
      </Card>
      <History />
    </>
  );
}

/** The wallet's low-balance alert: the platform is told (credits.low) when available falls below it. */
function LowBalanceAlert({ current, onSaved }: { current: string | null; onSaved: () => void }) {
  const [value, setValue] = useState(current ?? "");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setValue(current ?? ""), [current]);
  const save = async (lowBalance: string | null) => {
    setError(null);
    try {
      await api<Schemas["WalletAlertsOut"]>("PUT", "/v1/wallet/alerts", { body: { low_balance: lowBalance } });
      onSaved();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <form className="inline" onSubmit={(e) => { e.preventDefault(); void save(value.trim() || null); }}>
      <label>
        Alert me below <input aria-label="Low-balance alert" inputMode="decimal" value={value} size={8}
          onChange={(e) => setValue(e.target.value)} /> credits
      </label>{" "}
      <button type="submit">Save alert</button>
      {current != null && <button type="button" onClick={() => void save(null)}>Clear</button>}
      <ErrorBox error={error} />
    </form>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div className="figure">
      <div className="muted">{label}</div>
      <div className="big">{formatCredits(value)}</div>
    </div>
  );
}

const SOON_MS = 7 * 24 * 3600 * 1000;
function expiresSoon(at: string | null | undefined): boolean {
  return !!at && Date.parse(at) - Date.now() < SOON_MS;
}

function History() {
  const [type, setType] = useState("");
  const [rows, setRows] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  const loadMore = useCallback(async () => {
    if (loading || done) return;
    setLoading(true);
    const gen = generation.current;
    try {
      const page = await api<Schemas["HistoryPage"]>("GET", "/v1/history", { query: { limit: 25, type, cursor } });
      if (gen !== generation.current) return;
      setRows((r) => [...r, ...page.data]);
      setCursor(page.next_cursor ?? null);
      setDone(!page.next_cursor);
    } catch (e) {
      if (gen === generation.current) {
        setError(errorMessage(e));
        setDone(true);
      }
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }, [loading, done, type, cursor]);

  useEffect(() => {
    generation.current += 1;
    setRows([]);
    setCursor(null);
    setDone(false);
    setError(null);
    setLoading(false);
  }, [type]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadMore());
    io.observe(el);
    return () => io.disconnect();
  }, [loadMore]);

  return (
    <Card title="History">
      <label>
        Type{" "}
        <select value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">all</option>
          {ENTRY_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </label>
      <table>
        <thead>
          <tr><th>When</th><th>Type</th><th>Feature / reason</th><th className="num">Amount</th><th className="num">Balance after</th></tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.transaction_id}>
              <td>{e.created_at}</td>
              <td>{e.type}</td>
              <td>{e.feature ?? e.reason ?? ""}</td>
              <td className="num">{formatCredits(e.amount)}</td>
              <td className="num">{e.balance_after == null ? "…" : formatCredits(e.balance_after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={error} />
      <div ref={sentinel} className="muted">{loading ? "Loading…" : done ? (rows.length ? "End of history." : "No entries.") : " "}</div>
    </Card>
  );
}
