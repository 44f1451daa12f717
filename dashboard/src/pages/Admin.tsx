import { useState } from "react";
import { NavLink, Route, Routes } from "react-router-dom";
import { api, errorMessage, newIdempotencyKey, type Schemas } from "../api/client";
import { formatCredits, formatMoney } from "../credits";
import { BarChart, Card, ErrorBox, Status, useLoad } from "../ui";

const READ_ONLY = new Set(["created_at", "updated_at"]);

export default function AdminPage() {
  return (
    <>
      <nav className="tabs">
        {[["analytics", "Analytics"], ["features", "Features"], ["packages", "Packages"], ["tiers", "Tiers"],
          ["settings", "Settings"], ["wallets", "Wallets"], ["refunds", "Refunds"], ["exports", "Exports"]].map(([to, label]) => (
          <NavLink key={to} to={to}>{label}</NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<Analytics />} />
        <Route path="analytics" element={<Analytics />} />
        <Route path="features" element={<Catalog key="features" title="Features and prices" path="/v1/admin/features" idKey="feature_id"
          columns={(f: Schemas["FeatureOut"]) => [f.name, JSON.stringify(f.pricing), f.developer_id ?? "", f.revenue_share_bps == null ? "" : `${f.revenue_share_bps / 100}%`, f.active ? "active" : "inactive"]}
          headers={["Name", "Pricing", "Developer", "Share", "State"]} />} />
        <Route path="packages" element={<Catalog key="packages" title="Packages" path="/v1/admin/packages" idKey="package_id"
          columns={(p: Schemas["PackageOut"]) => [p.name, formatCredits(p.credits), Object.entries(p.prices).map(([c, a]) => formatMoney(a, c)).join(" · "), p.active ? "active" : "inactive"]}
          headers={["Name", "Credits", "Prices", "State"]} />} />
        <Route path="tiers" element={<Catalog key="tiers" title="Tiers" path="/v1/admin/tiers" idKey="tier_id"
          columns={(t: Schemas["TierOut"]) => [t.name, formatCredits(t.monthly_credits), JSON.stringify(t.rollover), t.active ? "active" : "inactive"]}
          headers={["Name", "Monthly credits", "Rollover", "State"]} />} />
        <Route path="settings" element={<Settings />} />
        <Route path="wallets" element={<Wallets />} />
        <Route path="refunds" element={<Refunds />} />
        <Route path="exports" element={<Exports />} />
      </Routes>
    </>
  );
}

// ---- Catalog lists (features, packages, tiers): a table, and a JSON editor that PUTs ------

/** The item as the PUT body: without its id (in the path), its timestamps and null fields. */
function editable(item: object, idKey?: string): string {
  const strip = (value: unknown): unknown =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, strip(v)]))
      : value;
  const body = Object.fromEntries(Object.entries(item).filter(([k]) => !READ_ONLY.has(k) && k !== idKey));
  return JSON.stringify(strip(body), null, 2);
}

