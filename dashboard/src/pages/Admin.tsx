import { Suspense, lazy, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, NavLink, Route, Routes, useSearchParams } from "react-router-dom";
import { ApiError, api, errorMessage, type Schemas } from "../api/client";
import { formatCredits, formatMoney } from "../credits";
import { BarChart, Card, ErrorBox, Status, useLoad } from "../ui";
import { Field, MoreButton, Note, VisuallyHidden, useIdempotency, usePages } from "../components";

// The larger admin pages load on demand, as the top-level pages do.
const AdminTransactions = lazy(() => import("./AdminTransactions"));
const AdminKeys = lazy(() => import("./AdminKeys"));
const AdminOrgs = lazy(() => import("./AdminOrgs"));
const AdminWebhooks = lazy(() => import("./AdminWebhooks"));

const READ_ONLY = new Set(["created_at", "updated_at"]);

export default function AdminPage() {
  return (
    <>
      <nav className="tabs" aria-label="Admin sections">
        {[["analytics", "Analytics"], ["features", "Features"], ["packages", "Packages"], ["tiers", "Tiers"],
          ["settings", "Settings"], ["wallets", "Wallets"], ["transactions", "Transactions"], ["refunds", "Refunds"],
          ["orgs", "Organizations"], ["api-keys", "API keys"], ["webhooks", "Webhooks"], ["exports", "Exports"]].map(([to, label]) => (
          <NavLink key={to} to={to}>{label}</NavLink>
        ))}
      </nav>
      <Suspense fallback={<p className="muted">Loading…</p>}>
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
        <Route path="transactions" element={<AdminTransactions />} />
        <Route path="orgs" element={<AdminOrgs />} />
        <Route path="api-keys" element={<AdminKeys />} />
        <Route path="webhooks" element={<AdminWebhooks />} />
        <Route path="exports" element={<Exports />} />
      </Routes>
      </Suspense>
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
        <thead><tr><th scope="col">Id</th>{headers.map((h) => <th scope="col" key={h}>{h}</th>)}<th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th></tr></thead>
        <tbody>
          {list.data?.data.map((item) => (
            <tr key={item[idKey]}>
              <td>{item[idKey]}</td>
              {columns(item).map((c, i) => <td key={i} className="wrap">{c}</td>)}
              <td><button className="secondary" onClick={() => { setId(item[idKey]); setText(editable(item, idKey)); }}>Edit<VisuallyHidden> {item[idKey]}</VisuallyHidden></button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Create or replace</h3>
      <div className="form-row">
        <Field label="Id">{(fid) => <input id={fid} placeholder="id" value={id} onChange={(e) => setId(e.target.value)} />}</Field>
      </div>
      <Field label="JSON body">
        {(fid) => <textarea id={fid} rows={10} value={text} onChange={(e) => setText(e.target.value)} placeholder='{"name": ...}' />}
      </Field>
      <ErrorBox error={error} />
      <Note>{saved}</Note>
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
      <Field label="Settings (JSON)">
        {(fid) => <textarea id={fid} rows={20} value={value} onChange={(e) => setText(e.target.value)} />}
      </Field>
      <Note>{saved && "Saved."}</Note>
      <button onClick={save} disabled={!value}>Save (PUT)</button>
    </Card>
  );
}

// ---- Wallets: look up, adjust, grant credits that expire, assign a tier -------------------

/** A datetime-local value (the browser's local time) as an RFC 3339 UTC instant. */
function localToInstant(value: string): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

function Wallets() {
  const [params, setParams] = useSearchParams();
  const [walletId, setWalletId] = useState(params.get("wallet_id") ?? "user:alice");
  const [shown, setShown] = useState<string | null>(null);
  const [wallet, setWallet] = useState<Schemas["WalletOut"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [adjust, setAdjust] = useState({ amount: "", reason: "" });
  const [grant, setGrant] = useState({ amount: "", expires: "", priority: "", reason: "" });
  const [tier, setTier] = useState("");
  const tiers = useLoad(() => api<Schemas["TierList"]>("GET", "/v1/admin/tiers"), []);
  const adjustKey = useIdempotency("dash-adjust");
  const grantKey = useIdempotency("dash-grant");
  const path = (id: string) => `/v1/admin/wallets/${encodeURIComponent(id)}`;
  async function run(id: string, action: () => Promise<string | null>) {
    setError(null);
    setNote(null);
    try {
      setNote(await action());
      try {
        setWallet(await api<Schemas["WalletOut"]>("GET", path(id)));
      } catch (e) {
        // No wallet yet (an organization's, say, before its first credits): adjusting or
        // granting creates it.
        if (!(e instanceof ApiError && e.status === 404 && e.code === "not_found")) throw e;
        setWallet(null);
      }
      setShown(id);
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  function lookUp(id: string) {
    setWallet(null);
    setShown(null);
    setTier("");
    setParams(id ? { wallet_id: id } : {}, { replace: true });
    run(id, async () => null);
  }
  // Opened with ?wallet_id= (the organizations page links here): look it up at once.
  useEffect(() => {
    const id = params.get("wallet_id");
    if (id) {
      setWalletId(id);
      run(id, async () => null);
    }
  }, []);
  useEffect(() => setTier(wallet?.tier ?? ""), [wallet?.tier]);
  const w = shown ? wallet : null;
  const fresh = shown && !wallet;
  return (
    <Card title="Wallets">
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); lookUp(walletId.trim()); }}>
        <Field label="Wallet id">
          {(fid) => <input id={fid} value={walletId} onChange={(e) => setWalletId(e.target.value)} placeholder="user:alice" />}
        </Field>
        <button type="submit" disabled={!walletId.trim()}>Look up</button>
      </form>
      <ErrorBox error={error} />
      <Note>{note}</Note>
      {fresh && <p>There is no wallet <b>{shown}</b> yet: an adjustment or a grant creates it.</p>}
      {shown && (
        <>
          {w && <p>
            <b>{w.wallet_id}</b>: balance <b>{formatCredits(w.balance)}</b> · reserved {formatCredits(w.reserved)} · available{" "}
            {formatCredits(w.available)}
            {w.expiring_soon != null && <> · expiring within 7 days {formatCredits(w.expiring_soon)}</>} · tier {w.tier ?? "none"}
            {w.next_allocation_at ? ` (next allocation ${w.next_allocation_at})` : ""}
            {" · "}<Link to={`/admin/transactions?wallet_id=${encodeURIComponent(w.wallet_id)}`}>its transactions</Link>
          </p>}
          {!!w?.grants?.length && (
            <table>
              <thead>
                <tr><th scope="col">Grant</th><th scope="col">Source</th><th scope="col" className="num">Remaining</th><th scope="col">Expires</th><th scope="col" className="num">Priority</th></tr>
              </thead>
              <tbody>
                {w.grants.map((g) => (
                  <tr key={g.grant_id}>
                    <td>{g.grant_id}</td><td>{g.source}</td><td className="num">{formatCredits(g.remaining)}</td>
                    <td>{g.expires_at ?? "never"}</td><td className="num">{g.priority}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <form onSubmit={(e) => {
            e.preventDefault();
            const body = { amount: adjust.amount.trim(), reason: adjust.reason.trim() };
            run(shown, async () => {
              const out = await api<Schemas["AdjustmentOut"]>("POST", `${path(shown)}/adjustments`, {
                body, idempotencyKey: adjustKey.keyFor({ wallet: shown, ...body }),
              });
              adjustKey.succeeded();
              setAdjust({ amount: "", reason: "" });
              return `Adjusted ${out.wallet_id} by ${formatCredits(out.amount)} (entry ${out.transaction_id}); balance ${formatCredits(out.balance)}.`;
            });
          }}>
            <h3>Adjust</h3>
            <div className="form-row">
              <Field label="Amount" hint="(negative takes credits away)">
                {(fid) => <input id={fid} required inputMode="decimal" placeholder="50 or -10.5" value={adjust.amount} onChange={(e) => setAdjust({ ...adjust, amount: e.target.value })} />}
              </Field>
              <Field label="Reason">
                {(fid) => <input id={fid} required maxLength={500} value={adjust.reason} onChange={(e) => setAdjust({ ...adjust, reason: e.target.value })} />}
              </Field>
              <button type="submit" disabled={!adjust.amount.trim() || !adjust.reason.trim()}>Adjust</button>
            </div>
          </form>
          <form onSubmit={(e) => {
            e.preventDefault();
            const expiresAt = localToInstant(grant.expires);
            if (grant.expires && !expiresAt) {
              setError("Expires at: not a date and time");
              return;
            }
            const body: { amount: string; reason: string; expires_at: string | null; priority?: number } = { amount: grant.amount.trim(), reason: grant.reason.trim(), expires_at: expiresAt };
            if (grant.priority.trim()) {
              if (!/^\d{1,4}$/.test(grant.priority.trim())) {
                setError("Priority: a whole number from 0 to 1000");
                return;
              }
              body.priority = Number(grant.priority.trim());
            }
            run(shown, async () => {
              const out = await api<Schemas["GrantOut"]>("POST", `${path(shown)}/grants`, {
                body, idempotencyKey: grantKey.keyFor({ wallet: shown, ...body }),
              });
              grantKey.succeeded();
              setGrant({ amount: "", expires: "", priority: "", reason: "" });
              return `Granted ${formatCredits(out.amount)} credits (${out.grant_id}), expiring ${out.expires_at ?? "never"}; balance ${formatCredits(out.balance)}.`;
            });
          }}>
            <h3>Grant credits</h3>
            <div className="form-row">
              <Field label="Amount">
                {(fid) => <input id={fid} required inputMode="decimal" placeholder="20" value={grant.amount} onChange={(e) => setGrant({ ...grant, amount: e.target.value })} />}
              </Field>
              <Field label="Expires at" hint="(your local time; empty: never)">
                {(fid) => <input id={fid} type="datetime-local" value={grant.expires} onChange={(e) => setGrant({ ...grant, expires: e.target.value })} />}
              </Field>
              <Field label="Priority" hint="(0-1000, default 0)">
                {(fid) => <input id={fid} type="number" min={0} max={1000} step={1} style={{ width: "5rem" }} value={grant.priority} onChange={(e) => setGrant({ ...grant, priority: e.target.value })} />}
              </Field>
              <Field label="Reason">
                {(fid) => <input id={fid} required maxLength={500} placeholder="promo" value={grant.reason} onChange={(e) => setGrant({ ...grant, reason: e.target.value })} />}
              </Field>
              <button type="submit" disabled={!grant.amount.trim() || !grant.reason.trim()}>Grant</button>
            </div>
          </form>
          <form onSubmit={(e) => {
            e.preventDefault();
            run(shown, async () => {
              await api("PUT", `${path(shown)}/tier`, { body: { tier_id: tier || null } });
              return tier ? `Subscribed ${shown} to ${tier}.` : `Ended ${shown}'s subscription.`;
            });
          }}>
            <h3>Tier</h3>
            <div className="form-row">
              <Field label="Tier">
                {(fid) => (
                  <select id={fid} value={tier} onChange={(e) => setTier(e.target.value)}>
                    <option value="">none (end the subscription)</option>
                    {tiers.data?.data.map((t) => <option key={t.tier_id} value={t.tier_id}>{t.name}</option>)}
                  </select>
                )}
              </Field>
              <button type="submit">Assign</button>
            </div>
          </form>
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
      <Field label="Status">
        {(fid) => (
          <select id={fid} value={status} onChange={(e) => setStatus(e.target.value)}>
            {["pending_approval", "approved", "rejected", "processing", "succeeded", "failed"].map((s) => <option key={s}>{s}</option>)}
          </select>
        )}
      </Field>
      <ErrorBox error={first.error ?? error} />
      <table>
        <thead><tr><th scope="col">Refund</th><th scope="col">Wallet</th><th scope="col">Status</th><th scope="col" className="num">Credits</th><th scope="col" className="num">Amount</th><th scope="col">Reason</th><th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th></tr></thead>
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
                <BarChart label="Credits spent by day" bars={a.series.map((p) => ({ label: p.period, value: p.credits_out.usage ?? "0" }))} />
              </div>
              <div>
                <h3>Credits bought by day</h3>
                <BarChart label="Credits bought by day" bars={a.series.map((p) => ({ label: p.period, value: p.credits_in.purchase ?? "0" }))} />
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

const EXPORT_TYPES = ["usage", "adjustment", "purchase", "refund", "refund_reversal", "chargeback", "reversal",
  "allocation", "expiry", "payout", "grant"];

function Exports() {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(today.slice(0, 8) + "01");
  const [to, setTo] = useState(today);
  const [type, setType] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const list = usePages(
    (cursor) => api<Schemas["ExportList"]>("GET", "/v1/admin/exports", { query: { limit: 20, cursor } }),
    [],
  );
  // While an export is running, read the list again every 2 seconds (for up to a minute).
  const polls = useRef(0);
  const running = list.rows.some((x) => x.status === "running");
  useEffect(() => {
    if (!running || list.loading || polls.current >= 30) return;
    const timer = window.setTimeout(() => {
      polls.current += 1;
      list.reload();
    }, 2000);
    return () => window.clearTimeout(timer);
  }, [running, list.rows, list.loading]);
  async function start(ev: FormEvent) {
    ev.preventDefault();
    setError(null);
    setNote(null);
    setBusy(true);
    try {
      const out = await api<Schemas["ExportOut"]>("POST", "/v1/admin/exports", { body: { from, to, type: type || null } });
      setNote(`Started ${out.export_id}.`);
      polls.current = 0;
      list.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Card title="Exports (ledger CSV)">
      <form className="form-row" onSubmit={start}>
        <Field label="From">{(fid) => <input id={fid} type="date" required value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
        <Field label="To">{(fid) => <input id={fid} type="date" required value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
        <Field label="Type">
          {(fid) => (
            <select id={fid} value={type} onChange={(e) => setType(e.target.value)}>
              <option value="">every type</option>
              {EXPORT_TYPES.map((t) => <option key={t}>{t}</option>)}
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>{busy ? "Starting…" : "Export"}</button>
        <button type="button" className="secondary" onClick={() => { polls.current = 0; list.reload(); }}>Refresh<VisuallyHidden> exports</VisuallyHidden></button>
      </form>
      <ErrorBox error={error ?? list.error} />
      <Note>{note}</Note>
      <table>
        <thead>
          <tr>
            <th scope="col">Export</th><th scope="col">Status</th><th scope="col">Range</th><th scope="col" className="num">Rows</th>
            <th scope="col" className="num">Size (bytes)</th><th scope="col">Requested</th><th scope="col">Download</th>
          </tr>
        </thead>
        <tbody>
          {list.rows.map((x) => (
            <tr key={x.export_id}>
              <td className="wrap">{x.export_id}</td>
              <td><Status value={x.status} />{x.error ? ` ${x.error}` : ""}</td>
              <td>{x.from_date} – {x.to_date}{x.type ? ` (${x.type})` : ""}</td>
              <td className="num">{x.rows.toLocaleString("en-US")}</td>
              <td className="num">{x.size_bytes.toLocaleString("en-US")}</td>
              <td>{x.created_at}<div className="muted">by {x.requested_by}</div></td>
              <td>
                {x.url ? (
                  <a href={x.url}>CSV<VisuallyHidden> of {x.export_id}</VisuallyHidden></a>
                ) : x.status === "completed" ? (
                  <span className="muted">expired</span>
                ) : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreButton list={list} empty="No exports yet." />
      <p className="muted">Newest first. A download link works for 15 minutes: refresh the list for a fresh one; a CSV is kept 7 days.</p>
    </Card>
  );
}