function Catalog<T extends Record<string, any>>({ title, path, idKey, headers, columns }: {
  title: string; path: string; idKey: string; headers: string[]; columns: (item: T) => string[];
}) {
  const list = useLoad(() => api<{ data: T[] }>("GET", path), [path]);
  const [id, setId] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  async function save() {
    setError(null);
    setSaved(null);
    try {
      const body = JSON.parse(text);
      await api("PUT", `${path}/${encodeURIComponent(id.trim())}`, { body });
      setSaved(`Saved ${id.trim()}.`);
      list.reload();
    } catch (e) {
      setError(e instanceof SyntaxError ? `Not JSON: ${e.message}` : errorMessage(e));
    }
  }
  return (
    <Card title={title}>
      <ErrorBox error={list.error} />
      <table>
        <thead><tr><th>Id</th>{headers.map((h) => <th key={h}>{h}</th>)}<th /></tr></thead>
        <tbody>
          {list.data?.data.map((item) => (
            <tr key={item[idKey]}>
              <td>{item[idKey]}</td>
              {columns(item).map((c, i) => <td key={i} className="wrap">{c}</td>)}
              <td><button className="secondary" onClick={() => { setId(item[idKey]); setText(editable(item, idKey)); }}>Edit</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Create or replace</h3>
      <div className="form-row"><input placeholder="id" value={id} onChange={(e) => setId(e.target.value)} /></div>
      <textarea rows={10} value={text} onChange={(e) => setText(e.target.value)} placeholder='{"name": ...}' />
      <ErrorBox error={error} />
      {saved && <p>{saved}</p>}
      <button onClick={save} disabled={!id.trim() || !text.trim()}>Save (PUT)</button>
    </Card>
  );
}

function Settings() {
  const settings = useLoad(() => api<Schemas["SettingsOut"]>("GET", "/v1/admin/settings"), []);
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const value = text ?? (settings.data ? editable(settings.data) : "");
  async function save() {
    setError(null);
    setSaved(false);
    try {
      await api("PUT", "/v1/admin/settings", { body: JSON.parse(value) });
      setSaved(true);
      setText(null);
      settings.reload();
    } catch (e) {
      setError(e instanceof SyntaxError ? `Not JSON: ${e.message}` : errorMessage(e));
    }
  }
  return (
    <Card title="Settings">
      <ErrorBox error={settings.error ?? error} />
      <textarea rows={20} value={value} onChange={(e) => setText(e.target.value)} />
      {saved && <p>Saved.</p>}
      <button onClick={save} disabled={!value}>Save (PUT)</button>
    </Card>
  );
}

// ---- Wallets: look up, adjust, assign a tier ---------------------------------------------

function Wallets() {
  const [walletId, setWalletId] = useState("user:alice");
  const [wallet, setWallet] = useState<Schemas["WalletOut"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [tier, setTier] = useState("");
  const tiers = useLoad(() => api<Schemas["TierList"]>("GET", "/v1/admin/tiers"), []);
  const path = () => `/v1/admin/wallets/${encodeURIComponent(walletId.trim())}`;
  async function run(action: () => Promise<string | null>) {
    setError(null);
    setNote(null);
    try {
      setNote(await action());
      setWallet(await api<Schemas["WalletOut"]>("GET", path()));
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  return (
    <Card title="Wallets">
      <div className="form-row">
        <input value={walletId} onChange={(e) => setWalletId(e.target.value)} placeholder="user:alice" />
        <button onClick={() => run(async () => null)}>Look up</button>
      </div>
      <ErrorBox error={error} />
      {note && <p>{note}</p>}
      {wallet && (
        <>
          <p>
            Balance <b>{formatCredits(wallet.balance)}</b> · reserved {formatCredits(wallet.reserved)} · available{" "}
            {formatCredits(wallet.available)} · tier {wallet.tier ?? "none"}
          </p>
          <h3>Adjust</h3>
          <div className="form-row">
            <input placeholder="amount (e.g. 50 or -10.5)" value={amount} onChange={(e) => setAmount(e.target.value)} />
            <input placeholder="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
            <button onClick={() => run(async () => {
              const out = await api<Schemas["AdjustmentOut"]>("POST", `${path()}/adjustments`, {
                body: { amount: amount.trim(), reason }, idempotencyKey: newIdempotencyKey("dash-adjust"),
              });
              setAmount("");
              return `Adjusted: ${JSON.stringify(out)}`;
            })}>Adjust</button>
          </div>
          <h3>Tier</h3>
          <div className="form-row">
            <select value={tier} onChange={(e) => setTier(e.target.value)}>
              <option value="">none (end the subscription)</option>
              {tiers.data?.data.map((t) => <option key={t.tier_id} value={t.tier_id}>{t.name}</option>)}
            </select>
            <button onClick={() => run(async () => {
              await api("PUT", `${path()}/tier`, { body: { tier_id: tier || null } });
              return tier ? `Subscribed to ${tier}.` : "Subscription ended.";
            })}>Assign</button>
          </div>
        </>
      )}
    </Card>
  );
}

// ---- Refunds waiting for approval ---------------------------------------------------------

function Refunds() {
  const [status, setStatus] = useState("pending_approval");
  const [extra, setExtra] = useState<Schemas["RefundOut"][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api<Schemas["RefundList"]>("GET", "/v1/admin/refunds", { query: { status, limit: 25 } });
    setExtra([]);
    setCursor(page.next_cursor ?? null);
    return page;
  }, [status]);
  async function more() {
    try {
      const page = await api<Schemas["RefundList"]>("GET", "/v1/admin/refunds", { query: { status, limit: 25, cursor } });
      setExtra((x) => [...x, ...page.data]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  async function decide(id: string, decision: "approve" | "reject") {
    setError(null);
    try {
      await api("POST", `/v1/admin/refunds/${encodeURIComponent(id)}/${decision}`, { body: {} });
      first.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  const rows = [...(first.data?.data ?? []), ...extra];
  return (
    <Card title="Refunds">
      <select value={status} onChange={(e) => setStatus(e.target.value)}>
        {["pending_approval", "approved", "rejected", "processing", "succeeded", "failed"].map((s) => <option key={s}>{s}</option>)}
      </select>
      <ErrorBox error={first.error ?? error} />
      <table>
        <thead><tr><th>Refund</th><th>Wallet</th><th>Status</th><th className="num">Credits</th><th className="num">Amount</th><th>Reason</th><th /></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.refund_id}>
              <td>{r.refund_id}</td><td>{r.wallet_id}</td><td><Status value={r.status} /></td>
              <td className="num">{formatCredits(r.credits)}</td><td className="num">{formatMoney(r.amount, r.currency)}</td>
              <td className="wrap">{r.reason}</td>
              <td>{r.status === "pending_approval" && (
                <>
                  <button onClick={() => decide(r.refund_id, "approve")}>Approve</button>{" "}
                  <button className="secondary" onClick={() => decide(r.refund_id, "reject")}>Reject</button>
                </>
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {first.data && !rows.length && <p className="muted">None.</p>}
      {cursor && <button className="secondary" onClick={more}>Load more</button>}
    </Card>
  );
}

// ---- Analytics ----------------------------------------------------------------------------

function Analytics() {
  const analytics = useLoad(() => api<Schemas["AnalyticsOut"]>("GET", "/v1/admin/analytics", { query: { group_by: "day" } }), []);
  const features = useLoad(() => api<Schemas["FeatureUsageList"]>("GET", "/v1/admin/analytics/features", { query: { limit: 10 } }), []);
  const developers = useLoad(() => api<Schemas["DeveloperUsageList"]>("GET", "/v1/admin/analytics/developers", { query: { limit: 10 } }), []);
  const a = analytics.data;
  return (
    <>
      <Card title="Last 30 days">
        <ErrorBox error={analytics.error} />
        {a && (
          <>
            <div className="figures">
              <Fig label="Credits in" value={formatCredits(a.totals.credits_in.total ?? "0")} />
              <Fig label="Credits out" value={formatCredits(a.totals.credits_out.total ?? "0")} />
              <Fig label="Purchases" value={String(a.totals.purchases)} />
              <Fig label="Debits" value={String(a.totals.debits)} />
              <Fig label="Revenue" value={a.totals.revenue.map((m) => formatMoney(m.amount_minor, m.currency)).join(" · ") || "0"} />
            </div>
            <div className="charts">
              <div>
                <h3>Credits spent by day</h3>
                <BarChart bars={a.series.map((p) => ({ label: p.period, value: p.credits_out.usage ?? "0" }))} />
              </div>
              <div>
                <h3>Credits bought by day</h3>
                <BarChart bars={a.series.map((p) => ({ label: p.period, value: p.credits_in.purchase ?? "0" }))} />
              </div>
            </div>
          </>
        )}
      </Card>
      <Card title="Top features and developers">
        <ErrorBox error={features.error ?? developers.error} />
        <div className="charts">
          <div>
            <h3>Features</h3>
            {features.data && <BarChart horizontal bars={features.data.data.map((f) => ({ label: f.feature, value: f.spent, title: `${f.feature}: ${f.spent} credits, ${f.calls} calls` }))} />}
          </div>
          <div>
            <h3>Developers</h3>
            {developers.data && <BarChart horizontal bars={developers.data.data.map((d) => ({ label: d.developer_id, value: d.spent, title: `${d.developer_id}: ${d.spent} credits, ${d.calls} calls` }))} />}
          </div>
        </div>
      </Card>
    </>
  );
}

function Fig({ label, value }: { label: string; value: string }) {
  return <div className="figure"><div className="muted">{label}</div><div className="big">{value}</div></div>;
}

// ---- Exports ------------------------------------------------------------------------------

function Exports() {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(today.slice(0, 8) + "01");
  const [to, setTo] = useState(today);
  const [type, setType] = useState("");
  const [exports, setExports] = useState<Schemas["ExportOut"][]>([]);
  const [error, setError] = useState<string | null>(null);
  async function start() {
    setError(null);
    try {
      const out = await api<Schemas["ExportOut"]>("POST", "/v1/admin/exports", { body: { from, to, type: type || null } });
      setExports((x) => [out, ...x]);
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  async function refresh() {
    setError(null);
    try {
      const fresh = await Promise.all(exports.map((x) => api<Schemas["ExportOut"]>("GET", `/v1/admin/exports/${encodeURIComponent(x.export_id)}`)));
      setExports(fresh);
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  return (
    <Card title="Exports (ledger CSV)">
      <div className="form-row">
        <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <select value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">every type</option>
          {["usage", "adjustment", "purchase", "refund", "allocation", "expiry", "payout", "grant"].map((t) => <option key={t}>{t}</option>)}
        </select>
        <button onClick={start}>Export</button>
        <button className="secondary" onClick={refresh} disabled={!exports.length}>Refresh</button>
      </div>
      <ErrorBox error={error} />
      <table>
        <thead><tr><th>Export</th><th>Status</th><th>Range</th><th className="num">Rows</th><th>Download</th></tr></thead>
        <tbody>
          {exports.map((x) => (
            <tr key={x.export_id}>
              <td>{x.export_id}</td><td><Status value={x.status} />{x.error ? ` ${x.error}` : ""}</td>
              <td>{x.from_date} – {x.to_date}{x.type ? ` (${x.type})` : ""}</td><td className="num">{x.rows}</td>
              <td>{x.url ? <a href={x.url}>CSV</a> : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Exports started here in this session; there is no list endpoint.</p>
    </Card>
  );
}
